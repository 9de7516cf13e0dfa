// Socket Mode: apps.connections.open through SLACK_API_URL, the fake's WebSocket says hello, events
// arrive as envelopes that the adapter acks by envelope_id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEngine, researchScript, UNTIL_STOPPED } from '../fakes/scripted-engine.ts';
import { mention, newTs, startHarness } from './harness.ts';

test('Socket Mode: mention envelope acked, research answered in the thread, Stop via interactive envelope', async () => {
  const engine = new ScriptedEngine((input) => (input.question === 'long' ? UNTIL_STOPPED : researchScript(1)));
  const h = await startHarness({ engine, socketMode: true });
  try {
    assert.equal(h.adapter.routes.length, 0, 'no HTTP route in Socket Mode');
    await h.fake.waitFor(() => h.fake.socketConnected(), 10000, 'socket connection');
    assert.equal(h.fake.callsOf('apps.connections.open').length >= 1, true);
    assert.equal(h.adapter.status().connected, true);

    const ts = newTs();
    const body = mention('over the socket', { ts });
    const ack = await h.fake.sendEnvelope('events_api', body);
    assert.ok(ack.envelope_id, 'ack carries the envelope id');
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed && f.thread_ts === ts), 15000, 'answer + trace');
    assert.deepEqual(engine.inputs.map((i) => i.question), ['over the socket']);

    // Slack redelivers the same event: no second research.
    await h.fake.sendEnvelope('events_api', body);
    await h.chat.idle();
    assert.equal(engine.inputs.length, 1);

    const ts2 = newTs();
    await h.fake.sendEnvelope('events_api', mention('long', { ts: ts2 }));
    await h.fake.waitFor(() => h.fake.thread('C00FAKECHAN1', ts2).length > 0, 10000, 'status message');
    const status = h.fake.thread('C00FAKECHAN1', ts2)[0];
    const value = JSON.stringify(status.blocks).match(/"cir_stop","value":"([^"]+)"/)![1];
    const interactiveAck = await h.fake.sendEnvelope('interactive', {
      type: 'block_actions',
      user: { id: 'U00FAKEUSER1', team_id: 'T00FAKE00AA' },
      team: { id: 'T00FAKE00AA' },
      container: { type: 'message', message_ts: status.ts, channel_id: 'C00FAKECHAN1', thread_ts: ts2 },
      actions: [{ type: 'button', action_id: 'cir_stop', value }],
    });
    assert.ok(interactiveAck.envelope_id);
    await h.fake.waitFor(() => JSON.stringify(h.fake.thread('C00FAKECHAN1', ts2)[0].blocks).includes('Stopped by'), 15000, 'stopped');

    await h.adapter.stop();
    await h.fake.waitFor(() => !h.fake.socketConnected(), 10000, 'socket closed on stop');
    assert.equal(h.adapter.status().connected, false);
  } finally {
    await h.close();
  }
});
