// The commands' shared conventions (src/commands/common.ts): flags, and a bad configuration as a
// usage error (exit 2) with the command's name and the variable at fault, for every command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../../src/commands/common.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('parseFlags: known flags, --name=value, help, unknown options, -words and -- as positionals', () => {
  const spec = { boolean: ['json'], string: ['num'] };
  assert.deepEqual(parseFlags(['--json', '--num', '3', 'volcano', '-wikipedia'], spec), {
    help: false,
    flags: { json: true, num: '3' },
    positionals: ['volcano', '-wikipedia'],
  });
  assert.deepEqual(parseFlags(['--num=5', 'is', '-5', 'negative?'], spec), { help: false, flags: { num: '5' }, positionals: ['is', '-5', 'negative?'] });
  assert.deepEqual(parseFlags(['a', '--', '--json', '-h'], spec), { help: false, flags: {}, positionals: ['a', '--json', '-h'] });
  assert.deepEqual(parseFlags(['x', '-h'], spec), { help: true });
  assert.deepEqual(parseFlags(['--help'], spec), { help: true });
  assert.deepEqual(parseFlags(['--jsn', 'x'], spec), { help: false, error: 'unknown option --jsn' });
  assert.deepEqual(parseFlags(['x', '--num'], spec), { help: false, error: '--num needs a value' });
  assert.deepEqual(parseFlags(['--json=yes'], spec), { help: false, error: '--json takes no value' });
  assert.deepEqual(parseFlags(['--num', '2', 'extra'], { ...spec, positionals: false }), { help: false, error: "unexpected argument 'extra'" });
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

test('every command reports a bad configuration as exit 2, naming itself and the variable', async () => {
  const bad = { CIR_SHUTDOWN_GRACE_MS: 'a minute' };
  const commands: Array<[string, string[]]> = [
    ['ask', ['src/main.ts', 'ask', 'a question']],
    ['search', ['src/main.ts', 'search', 'a query']],
    ['visit', ['src/main.ts', 'visit', 'http://example.com/']],
    ['cir-bot serve', ['src/main.ts', 'serve']],
    ['cir-bot discord register', ['src/main.ts', 'discord', 'register']],
    ['eval', ['src/eval/main.ts', '--dataset', 'eval/sample/simpleqa.csv']],
  ];
  for (const [name, args] of commands) {
    const r = await run(args, bad);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(`${name}: Invalid configuration:`), `${name}: ${r.stderr}`);
    assert.match(r.stderr, /CIR_SHUTDOWN_GRACE_MS="a minute"/);
  }
  // A stray argument is refused before anything starts.
  const stray = await run(['src/main.ts', 'serve', 'now'], {});
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /^cir-bot serve: unexpected argument 'now'\nusage:/);
});
