// Secrets never reach the logs, wherever they sit in a logged object, in children loggers too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, secretValues, SECRET_VARS } from '../../src/config.ts';
import { createLogger } from '../../src/ops/log.ts';

test('configured secret values are cut out of every log line, however deep, and short placeholders are left alone', () => {
  const env = parseConfig({
    SLACK_BOT_TOKEN: 'xoxb-1111-DEEPSECRET-aa',
    SLACK_SIGNING_SECRET: 'signing"secret\\with-quotes',
    DISCORD_TOKEN: 'MTIz.DISCORDSECRET.xyz-123',
  });
  const secrets = secretValues(env);
  assert.deepEqual(secrets.sort(), ['MTIz.DISCORDSECRET.xyz-123', 'signing"secret\\with-quotes', 'xoxb-1111-DEEPSECRET-aa', 'EMPTY', 'EMPTY'].sort());
  assert.ok(SECRET_VARS.includes('CIR_LLM_API_KEY'));

  const dir = mkdtempSync(join(tmpdir(), 'cir-log-'));
  const file = join(dir, 'log.jsonl');
  const fd = openSync(file, 'w');
  try {
    const logger = createLogger('info', fd, secrets);
    // A library error nesting the request's headers several levels down (key redaction misses it).
    logger.error({ err: { original: { config: { headers: { Authorization: 'Bearer xoxb-1111-DEEPSECRET-aa' } } } } }, 'request failed');
    logger.child({ platform: 'discord' }).warn(`login failed with MTIz.DISCORDSECRET.xyz-123`);
    logger.info({ note: 'signing"secret\\with-quotes' }, 'quoted');
    logger.info({ apiKey: 'EMPTY', token: 'some-token-value' }, 'EMPTY stays readable');
    logger.flush();
  } finally {
    closeSync(fd);
  }
  const out = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 4, out);
  for (const s of ['DEEPSECRET', 'DISCORDSECRET', 'signing', 'some-token-value']) assert.ok(!out.includes(s), `${s} in ${out}`);
  assert.match(lines[0], /"Authorization":"Bearer \[redacted\]"/);
  assert.match(lines[1], /"platform":"discord".*login failed with \[redacted\]/);
  assert.match(lines[2], /"note":"\[redacted\]"/);
  assert.match(lines[3], /EMPTY stays readable/);
});
