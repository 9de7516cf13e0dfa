// Sandboxed code going after the host: its files (through Emscripten's NODEFS, /proc), its
// processes (ctypes, posix._exit, os.abort, kill), and its CPU and memory (C-level loops that never
// check for the interrupt, memory bombs). Each attempt must fail by its effect, and the session must
// go on with a clear result: refused, or `crashed`/`timeout` with `stateLost` when the process died.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunResult, Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { defaultCacheDir } from '../../src/sandbox/snapshot.ts';
import { recordingTools, STEP, testSandbox } from '../sandbox/helpers.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const childDir = join(repoRoot, 'src', 'sandbox', 'child');
let sandbox: Sandbox;
let session: SandboxSession;
let scratch: string;
let home: string; // stands for the bot's working directory (its .env, data/, source)
const startCwd = process.cwd();
const SECRET = `sekrit-${process.pid}`;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cir-security-host-'));
  home = mkdtempSync(join(tmpdir(), 'cir-security-home-'));
  mkdirSync(join(home, 'data'));
  writeFileSync(join(home, 'data', 'secret.txt'), SECRET);
  writeFileSync(join(home, '.env'), `SLACK_BOT_TOKEN=${SECRET}`);
  // Node 24 let an interpreter's worker thread read everything below the inherited working
  // directory: start the sandbox from a directory holding secrets, as the bot does.
  process.chdir(home);
  sandbox = await testSandbox(1, 256);
  session = await sandbox.open(recordingTools());
});

after(async () => {
  await session?.close();
  await sandbox?.close();
  process.chdir(startCwd);
  rmSync(scratch, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** The block either raised (refused) or killed only its own interpreter, and the session goes on. */
async function contained(r: RunResult, what: string): Promise<void> {
  if (r.stopped === 'crashed' || r.stateLost) assert.equal(r.stateLost, true, `${what}: a dead interpreter must be reported`);
  else assert.ok(r.error !== null || /refused/.test(r.output), `${what}: ${JSON.stringify(r)}`);
  const next = await session.run('print(6 * 7)', STEP);
  assert.equal(next.output, '42\n', `${what}: the session must go on`);
}

test('the interpreter can kill only itself: ctypes system(), posix._exit, os.abort, kill, the real recursion limit', async () => {
  const marker = join(scratch, 'marker');
  const attacks = [
    `import ctypes\nctypes.CDLL(None).system(b"touch ${marker}")`,
    'import posix\nposix._exit(3)',
    'import os\nos.abort()',
    'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
    'import os\nos.kill(1, 9)',
    'import os\nos.fork()',
    'import _cir\n_cir._real_setrecursionlimit(10**6)\ndef down(n):\n    return down(n + 1)\ndown(0)',
  ];
  for (const code of attacks) await contained(await session.run(code, STEP), code);
  assert.equal(existsSync(marker), false);
  assert.deepEqual(readdirSync(scratch), []);
});

test('host directories cannot be mounted; the one readable directory holds only public code', async () => {
  const mount = (root: string, at: string) =>
    [
      'import pyodide_js, os',
      'from pyodide.ffi import to_js',
      'FS = pyodide_js.FS',
      'try:',
      `    FS.mkdirTree(${JSON.stringify(at)})`,
      `    FS.mount(FS.filesystems.NODEFS, to_js({"root": ${JSON.stringify(root)}}, dict_converter=pyodide_js.constructor.fromEntries), ${JSON.stringify(at)})`,
      `    print("mounted", sorted(os.listdir(${JSON.stringify(at)})))`,
      'except Exception as e:',
      '    print("refused", type(e).__name__)',
    ].join('\n');
  const hostDirs = ['/', '/etc', '/proc/self', '/proc/1', repoRoot, join(repoRoot, 'src'), join(repoRoot, 'node_modules'),
    join(repoRoot, 'src', 'sandbox'), home, join(home, 'data'), tmpdir(), defaultCacheDir(), scratch];
  for (const [i, dir] of hostDirs.entries()) {
    const r = await session.run(mount(dir, `/mnt/h${i}`), STEP);
    assert.match(r.output, /^refused/, `${dir}: ${r.output}`);
  }
  // The interpreter's own code directory is readable (the permission model allows it, and it is public)...
  const own = await session.run(mount(childDir, '/mnt/own'), STEP);
  assert.match(own.output, /^mounted .*'prelude\.py'/);
  // ...but it leads nowhere else, and nothing can be written or linked into it.
  const around = await session.run(
    [
      'import os',
      'for p in ("/mnt/own/../../config.ts", "/mnt/own/../../../package.json", "/mnt/own/../../../.env", "/proc/self/environ", "/proc/1/environ",',
      `          ${JSON.stringify(join(home, '.env'))}, ${JSON.stringify(join(home, 'data', 'secret.txt'))}):`,
      '    try:',
      '        print("read", p, open(p).read()[:40])',
      '    except Exception as e:',
      '        print("refused", type(e).__name__)',
    ].join('\n'),
    STEP,
  );
  assert.equal(around.output.match(/^refused/gm)?.length, 7, around.output);
  assert.ok(!around.output.includes(SECRET));
  for (const code of ['open("/mnt/own/evil.py", "w").write("x")', 'import os\nos.symlink("/etc/passwd", "/mnt/own/evil-link")']) {
    const r = await session.run(code, STEP);
    await contained(r, code);
  }
  assert.equal(existsSync(join(childDir, 'evil.py')), false);
  assert.equal(existsSync(join(childDir, 'evil-link')), false);
});

test('C-level work that ignores the interrupt is stopped at the limit, and the session goes on', async () => {
  const limit = { timeoutMs: 1000 };
  const loops = [
    'x = 10**10**8', // big-int arithmetic
    "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')", // catastrophic backtracking
    'import importlib, time\nimportlib.reload(time)\ntime.sleep(3600)', // the runtime's own sleep, past the prelude's
  ];
  for (const code of loops) {
    const r = await session.run(code, limit);
    assert.equal(r.stopped, 'timeout', `${code}: ${JSON.stringify(r)}`);
    assert.equal((await session.run('print(6 * 7)', STEP)).output, '42\n', code);
  }
});

test('memory bombs end in a clean error and the session goes on', async () => {
  for (const code of ['b = bytearray(3 * 2**30)', "s = ' ' * 10**10", 'l = sorted(range(10**9))', 'l = [0] * 10**9']) {
    const r = await session.run(code, STEP);
    assert.match(r.error ?? '', /MemoryError|OverflowError/, `${code}: ${JSON.stringify(r)}`);
    assert.equal(r.stateLost, false, code);
    assert.equal((await session.run('print(6 * 7)', STEP)).output, '42\n', code);
  }
});
