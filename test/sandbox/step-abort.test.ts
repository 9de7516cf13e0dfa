// A block's end reaches its tool calls: a web_visit in flight when the step times out is aborted
// (its fetch and its parse job stop), instead of running on after the step has ended.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { recordingTools, STEP, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
let session: SandboxSession;
const signals: AbortSignal[] = [];

before(async () => {
  sandbox = await testSandbox(1);
  session = await sandbox.open({
    ...recordingTools(),
    // A visit that only ends when it is aborted.
    webVisit: (_url, signal) =>
      new Promise<string>((_resolve, reject) => {
        if (!signal) return reject(new Error('no step signal given to the tool call'));
        signals.push(signal);
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
  });
});

after(async () => {
  await session?.close();
  await sandbox?.close();
});

test('a web_visit in flight when the step times out gets its abort signal fired', async () => {
  const r = await session.run('web_visit("https://slow.example/")', { timeoutMs: 600 });
  assert.equal(r.stopped, 'timeout');
  assert.equal(signals.length, 1, `the tool call got no signal: ${r.error ?? ''}`);
  assert.equal(signals[0].aborted, true);
  assert.equal((await session.run('print(1 + 1)', STEP)).output, '2\n');
});
