// The bot's lifecycle with the real chat layer, session store and HTTP server; the research engine
// is a scripted stand-in whose pace the test controls (the serve test runs the real engine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CHAT_LIMITS } from '../../src/chat/limits.ts';
import { createChatService } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import type { ThreadSurface, ThreadView } from '../../src/chat/types.ts';
import type { ResearchEngine, ResearchEvent } from '../../src/engine/events.ts';
import { startBot } from '../../src/ops/bot.ts';
import { silentLogger } from '../../src/util/log.ts';
import type { PlatformAdapter } from '../../src/platforms/types.ts';
import { createSlackAdapter } from '../../src/platforms/slack/index.ts';
import { parseConfig } from '../../src/config.ts';
import { postSignedEvent, startFakeSlack } from '../fakes/slack.ts';

const MODEL = 'Intelligent-Internet/II-Search-CIR-4B';

async function modelsServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [{ id: MODEL }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** One step, then waits for `release` (or the abort signal), then answers. */
function gatedEngine() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let stepped!: () => void;
  const firstStep = new Promise<void>((r) => (stepped = r));
  const engine: ResearchEngine = {
    async *research(input): AsyncIterable<ResearchEvent> {
      yield { type: 'started', sessionId: input.sessionId ?? 's', question: input.question, maxSteps: 32, at: Date.now() };
      yield { type: 'code', step: 1, code: 'print(web_search("x"))' };
      yield { type: 'observation', step: 1, output: 'results', error: null, stateLost: false, durationMs: 42 };
      stepped();
      const aborted = new Promise<void>((r) => input.signal?.addEventListener('abort', () => r(), { once: true }));
      await Promise.race([released, aborted]);
      if (input.signal?.aborted) {
        yield { type: 'cancelled' };
        return;
      }
      yield { type: 'answer', text: 'It is Paris.', citations: [], steps: 1, usage: { promptTokens: 900, completionTokens: 70 }, durationMs: 5 };
    },
  };
  return { engine, release, firstStep };
}

/** A platform adapter for tests: POST /test/ask submits a question; renders are recorded. */
function testAdapter(chat: ReturnType<typeof createChatService>) {
  const views: ThreadView[] = [];
  const notes: string[] = [];
  const calls: string[] = [];
  const surface: ThreadSurface = {
    async render(v) {
      views.push(structuredClone(v));
    },
    async notify(t) {
      notes.push(t);
    },
    async attachTrace() {},
  };
  const adapter: PlatformAdapter = {
    name: 'slack',
    async start() {
      calls.push('start');
    },
    async stop() {
      calls.push('stop');
    },
    status: () => ({ connected: calls.at(-1) === 'start' }),
    routes: [
      {
        method: 'POST',
        path: '/test/ask',
        async handle(req, res) {
          let body = '';
          for await (const c of req) body += c;
          const out = await chat.submit(
            { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: '1.0', userId: 'U1', question: body },
            surface,
            { minIntervalMs: 0 },
          );
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
        },
      },
    ],
  };
  return { adapter, views, notes, calls };
}

async function setup(graceMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'cir-bot-'));
  const llm = await modelsServer();
  const gated = gatedEngine();
  const store = openSessionStore(dir);
  const chat = createChatService({ engine: gated.engine, store, limits: DEFAULT_CHAT_LIMITS, logger: silentLogger });
  const t = testAdapter(chat);
  let engineClosed = false;
  const bot = await startBot({
    http: { port: 0, host: '127.0.0.1' },
    llm: { baseUrl: llm.url, model: MODEL },
    sandboxPoolSize: 1,
    shutdownGraceMs: graceMs,
    logger: silentLogger,
    engine: {
      engine: gated.engine,
      sandbox: { status: () => ({ ready: 1, busy: 0, idle: 0, starting: 0, saved: 0, savedChars: 0, live: 1, maxLive: 17, isolation: { network: 'netns', fsPermission: true } }) },
      close() {
        engineClosed = true;
      },
    },
    store,
    chat,
    adapters: [t.adapter],
  });
  const base = `http://127.0.0.1:${bot.port}`;
  return {
    ...t,
    ...gated,
    bot,
    base,
    engineClosed: () => engineClosed,
    async ask(q: string) {
      return (await (await fetch(`${base}/test/ask`, { method: 'POST', body: q })).json()) as { accepted: boolean; sessionId: string };
    },
    async cleanup() {
      await llm.close();
      rmSync(dir, { recursive: true, force: true });
    },
    reopenStore: () => openSessionStore(dir),
  };
}

test('a session finishing within the grace period is answered; metrics show it; everything closes', async () => {
  const s = await setup(30_000);
  try {
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    const out = await s.ask('What is the capital of France?');
    assert.equal(out.accepted, true);
    await s.firstStep;

    const stopping = s.bot.shutdown('SIGTERM');
    // New work is refused at once: the platform was stopped first.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(s.calls, ['start', 'stop']);
    s.release();
    await stopping;

    const final = s.views.at(-1)!;
    assert.equal(final.status.state, 'done');
    assert.equal(final.answer?.text, 'It is Paris.');
    const text = await s.bot.metrics.render();
    assert.match(text, /cir_sessions_total\{outcome="answered"\} 1/);
    assert.match(text, /cir_steps_total 1/);
    assert.match(text, /cir_model_tokens_total\{kind="prompt"\} 900/);
    assert.match(text, /cir_step_duration_seconds_count 1/);
    assert.equal(s.engineClosed(), true);
    await assert.rejects(fetch(`${s.base}/healthz`), 'the HTTP server is closed');
    const store = s.reopenStore();
    try {
      assert.equal(store.getSession(out.sessionId)?.status, 'done');
    } finally {
      store.close();
    }
  } finally {
    await s.cleanup();
  }
});

test('a session still running after the grace period is stopped, its thread told, the store says interrupted', async () => {
  const s = await setup(100);
  try {
    const out = await s.ask('A slow question');
    assert.equal(out.accepted, true);
    await s.firstStep;
    await s.bot.shutdown('SIGTERM');
    const final = s.views.at(-1)!;
    assert.equal(final.status.state, 'interrupted');
    assert.match(await s.bot.metrics.render(), /cir_sessions_total\{outcome="interrupted"\} 1/);
    const store = s.reopenStore();
    try {
      assert.equal(store.getSession(out.sessionId)?.status, 'interrupted');
    } finally {
      store.close();
    }
    // shutdown is idempotent
    await s.bot.shutdown('SIGINT');
  } finally {
    await s.cleanup();
  }
});

test("the Slack adapter's HTTP route is served on the bot's port: signed events in, bad signatures out", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-bot-'));
  const llm = await modelsServer();
  const slack = await startFakeSlack();
  const secret = 'route-test-signing-secret';
  const env = parseConfig({ SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: secret, SLACK_API_URL: slack.apiUrl });
  const gated = gatedEngine();
  const store = openSessionStore(dir);
  const chat = createChatService({ engine: gated.engine, store, limits: DEFAULT_CHAT_LIMITS, logger: silentLogger });
  const bot = await startBot({
    http: { port: 0, host: '127.0.0.1' },
    llm: { baseUrl: llm.url, model: MODEL },
    sandboxPoolSize: 0,
    shutdownGraceMs: 0,
    logger: silentLogger,
    engine: { engine: gated.engine, close() {} },
    store,
    chat,
    adapters: [createSlackAdapter({ env, chat, logger: silentLogger })],
  });
  try {
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    const ok = await postSignedEvent(url, secret, { type: 'url_verification', challenge: 'chal-123', token: 'x' });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /chal-123/);
    const forged = await postSignedEvent(url, secret, { type: 'url_verification', challenge: 'chal-456' }, { secret: 'wrong' });
    assert.equal(forged.status, 401);
    const health = (await (await fetch(`http://127.0.0.1:${bot.port}/healthz`)).json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(health.checks['platform:slack'].ok, true);
  } finally {
    await bot.shutdown('test');
    await Promise.all([llm.close(), slack.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
