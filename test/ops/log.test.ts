// Secrets never reach the logs, wherever they sit in a logged object, in child loggers too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseConfig, secretValues, SECRET_VARS } from '../../src/config.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `body` in a fresh process with `logger` = createLogger('info', 1, secrets); returns stdout. */
function logged(secrets: string[], body: string): Promise<string> {
  const script = `
    import { createLogger } from './src/util/log.ts';
    const logger = createLogger('info', 1, ${JSON.stringify(secrets)});
    ${body}
  `;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

test('configured secret values are cut out of every log line, however deep, and short placeholders are left alone', async () => {
  const env = parseConfig({
    SLACK_BOT_TOKEN: 'xoxb-1111-DEEPSECRET-aa',
    SLACK_SIGNING_SECRET: 'signing"secret\\with-quotes',
    DISCORD_TOKEN: 'MTIz.DISCORDSECRET.xyz-123',
  });
  const secrets = secretValues(env);
  // The defaults of the two API keys are the placeholder EMPTY, not secrets.
  assert.deepEqual(secrets.sort(), ['EMPTY', 'EMPTY', 'MTIz.DISCORDSECRET.xyz-123', 'signing"secret\\with-quotes', 'xoxb-1111-DEEPSECRET-aa']);
  assert.ok(SECRET_VARS.includes('CIR_LLM_API_KEY'));

  const out = await logged(
    secrets,
    `
    // A library error nesting the request's headers several levels down (key redaction misses it).
    logger.error({ err: { original: { config: { headers: { Authorization: 'Bearer xoxb-1111-DEEPSECRET-aa' } } } } }, 'request failed');
    logger.child({ platform: 'discord' }).warn('login failed with MTIz.DISCORDSECRET.xyz-123');
    logger.info({ note: ${JSON.stringify('signing"secret\\with-quotes')} }, 'quoted');
    logger.info({ placeholder: 'EMPTY', token: 'some-token-value' }, 'EMPTY stays readable');
    `,
  );
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 4, out);
  for (const s of ['DEEPSECRET', 'DISCORDSECRET', 'signing', 'some-token-value']) assert.ok(!out.includes(s), `${s} in ${out}`);
  assert.match(lines[0], /"Authorization":"Bearer \[redacted\]"/);
  assert.match(lines[1], /"platform":"discord".*login failed with \[redacted\]/);
  assert.match(lines[2], /"note":"\[redacted\]"/);
  assert.match(lines[3], /"placeholder":"EMPTY","token":"\[redacted\]".*EMPTY stays readable/);
});

test('logs are JSON lines into a pipe and readable lines on a terminal, secrets cut in both', async () => {
  const body = "logger.info({ user: 'U1' }, 'hello from the bot with xoxb-1111-DEEPSECRET-aa')";
  const piped = await logged(['xoxb-1111-DEEPSECRET-aa'], body);
  assert.match(piped, /^\{"level":30,.*"msg":"hello from the bot with \[redacted\]"\}\n$/);
  // A real pseudo-terminal (util-linux `script`), so isatty() is true in the child as for a person.
  const script = `import { createLogger } from './src/util/log.ts'; const logger = createLogger('info', 1, ['xoxb-1111-DEEPSECRET-aa']); ${body};`;
  const cmd = `${JSON.stringify(process.execPath)} --input-type=module -e ${JSON.stringify(script)}`;
  const tty = await new Promise<string>((resolve, reject) =>
    execFile('script', ['-qec', cmd, '/dev/null'], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  // eslint-disable-next-line no-control-regex
  const plain = tty.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(plain, /^\[\d\d:\d\d:\d\d\] INFO: hello from the bot with \[redacted\]\r?\n\s+user: "U1"/, JSON.stringify(plain));
  assert.ok(!plain.includes('{"level"'), plain);
  assert.ok(!plain.includes('DEEPSECRET'));
});
