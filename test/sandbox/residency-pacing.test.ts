// Residency's bookkeeping on its own (residency.test.ts drives it through real interpreters):
// at the budget, evictions wait for the starts already admitted, so that an idle session is not
// evicted for memory no start can use yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Residency, type Resident } from '../../src/sandbox/residency.ts';
import { silentLogger } from '../../src/util/log.ts';

/** A session that holds an interpreter and is idle; release() gives it up at once. */
function idleResident(residency: Residency, lastUsed: number): Resident & { released: number } {
  const r = {
    holds: true,
    evictable: true,
    forcible: true,
    lastUsed,
    released: 0,
    async release() {
      r.released++;
      r.holds = r.evictable = r.forcible = false;
      residency.dropped();
      return true;
    },
  };
  residency.add(r);
  return r;
}

/** A session that wants an interpreter. */
function newcomer(residency: Residency): Resident {
  const r: Resident = { holds: false, evictable: false, forcible: false, lastUsed: 0, release: async () => false };
  residency.add(r);
  return r;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('at the budget, a newcomer evicts only once the starts admitted before it are under the limit', async () => {
  const residency = new Residency(3, silentLogger, 2);
  // One session holds an interpreter and is idle (it was admitted and its interpreter arrived).
  const idle = idleResident(residency, 1);
  await residency.acquire(idle);
  residency.arrived();
  // Two more are admitted and wait for their starts: the budget (3) is full, 2 starts pending.
  const a = newcomer(residency);
  const b = newcomer(residency);
  await residency.acquire(a);
  await residency.acquire(b);
  assert.equal(residency.heldCount, 3);

  let admitted = false;
  const late = newcomer(residency);
  const waiting = residency.acquire(late).then(() => (admitted = true));
  await settle();
  assert.deepEqual([idle.released, admitted], [0, false], 'two starts pending: the idle session keeps its interpreter');

  residency.arrived(); // a's interpreter started: one start pending, under the limit of 2
  await waiting;
  assert.deepEqual([idle.released, admitted, residency.heldCount], [1, true, 3], 'now the idle session is evicted for the newcomer');
});

test('a failed start frees its place and wakes a waiting newcomer', async () => {
  const residency = new Residency(1, silentLogger, 1);
  await residency.acquire(newcomer(residency)); // admitted, its start pending
  let admitted = false;
  const waiting = residency.acquire(newcomer(residency)).then(() => (admitted = true));
  await settle();
  assert.equal(admitted, false);
  residency.failed();
  await waiting;
  assert.deepEqual([admitted, residency.heldCount], [true, 1]);
});
