// The downloadable trace names every reason the engine gives for concluding early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionRecord } from '../../src/chat/store.ts';
import { renderTrace } from '../../src/chat/trace.ts';

const rec: SessionRecord = {
  id: 's1',
  ref: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: '1.1' },
  userId: 'U1',
  question: 'q',
  status: 'done',
  createdAt: 0,
  startedAt: 0,
  finishedAt: 1,
  answer: 'a',
  citations: [],
  error: null,
  cancelledBy: null,
  sourceEventId: null,
  steps: 1,
};

test('trace: each concluding reason has its own label', () => {
  const label = (reason: 'steps' | 'context' | 'stalled') =>
    renderTrace(rec, [{ seq: 0, at: 0, event: { type: 'concluding', reason } }]).split('\n').find((l) => l.startsWith('## Concluding'));
  assert.equal(label('steps'), '## Concluding (step budget exhausted)');
  assert.equal(label('context'), '## Concluding (context exhausted)');
  assert.equal(label('stalled'), '## Concluding (the model stalled without code or an answer)');
});
