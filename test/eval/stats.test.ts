import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wilson } from '../../src/eval/stats.ts';

const close = (a: number, b: number, eps = 5e-4) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('Wilson interval matches reference values', () => {
  // 81 of 263 (a textbook example): 0.2553 .. 0.3662
  const a = wilson(81, 263);
  close(a.low, 0.2553);
  close(a.high, 0.3662);
  // 9 of 10
  const b = wilson(9, 10);
  close(b.low, 0.5958);
  close(b.high, 0.9821);
});

test('Wilson interval at the edges stays inside [0, 1] and is not degenerate', () => {
  const zero = wilson(0, 20);
  assert.equal(zero.low, 0);
  assert.ok(zero.high > 0.1 && zero.high < 0.2);
  const all = wilson(20, 20);
  assert.equal(all.high, 1);
  assert.ok(all.low > 0.8 && all.low < 0.9);
  assert.deepEqual(wilson(0, 0), { low: 0, high: 1 });
  assert.throws(() => wilson(5, 3), RangeError);
});
