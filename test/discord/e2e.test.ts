// /research -> thread -> steps -> cited answer with the real engine (src/wiring/engine.ts: prompts,
// Pyodide sandbox, web tools) against the fake model, fake SearXNG and fake web, and the real chat
// service and Discord adapter against the fake Discord.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARTICLES } from '../fakes/web.ts';
import { codeStep, startResearchStack } from '../fakes/research-stack.ts';
import { botMessages, startRig } from './helpers.ts';

test('/research is researched by the real engine and answered in its thread with a read source and the trace', async () => {
  const article = ARTICLES[0];
  const stack = await startResearchStack(([articleUrl, breadUrl], { call }) => {
    if (call === 0) return codeStep('print(web_search("how volcanoes shape islands"))');
    if (call === 1) return codeStep(`page = web_visit("${articleUrl}")\nprint(page[:400])`);
    return `The page explains it.\n</think>\n\nIslands grow as lava cools into new coastline [${article.title}](${articleUrl}).\n\nSourdough is unrelated [The Slow Science of Sourdough](${breadUrl}).`;
  });
  const articleUrl = stack.articleUrls[0];
  const rig = await startRig({ engine: stack.engine });
  const { fake } = rig;
  try {
    const it = fake.slashCommand({ question: 'How do volcanoes shape islands?' });
    await fake.waitFor(() => fake.requests.find((r) => r.path.startsWith(`/interactions/${it.id}/`)), 'ack');
    const starter = fake.channelMessages(fake.channelId).find((m) => m.webhook_id)!;
    const threadId = await fake.waitFor(() => fake.threadFor(starter.id), 'thread');
    await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.attachments.length), 'answer and trace', 90_000);
    await rig.chat.idle();

    const msgs = botMessages(fake, threadId);
    assert.match(msgs[0].content, /✅ \*\*Done\*\* · 2 steps/);
    assert.match(msgs[0].content, /```py\nprint\(web_search\("how volcanoes shape islands"\)\)\n```/);
    assert.match(msgs[0].content, /`web_visit\(http:\/\/127\.0\.0\.1:\d+\/articles\/volcano\)`/);
    const answer = msgs.find((m) => m.content.startsWith(`<@${fake.user.id}>`))!;
    assert.match(answer.content, /lava cools into new coastline/);
    assert.ok(answer.content.length <= 2000);
    assert.ok(answer.content.includes(`(<${articleUrl}>) · 127.0.0.1 · *read*`), answer.content);
    assert.match(answer.content, /Sourdough.*only seen in search results/s);
    const upload = fake.requests.find((r) => r.files.length)!;
    assert.match(upload.files[0].content, /Kilauea caldera/, 'the trace has the full observation');
  } finally {
    await rig.close();
    await stack.close();
  }
});
