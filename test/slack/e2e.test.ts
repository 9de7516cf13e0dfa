// Mention -> thread -> steps -> cited answer with the real engine (src/wiring/engine.ts: prompts,
// Pyodide sandbox, web tools) against the fake model server, fake SearXNG and fake web, and the
// real chat service and Slack adapter against the fake Slack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerMessages, shown } from './answers.ts';
import { ARTICLES } from '../fakes/web.ts';
import { codeStep, startResearchStack } from '../fakes/research-stack.ts';
import { mention, newTs, startHarness } from './harness.ts';

test('a Slack mention is researched by the real engine and answered with a cited, read source', async () => {
  const article = ARTICLES[0];
  const stack = await startResearchStack(([articleUrl], { call }) => {
    if (call === 0) return codeStep('print(web_search("how volcanoes shape islands"))');
    if (call === 1) return codeStep(`page = web_visit("${articleUrl}")\nprint(page[:400])`);
    return `The page explains it.\n</think>\n\nIslands grow as lava cools into new coastline, per [${article.title}](${articleUrl}).`;
  });
  const articleUrl = stack.articleUrls[0];
  const h = await startHarness({ engine: stack.engine });
  try {
    const ts = newTs();
    assert.equal(await h.post(mention('how do volcanoes shape islands?', { ts })), 200);
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed), 90_000, 'answer and trace');
    await h.chat.idle();

    const thread = h.fake.thread('C00FAKECHAN1', ts);
    assert.match(JSON.stringify(thread[0].blocks), /Done: 2 steps/);
    const stream = thread.find((m) => m.streaming)!;
    const titles = stream.chunks.filter((c) => c.type === 'task_update' && c.status === 'complete').map((c) => String(c.title));
    assert.ok(titles.some((t) => t.includes('search “how volcanoes shape islands”')), titles.join(' | '));
    assert.ok(titles.some((t) => t.includes('read 127.0.0.1/articles/volcano')), titles.join(' | '));
    const [answerMsg] = answerMessages(thread);
    const answer = shown(answerMsg);
    assert.match(answer, /new coastline/);
    // Streamed as Markdown: the [1] citation links to the page that was read.
    assert.ok(answerMsg.text.includes(`[[1](${articleUrl})]`), answerMsg.text);
    assert.match(answer, /1 read\)/);
    assert.doesNotMatch(answer, /only seen/);
    assert.match(h.fake.files[0].content, /Kilauea caldera/, 'the trace has the full observation');
  } finally {
    await h.close();
    await stack.close();
  }
});
