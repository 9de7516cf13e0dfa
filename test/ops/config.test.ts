// Configuration refuses nonsense at start, naming the variable and what to do, and never prints a
// secret or the credentials inside a URL while doing so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config.ts';

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const DISCORD_OK = `${Buffer.from('123456789012345678').toString('base64url')}.GhIjKl.abcdefghijklmnopqrstuvwxyz_-12`;

test('config: each bad value is refused with a message naming the variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ CIR_LLM_BASE_URL: 'localhost:8000/v1' }, /^CIR_LLM_BASE_URL="localhost:8000\/v1": must be a URL starting with http:\/\/ or https:\/\//],
    [{ CIR_LLM_BASE_URL: '127.0.0.1:8000' }, /^CIR_LLM_BASE_URL="127\.0\.0\.1:8000": must be a URL starting with http:\/\//],
    [{ CIR_SEARXNG_URL: 'ftp://search.example' }, /^CIR_SEARXNG_URL="ftp:\/\/search\.example": must be a URL starting with http:\/\//],
    [{ CIR_HTTP_PORT: '99999' }, /^CIR_HTTP_PORT="99999": must be a port number from 1 to 65535/],
    [{ CIR_HTTP_PORT: '-1' }, /^CIR_HTTP_PORT="-1": /],
    [{ CIR_LLM_TEMPERATURE: '-0.5' }, /^CIR_LLM_TEMPERATURE="-0\.5": must be 0 or more/],
    [{ CIR_LLM_TOP_P: '0' }, /^CIR_LLM_TOP_P="0": must be more than 0 and at most 1/],
    [{ CIR_LLM_TOP_P: '1.5' }, /^CIR_LLM_TOP_P="1\.5": must be more than 0 and at most 1/],
    [{ SLACK_BOT_TOKEN: 'xapp-1-A0-123-abc', SLACK_SIGNING_SECRET: 'x' }, /^SLACK_BOT_TOKEN=\(17 characters, hidden\): must be the bot token .*starts with xoxb-/],
    [{ SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xoxb-1-2-abc' }, /^SLACK_APP_TOKEN=\(12 characters, hidden\): must be the app-level token .*starts with xapp-/],
    [{ DISCORD_TOKEN: 'a3f9c1d2e4b5a6978877665544332211' }, /^DISCORD_TOKEN=\(32 characters, hidden\): must be the bot token .*three parts/],
    [{ DISCORD_TOKEN: `Bot ${DISCORD_OK}` }, /^DISCORD_TOKEN=.*hidden\): must be the bot token/],
    [{ DISCORD_TOKEN: 'aGVsbG8.abc.defghijklmnopqrstuvwxyz' }, /^DISCORD_TOKEN=.*: must be the bot token: its first part should be the bot's user id/],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, /^REDIS_URL="http:\/\/127\.0\.0\.1:6379": must be a URL starting with redis:\/\/ or rediss:\/\//],
  ];
  for (const [env, expected] of cases) {
    const p = problems(env);
    assert.equal(p.length, 1, `${JSON.stringify(env)}: ${p.join(' | ')}`);
    assert.match(p[0], expected);
  }
});

test('config: good values pass, including credentials inside a URL and port 0 (any free port)', () => {
  const env = parseConfig({
    CIR_LLM_BASE_URL: 'http://admin:pass@gpu.internal:8000/v1',
    CIR_HTTP_PORT: '0',
    CIR_LLM_TEMPERATURE: '0',
    SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
    SLACK_APP_TOKEN: 'xapp-1-A0-123-abc',
    DISCORD_TOKEN: DISCORD_OK,
    REDIS_URL: 'redis://127.0.0.1:6379',
  });
  assert.equal(env.CIR_LLM_BASE_URL, 'http://admin:pass@gpu.internal:8000/v1');
  assert.equal(env.CIR_HTTP_PORT, 0);
  assert.equal(env.DISCORD_TOKEN, DISCORD_OK);
});

test('config: a refused value never shows a secret or the credentials of a URL', () => {
  const p = problems({
    CIR_LLM_BASE_URL: 'gopher://admin:hunter2@gpu.internal/v1',
    CIR_LLM_API_KEY: '',
    SLACK_BOT_TOKEN: 'xoxp-VERYSECRET-user-token',
    SLACK_SIGNING_SECRET: 's',
  });
  const all = p.join('\n');
  assert.equal(p.length, 2, all);
  assert.ok(!all.includes('hunter2') && !all.includes('admin:'), all);
  assert.ok(!all.includes('VERYSECRET'), all);
  assert.match(all, /CIR_LLM_BASE_URL="gopher:\/\/\*\*\*@gpu\.internal\/v1"/);
});
