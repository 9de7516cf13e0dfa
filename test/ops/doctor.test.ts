// `cir-bot doctor` (a contract: exit 0 when everything configured works, 1 otherwise; --json one
// object per check) against the fakes of every remote party, working and broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeDiscord } from '../fakes/discord.ts';
import { startFakeLlm } from '../fakes/llm.ts';
import { fakeResults, startFakeSearch } from '../fakes/search.ts';
import { startFakeSlack } from '../fakes/slack.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Outcome {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function doctor(env: Record<string, string>, args: string[] = ['--json']): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(process.execPath, ['src/main.ts', 'doctor', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 90_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('doctor: everything configured works -> exit 0, one JSON object per check, platforms included', async () => {
  const llm = await startFakeLlm(['ok']);
  const search = await startFakeSearch();
  search.results = fakeResults('https://example.org', ['/a', '/b']);
  const slack = await startFakeSlack();
  const discord = await startFakeDiscord();
  try {
    const r = await doctor({
      CIR_LLM_BASE_URL: llm.baseUrl,
      CIR_SEARCH_PROVIDER: 'searxng',
      CIR_SEARXNG_URL: search.searxngUrl,
      CIR_DATA_DIR: mkdtempSync(join(tmpdir(), 'cir-doctor-')),
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_APPLICATION_ID: discord.applicationId,
    });
    const checks = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
    assert.deepEqual(checks.map((c) => c.check), ['model server', 'search', 'web_visit', 'sandbox', 'data directory', 'slack', 'discord']);
    assert.ok(checks.every((c) => c.ok && !c.fix), JSON.stringify(checks, null, 1));
    assert.equal(r.code, 0, r.stderr);
    assert.match(checks[0].detail, /serves Intelligent-Internet\/II-Search-CIR-4B and completes a raw prompt/);
    assert.equal(llm.prompts().length, 1, 'one 1-token completion');
    assert.match(checks[1].detail, /searxng returned 2 results/);
    assert.match(checks[5].detail, /bot cir-bot in workspace Fake; events over Socket Mode/);
    assert.match(checks[6].detail, /Message Content intent off/);
  } finally {
    await Promise.all([llm.close(), search.close(), slack.close(), discord.close()]);
  }
});

test('doctor: each broken part fails with a one-line fix naming the variable -> exit 1', async () => {
  const port = await closedPort();
  const slack = await startFakeSlack();
  const discord = await startFakeDiscord();
  try {
    const r = await doctor({
      CIR_LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      CIR_SEARCH_PROVIDER: 'searxng',
      CIR_SEARXNG_URL: `http://127.0.0.1:${port}`,
      CIR_DATA_DIR: mkdtempSync(join(tmpdir(), 'cir-doctor-')),
      SLACK_BOT_TOKEN: 'xoxb-not-the-installed-token',
      SLACK_SIGNING_SECRET: 'signing',
      SLACK_API_URL: slack.apiUrl,
      DISCORD_TOKEN: 'OTk5.WRONG.not-the-real-token-at-all',
      DISCORD_API_URL: discord.apiUrl,
    });
    assert.equal(r.code, 1, r.stderr);
    const byName = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome).map((c) => [c.check, c]));
    const expect: Array<[string, RegExp, RegExp]> = [
      ['model server', /unreachable/, /CIR_LLM_BASE_URL.*CIR_LLM_MODEL/],
      ['search', /could not reach/, /CIR_SEARXNG_URL.*CIR_SEARCH_PROVIDER=serper/],
      ['slack', /auth\.test refused the bot token \(invalid_auth\)/, /SLACK_BOT_TOKEN/],
      ['discord', /refused the token \(HTTP 401\)/, /DISCORD_TOKEN/],
    ];
    for (const [name, detail, fix] of expect) {
      const c = byName.get(name)!;
      assert.equal(c.ok, false, name);
      assert.match(c.detail, detail, `${name}: ${c.detail}`);
      assert.match(c.fix ?? '', fix, `${name}: ${c.fix}`);
      assert.ok(!(c.fix ?? '').includes('\n'), 'one line');
    }
    assert.equal(byName.get('data directory')?.ok, true);
  } finally {
    await Promise.all([slack.close(), discord.close()]);
  }
});

test('doctor: a configuration that does not validate -> exit 1 naming the variable, no secret shown; the readable form', async () => {
  const human = await doctor({ CIR_HTTP_PORT: '99999' }, []);
  assert.equal(human.code, 1);
  assert.equal(human.stdout, '✖ configuration: CIR_HTTP_PORT="99999": must be a port number from 1 to 65535\n    fix: correct CIR_HTTP_PORT\n');
  const r = await doctor({ CIR_HTTP_PORT: '99999', SLACK_BOT_TOKEN: 'xapp-SECRETSECRET', SLACK_SIGNING_SECRET: 's' });
  assert.equal(r.code, 1);
  const checks = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
  assert.ok(checks.every((c) => c.check === 'configuration' && !c.ok));
  assert.ok(checks.some((c) => /^CIR_HTTP_PORT="99999": must be a port number from 1 to 65535/.test(c.detail) && c.fix === 'correct CIR_HTTP_PORT'));
  assert.ok(checks.some((c) => c.detail.startsWith('SLACK_BOT_TOKEN=') && c.fix === 'correct SLACK_BOT_TOKEN'));
  assert.ok(!r.stdout.includes('SECRETSECRET'));
});
