// Secrets never reach chat or logs (issue 13): URL credentials in CIR_LLM_BASE_URL, and an API key
// echoed back by a model server's error body. The real engine runs against the servers; the chat
// side is the thread view the platforms render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, secretValues } from '../../src/config.ts';
import type { ResearchEvent } from '../../src/engine/events.ts';
import { buildEngine } from '../../src/wiring/engine.ts';
import { createLogger } from '../../src/util/log.ts';
import { forChat, scrubText } from '../../src/util/scrub.ts';
import { initialThreadView, reduceThreadView } from '../../src/chat/view.ts';
import { statusLine } from '../../src/chat/messages.ts';
import { startEchoingLlm } from '../fakes/echoing-llm.ts';

const KEY = 'sk-live-4f9b2c7e1d3a8f6b';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Runs one research with the real engine; returns its events, the chat thread's text and the log. */
async function research(vars: Record<string, string>): Promise<{ events: ResearchEvent[]; thread: string; logs: string }> {
  const env = parseConfig({ CIR_SEARCH_PROVIDER: 'searxng', CIR_SEARXNG_URL: 'http://127.0.0.1:9/', CIR_SANDBOX_POOL_SIZE: '0', ...vars });
  const file = join(mkdtempSync(join(tmpdir(), 'cir-secrets-')), 'log.ndjson');
  const fd = openSync(file, 'w');
  const logger = createLogger('debug', fd, secretValues(env));
  const built = await buildEngine(env, logger);
  const events: ResearchEvent[] = [];
  try {
    for await (const ev of built.engine.research({ question: 'What is new?', sessionId: 's1' })) events.push(ev);
  } finally {
    await built.close();
  }
  // The fd stays open: a late line (a background probe finishing) must not hit a closed descriptor.
  logger.flush();
  const req = { platform: 'slack' as const, workspaceId: 'T1', channelId: 'C1', threadId: '1.1', userId: 'U1', question: 'What is new?' };
  let view = initialThreadView('s1', req, 8, 0);
  for (const ev of events) view = reduceThreadView(view, ev as never, 1);
  return { events, thread: `${statusLine(view.status)}\n${JSON.stringify(view)}`, logs: readFileSync(file, 'utf8') };
}

test('CIR_LLM_BASE_URL with credentials, unreachable: neither chat nor logs show them', async () => {
  const port = await closedPort();
  const { events, thread, logs } = await research({ CIR_LLM_BASE_URL: `http://admin:pass@127.0.0.1:${port}/v1` });
  const error = events.find((e) => e.type === 'error');
  assert.ok(error && error.type === 'error', JSON.stringify(events));
  assert.match(error.message, /model server/); // names the part that failed
  assert.match(error.message, /CIR_LLM_BASE_URL/); // and what to do
  for (const [where, text] of [['event', JSON.stringify(events)], ['thread', thread], ['logs', logs]] as const)
    assert.ok(!text.includes('admin:pass') && !text.includes('admin'), `${where} has the credentials: ${text}`);
  assert.ok(!thread.includes(`127.0.0.1:${port}`), `the thread shows the internal address: ${thread}`);
  assert.match(thread, /model server/);
  assert.ok(logs.length > 0, 'nothing was logged: the check above proves nothing');
});

test('a model server whose 400 body echoes the headers: the key reaches no event, thread or log', async () => {
  const llm = await startEchoingLlm();
  try {
    const { events, thread, logs } = await research({ CIR_LLM_BASE_URL: llm.baseUrl, CIR_LLM_API_KEY: KEY });
    assert.ok(llm.authorizations.includes(`Bearer ${KEY}`), 'the key was not sent: the test proves nothing');
    const error = events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error', JSON.stringify(events));
    assert.match(error.message, /HTTP 400/);
    for (const [where, text] of [['event', JSON.stringify(events)], ['thread', thread], ['logs', logs]] as const) {
      assert.ok(!text.includes(KEY), `${where} has the key: ${text}`);
      assert.ok(!text.includes('4f9b2c7e'), `${where} has part of the key: ${text}`);
    }
    assert.ok(logs.length > 0, 'nothing was logged: the check above proves nothing');
  } finally {
    await llm.close();
  }
});

test('scrubText drops URL credentials, credential headers and configured secrets; forChat drops addresses', () => {
  const raw = `GET http://u:p@10.0.0.5:8000/v1 failed; {"authorization":"Bearer abc.def-123","x-api-key":"k-999999"} Cookie: sid=42; token ${KEY}`;
  const out = scrubText(raw, [KEY]);
  for (const bad of ['u:p@', 'abc.def-123', 'k-999999', 'sid=42', KEY]) assert.ok(!out.includes(bad), `${bad} in ${out}`);
  assert.match(out, /http:\/\/10\.0\.0\.5:8000\/v1 failed/);
  assert.equal(forChat('model server HTTP 500 at http://10.0.0.5:8000/v1: boom'), 'model server HTTP 500 at (the configured server): boom');
});
