import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../src/ops/http.ts';
import { createHealthCheck, displayUrl } from '../../src/ops/health.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { silentLogger } from '../../src/util/log.ts';
import type { SandboxStatus } from '../../src/sandbox/types.ts';

const MODEL = 'Intelligent-Internet/II-Search-CIR-4B';

/** A model server that only answers GET /v1/models with the given ids. */
async function modelsServer(ids: string[]): Promise<{ url: string; seenAuth: string[]; close(): Promise<void> }> {
  const seenAuth: string[] = [];
  const server: Server = createServer((req, res) => {
    seenAuth.push(String(req.headers.authorization ?? ''));
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model' })) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, seenAuth, close: () => new Promise((r) => server.close(() => r())) };
}

const sandboxReady = (): SandboxStatus => ({
  ready: 2,
  busy: 0,
  idle: 0,
  starting: 0,
  saved: 0,
  savedChars: 0,
  live: 2,
  maxLive: 17,
  isolation: { network: 'netns', fsPermission: true },
});

async function bot(opts: Parameters<typeof createHealthCheck>[0], routes: Parameters<typeof createHttpServer>[0]['routes'] = []) {
  const metrics = createMetrics({ defaultMetrics: false });
  const http = createHttpServer({
    port: 0,
    host: '127.0.0.1',
    routes,
    health: createHealthCheck({ cacheMs: 0, ...opts }),
    metrics,
    logger: silentLogger,
  });
  const port = await http.listen();
  return { base: `http://127.0.0.1:${port}`, http, metrics };
}

test('healthz is 200 when the model is served, the pool is ready and platforms are connected', async () => {
  const llm = await modelsServer(['other', MODEL]);
  const b = await bot({
    llm: { baseUrl: llm.url, model: MODEL, apiKey: 'sk-test' },
    sandbox: sandboxReady,
    platforms: () => [{ name: 'slack', status: () => ({ connected: true }) }],
  });
  try {
    const res = await fetch(`${b.base}/healthz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { ok: boolean; problems: string[]; checks: Record<string, { ok: boolean }> };
    assert.equal(body.ok, true);
    assert.deepEqual(body.problems, []);
    assert.equal(body.checks['platform:slack'].ok, true);
    assert.equal(body.checks.sandbox.ok, true);
    assert.equal(llm.seenAuth[0], 'Bearer sk-test');
  } finally {
    await b.http.close();
    await llm.close();
  }
});

test('healthz is 503 and says why: wrong model, pool not ready, platform down', async () => {
  const llm = await modelsServer(['some/other-model']);
  const b = await bot({
    llm: { baseUrl: llm.url, model: MODEL },
    sandbox: () => ({ ...sandboxReady(), ready: 0, starting: 2 }),
    sandboxPoolSize: 2,
    platforms: () => [{ name: 'discord', status: () => ({ connected: false, detail: 'gateway closed 4004' }) }],
  });
  try {
    const res = await fetch(`${b.base}/healthz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { ok: boolean; problems: string[] };
    assert.equal(body.ok, false);
    const text = body.problems.join('\n');
    assert.match(text, /does not serve Intelligent-Internet\/II-Search-CIR-4B/);
    assert.match(text, /some\/other-model/);
    assert.match(text, /sandbox: no interpreter ready \(2 starting\)/);
    assert.match(text, /platform:discord: gateway closed 4004/);
  } finally {
    await b.http.close();
    await llm.close();
  }
});

test('healthz is 503 when the model server is unreachable or the sandbox is missing', async () => {
  const llm = await modelsServer([MODEL]);
  const deadUrl = llm.url;
  await llm.close(); // nothing listens there any more
  const b = await bot({ llm: { baseUrl: deadUrl, model: MODEL, timeoutMs: 2000 } });
  try {
    const res = await fetch(`${b.base}/healthz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { problems: string[] };
    assert.match(body.problems.join('\n'), /unreachable/);
    assert.match(body.problems.join('\n'), /sandbox status not available/);
  } finally {
    await b.http.close();
  }
});

test('platform routes are mounted; unknown paths 404, wrong methods 405, route errors 500', async () => {
  const llm = await modelsServer([MODEL]);
  const b = await bot({ llm: { baseUrl: llm.url, model: MODEL }, sandbox: sandboxReady }, [
    {
      method: 'POST',
      path: '/slack/events',
      handle(req, res) {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${body}`));
      },
    },
    {
      method: 'GET',
      path: '/boom',
      handle() {
        throw new Error('kaput');
      },
    },
  ]);
  try {
    const ok = await fetch(`${b.base}/slack/events?x=1`, { method: 'POST', body: 'hello' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'got hello');
    assert.equal((await fetch(`${b.base}/nope`)).status, 404);
    assert.equal((await fetch(`${b.base}/slack/events`)).status, 405);
    assert.equal((await fetch(`${b.base}/boom`)).status, 500);
    assert.match(await b.metrics.render(), /cir_errors_total\{component="http"\} 1/);
  } finally {
    await b.http.close();
    await llm.close();
  }
});

test('/metrics serves Prometheus text with session, step, token, queue and sandbox metrics', async () => {
  const llm = await modelsServer([MODEL]);
  const b = await bot({ llm: { baseUrl: llm.url, model: MODEL }, sandbox: sandboxReady });
  b.metrics.setSources({ queue: () => ({ queued: 3, running: 1 }), sandbox: sandboxReady });
  const m = b.metrics;
  m.observeEvent({ type: 'started', sessionId: 's1', question: 'q', maxSteps: 32, at: Date.now() });
  m.observeEvent({ type: 'tool', step: 1, name: 'web_search', arg: 'q' });
  m.observeEvent({ type: 'observation', step: 1, output: 'x', error: null, stateLost: false, durationMs: 120 });
  m.observeEvent({ type: 'observation', step: 2, output: 'y', error: null, stateLost: false, durationMs: 80 });
  m.observeEvent({
    type: 'answer',
    text: 'a',
    citations: [],
    steps: 2,
    usage: { promptTokens: 1500, completionTokens: 250 },
    durationMs: 4000,
  });
  m.sessionEnded('answered');
  m.observeEvent({ type: 'error', message: 'model down', retryable: true });
  m.sessionEnded('failed');
  m.requestRejected('quota');
  m.rateLimitWait('slack', 1500);
  try {
    const res = await fetch(`${b.base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    for (const line of [
      'cir_sessions_total{outcome="answered"} 1',
      'cir_sessions_total{outcome="failed"} 1',
      'cir_steps_total 2',
      'cir_step_duration_seconds_count 2',
      'cir_model_tokens_total{kind="prompt"} 1500',
      'cir_model_tokens_total{kind="completion"} 250',
      'cir_queue_length 3',
      'cir_sessions_running 1',
      'cir_sandbox_interpreters{state="ready"} 2',
      'cir_requests_rejected_total{reason="quota"} 1',
      'cir_rate_limit_waits_total{scope="slack"} 1',
      'cir_rate_limit_wait_seconds_total{scope="slack"} 1.5',
      'cir_errors_total{component="research"} 1',
      'cir_tool_calls_total{tool="web_search"} 1',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
  } finally {
    await b.http.close();
    await llm.close();
  }
});

test('URLs shown in health output and logs lose their credentials', () => {
  assert.equal(displayUrl('http://user:s3cret@llm.internal:8000/v1'), 'http://llm.internal:8000/v1');
  assert.equal(displayUrl('not a url'), '(invalid URL)');
});
