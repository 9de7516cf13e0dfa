// `cir-bot serve` as a real process: Slack over Socket Mode (fake Slack), the real engine against a
// fake model server and a fake SearXNG. Health, a session, metrics, logs without secrets, and a
// graceful SIGTERM with and without a session still running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openSessionStore } from '../../src/chat/store.ts';
import { SECRET_VARS } from '../../src/config.ts';
import { startFakeLlm, type Script } from '../fakes/llm.ts';
import { spawnServe, type Proc } from './serve-process.ts';
import { startFakeSearch } from '../fakes/search.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { startFakeDiscord } from '../fakes/discord.ts';
import { mention, newTs } from '../slack/harness.ts';


/** Distinctive secret values: none of them may appear anywhere in the output. */
const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-0000-SECRETBOTTOKEN-zq81',
  SLACK_APP_TOKEN: 'xapp-1-SECRETAPPTOKEN-zq82',
  SLACK_SIGNING_SECRET: 'SECRETSIGNING-zq83',
  CIR_LLM_API_KEY: 'sk-SECRETLLMKEY-zq84',
  SERPER_API_KEY: 'SECRETSERPER-zq85',
  BRAVE_API_KEY: 'SECRETBRAVE-zq86',
  CIR_JUDGE_API_KEY: 'sk-SECRETJUDGE-zq87',
  DISCORD_TOKEN: `${Buffer.from('123456789012345678').toString('base64')}.SECRETDISCORD.zq88-discord-token`,
};

type Running = Proc;

function serve(env: Record<string, string>): Running {
  return spawnServe('serve', [], env);
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function setup(script: Script, extra: Record<string, string> = {}) {
  const llm = await startFakeLlm(script);
  const search = await startFakeSearch();
  const slack = await startFakeSlack({ botToken: SECRETS.SLACK_BOT_TOKEN, appToken: SECRETS.SLACK_APP_TOKEN });
  const discord = await startFakeDiscord({ token: SECRETS.DISCORD_TOKEN });
  const dataDir = mkdtempSync(join(tmpdir(), 'cir-serve-'));
  const env = {
    ...SECRETS,
    SLACK_API_URL: slack.apiUrl,
    DISCORD_API_URL: discord.apiUrl,
    CIR_LLM_BASE_URL: llm.baseUrl,
    CIR_SEARXNG_URL: search.searxngUrl,
    CIR_DATA_DIR: dataDir,
    CIR_HTTP_HOST: '127.0.0.1',
    CIR_HTTP_PORT: '0',
    CIR_SANDBOX_POOL_SIZE: '1',
    CIR_LOG_LEVEL: 'trace',
    ...extra,
  };
  const bot = serve(env);
  const port = await bot.port;
  assert.ok(port > 0, `serve did not start:\n${bot.output()}`);
  const base = `http://127.0.0.1:${port}`;
  return {
    env,
    llm,
    slack,
    bot,
    base,
    dataDir,
    async healthy() {
      return until('/healthz 200', async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined));
    },
    async close() {
      if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
      await Promise.all([llm.close(), search.close(), slack.close(), discord.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const researchThenAnswer: Script = ({ prompt }) => {
  const turn = prompt.slice(prompt.lastIndexOf('<|im_start|>assistant'));
  return turn.includes('```output')
    ? 'Found it.\n</think>\n\nThe capital of France is Paris.'
    : 'Let me search.\n<start_code>\n```python\nprint(web_search("capital of France"))\n```\n<end_code>';
};

/** What the bot logs for one session, in order; each line must carry the session's id. */
const SESSION_LINES = ['session queued', 'session running', 'turn', 'step done', 'research session ended', 'answered', 'session done'];

test('serve: healthy on Slack and Discord, answers a Slack mention, exposes metrics, stops cleanly on SIGTERM, never logs a secret', async () => {
  // Every secret the configuration knows is set, so that a leak of any of them would show.
  assert.deepEqual(Object.keys(SECRETS).sort(), [...SECRET_VARS].sort());
  const s = await setup(researchThenAnswer);
  try {
    await s.healthy();
    const health = (await (await fetch(`${s.base}/healthz`)).json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(health.checks['platform:slack'].ok, true);
    assert.equal(health.checks['platform:discord'].ok, true);
    assert.equal(health.checks.model.ok, true);

    // Slack makes the bot wait once: the wait must show in the rate-limit metrics.
    s.slack.fail('chat.postMessage', { status: 429, retryAfter: 1 }, { times: 1 });
    const ts = newTs();
    await s.slack.sendEnvelope('events_api', mention('What is the capital of France?', { ts }));
    await s.slack.waitFor(
      () => JSON.stringify(s.slack.thread('C00FAKECHAN1', ts)).includes('The capital of France is Paris'),
      60_000,
      'the answer in the thread',
    );
    const metrics = await until('the finished session in /metrics', async () => {
      const text = await (await fetch(`${s.base}/metrics`)).text();
      return /cir_sessions_total\{outcome="answered"\} 1/.test(text) ? text : undefined;
    });
    assert.match(metrics, /cir_steps_total 1/);
    assert.match(metrics, /cir_model_tokens_total\{kind="prompt"\} [1-9]/);
    assert.match(metrics, /cir_sandbox_interpreters\{state="ready"\}/);
    assert.match(metrics, /cir_sessions_running 0/);
    assert.match(metrics, /cir_queue_length 0/);
    assert.match(metrics, /cir_sessions_started_total 1/);
    assert.match(metrics, /cir_step_duration_seconds_count 1/);
    assert.match(metrics, /cir_tool_calls_total\{tool="web_search"\} 1/);
    assert.match(metrics, /cir_rate_limit_waits_total\{scope="slack"\} 1/);
    assert.match(metrics, /cir_rate_limit_wait_seconds_total\{scope="slack"\} 1/);
    assert.match(metrics, /cir_errors_total\{component="research"\} 0/);
    assert.match(metrics, /cir_sandbox_network_isolated [01]/);

    s.bot.child.kill('SIGTERM');
    assert.equal(await s.bot.exit, 0, s.bot.output());
    const out = s.bot.output();
    assert.match(out, /stopped cleanly/);
    for (const [name, value] of Object.entries(SECRETS)) assert.ok(!out.includes(value), `${name} appeared in the logs`);
    assert.ok(!out.includes('SECRETDISCORD'), 'no part of the Discord token in the logs');
    assert.match(out, /discord connected/);
    // Every line logged about the session, from the chat layer and the engine alike, names it.
    const lines = out.split('\n');
    const ids = new Set<string>();
    for (const msg of SESSION_LINES) {
      const found = lines.filter((l) => l.includes(`"msg":"${msg}"`));
      assert.ok(found.length > 0, `a '${msg}' line was logged`);
      for (const l of found) ids.add(/"sessionId":"([^"]+)"/.exec(l)?.[1] ?? `none in: ${l}`);
    }
    assert.equal(ids.size, 1, [...ids].join('\n'));
  } finally {
    await s.close();
  }
});

test('serve: after a crash the thread is told at restart; SIGTERM mid-research waits out the grace, tells the thread, exits 0', async () => {
  // The model never finishes its first turn.
  // No code ever runs here: an on-demand sandbox pool (0) keeps start-up cheap.
  const s = await setup(() => ({ text: 'Let me think about this', hang: true }), { CIR_SHUTDOWN_GRACE_MS: '300', CIR_SANDBOX_POOL_SIZE: '0' });
  let again: Running | undefined;
  try {
    await s.healthy();
    const crashedTs = newTs();
    await s.slack.sendEnvelope('events_api', mention('Asked just before a crash', { ts: crashedTs }));
    await until('the model request', () => (s.llm.prompts().length > 0 ? true : undefined));

    // 1. A crash: nothing runs the shutdown. The next start marks the session and tells its thread.
    s.bot.child.kill('SIGKILL');
    await s.bot.exit;
    again = serve({ ...s.env, CIR_HTTP_PORT: '0' });
    assert.ok((await again.port) > 0, again.output());
    await s.slack.waitFor(
      () => JSON.stringify(s.slack.thread('C00FAKECHAN1', crashedTs)).includes('Interrupted'),
      60_000,
      'the crashed thread told of the interruption',
    );
    const restarted = again;
    await until('the recovery logged', () => (/sessions interrupted by the last shutdown/.test(restarted.output()) ? true : undefined));

    // 2. A graceful stop while a session runs: the grace period passes, the session is stopped.
    const ts = newTs();
    const prompts = s.llm.prompts().length;
    await s.slack.sendEnvelope('events_api', mention('A question that takes forever', { ts }));
    await until('the model request', () => (s.llm.prompts().length > prompts ? true : undefined));
    again.child.kill('SIGTERM');
    assert.equal(await again.exit, 0, again.output());
    assert.match(again.output(), /shutting down: no new work/);
    assert.match(again.output(), /stopped cleanly/);
    assert.ok(JSON.stringify(s.slack.thread('C00FAKECHAN1', ts)).includes('Interrupted'), 'the running thread was told');

    const store = openSessionStore(s.dataDir);
    try {
      const sessions = store.sessionsSince(0);
      assert.equal(sessions.length, 2);
      assert.deepEqual(sessions.map((x) => x.status), ['interrupted', 'interrupted']);
    } finally {
      store.close();
    }
  } finally {
    if (again && again.child.exitCode === null) again.child.kill('SIGKILL');
    await s.close();
  }
});

test('serve: the pre-flight runs after start-up and logs each problem once with its fix, without blocking readiness', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const s = await setup([], { CIR_SEARXNG_URL: `http://127.0.0.1:${port}` });
  try {
    await s.healthy();
    const line = await until('the pre-flight line', () => s.bot.output().split('\n').find((l) => l.includes('"check":"search"')));
    const entry = JSON.parse(line) as { level: number; msg: string; fix: string };
    assert.equal(entry.level, 50);
    assert.match(entry.msg, /^search: searxng: could not reach the search service\. Fix: run SearXNG .*CIR_SEARXNG_URL/);
    assert.ok(!s.bot.output().includes('"check":"model server"'), 'the model server is fine: nothing said about it');
    s.bot.child.kill('SIGTERM');
    assert.equal(await s.bot.exit, 0);
  } finally {
    await s.close();
  }
});
