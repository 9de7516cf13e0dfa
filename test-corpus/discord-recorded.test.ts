// Recorded Discord gateway traffic (the corpus: gateway-discord.json) replayed through the fake
// Discord into the real adapter and chat service: what Discord really sent must be handled like
// our own fixtures (test/discord/gateway.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ScriptedEngine, type Step } from '../test/fakes/scripted-engine.ts';
import { botMessages, startRig, waitForBotText } from '../test/discord/helpers.ts';
import { CORPUS_PAYLOADS } from './corpus.ts';

type Json = Record<string, any>;
const steps: Step[] = [{ code: 'print(1 + 1)', output: '2' }];

test('recorded traffic: mention -> thread, thread reply -> follow-up, the rest ignored', async () => {
  const fx: Json = JSON.parse(readFileSync(join(CORPUS_PAYLOADS, 'gateway-discord.json'), 'utf8'));
  const m = fx.metadata;
  const eng = new ScriptedEngine({ steps, answer: 'Replayed answer.' });
  const rig = await startRig({
    engine: eng,
    env: { DISCORD_MESSAGE_CONTENT: 'true' },
    fakeOptions: { ids: { botId: m.botId, guildId: m.guildId, channelId: m.channelId, userId: m.userId, userName: m.userName } },
  });
  const { fake } = rig;
  try {
    // Recorded entries are either {type: 'GATEWAY_<EVENT>', data} or a bare interaction.
    const replay = (name: string) => {
      const p = fx[name];
      if (p.type?.startsWith?.('GATEWAY_')) fake.replay(p.type.slice('GATEWAY_'.length), p.data);
      else fake.replay('INTERACTION_CREATE', p);
    };
    replay('gatewayRoleMention');
    replay('gatewayBotWelcome');
    replay('gatewayReactionAdd');
    replay('buttonClickHello');
    replay('gatewayMention');
    const threadId = await fake.waitFor(() => fake.threadFor(fx.gatewayMention.data.id), 'thread on the recorded mention');
    assert.equal(threadId, m.threadId, 'same thread id as in the recording');
    await waitForBotText(fake, threadId, 'Replayed answer.');
    assert.deepEqual(eng.inputs.map((i) => i.question), ['Hey']);
    replay('gatewayThreadCreate');
    replay('gatewaySubscribedMessage');
    await fake.waitFor(() => eng.inputs.length === 2, 'follow-up from the recorded thread reply');
    assert.equal(eng.inputs[1].question, 'Hey');
    assert.equal(eng.inputs[1].history?.length, 1);
    await fake.waitFor(() => botMessages(fake, threadId).filter((msg) => msg.content.includes('Replayed answer.')).length === 2, 'second answer');
    // Nothing answered the unknown button or the role mention.
    assert.ok(!fake.requests.some((r) => r.path.startsWith(`/interactions/${fx.buttonClickHello.id}/`)));
    assert.equal(eng.inputs.length, 2);
  } finally {
    await rig.close();
  }
});
