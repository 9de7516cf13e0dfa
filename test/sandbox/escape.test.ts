// Every escape route listed in DESIGN.md section 2 (and a few more), each shown to fail by its
// effect: no file written, no command run, no secret read, no host file read, no request received.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { recordingTools, STEP, testSandbox } from './helpers.ts';

const SECRET = `sekrit-${process.pid}-${Date.now()}`;
const repoRoot = resolve(import.meta.dirname, '..', '..');
let sandbox: Sandbox;
let session: SandboxSession;
let scratch: string;

before(async () => {
  process.env.CIR_SANDBOX_TEST_SECRET = SECRET; // the parent has it; the sandbox must not
  scratch = mkdtempSync(join(tmpdir(), 'cir-sandbox-escape-'));
  sandbox = await testSandbox(0);
  session = await sandbox.open(recordingTools());
});

after(async () => {
  await session?.close();
  await sandbox?.close();
  delete process.env.CIR_SANDBOX_TEST_SECRET;
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs a block; returns everything the block printed or raised (and how it stopped), in one string. */
async function attempt(code: string): Promise<string> {
  const r = await session.run(code, STEP);
  return `${r.output}\n${r.error ?? ''}\n${r.stopped ?? ''}`;
}

test('os.system, os.popen and subprocess run nothing on the host', async () => {
  const marker = join(scratch, 'marker');
  const tries = [
    `import os\nos.system("touch ${marker}")`,
    `import os\nos.popen("touch ${marker}").read()`,
    `import posix\nposix.system("touch ${marker}")`,
    `import subprocess\nsubprocess.run(["touch", "${marker}"])`,
    // the runtime's real system(), re-imported past the prelude's polite replacement
    `import sys\ndel sys.modules["posix"]\nimport posix\nposix.system("touch ${marker}")`,
  ];
  for (const code of tries) {
    const out = await attempt(`try:\n${indent(code)}\nexcept BaseException as e:\n    print("refused:", type(e).__name__, e)`);
    assert.match(out, /refused|Error|crashed/, `expected a refusal for: ${code}\n${out}`);
  }
  assert.equal(existsSync(marker), false);
  assert.deepEqual(readdirSync(scratch), []);
});

test('the js module is not the process global: no process, require, fetch or environment', async () => {
  const out = await attempt('import js\nprint(sorted(k for k in dir(js) if not k.startswith("_")))\nprint(hasattr(js, "process"), hasattr(js, "fetch"), hasattr(js, "require"))');
  assert.match(out, /False False False/);
  const env = await attempt(
    [
      'import os',
      'print(dict(os.environ))',
      'import js',
      'try:',
      '    print(js.process.env)',
      'except Exception as e:',
      '    print("refused", type(e).__name__)',
    ].join('\n'),
  );
  assert.match(env, /refused AttributeError/);
  assert.ok(!env.includes(SECRET));
});

test('the Function constructor reached from any JsProxy cannot compile code', async () => {
  const out = await attempt(
    [
      'import pyodide_js, js',
      'from pyodide.ffi import to_js',
      'for obj in (js, pyodide_js, pyodide_js._module, to_js({"a": 1})):',
      '    try:',
      '        f = obj.constructor.constructor("return globalThis.process.env")',
      '        print("compiled", f())',
      '    except Exception as e:',
      '        print("refused", e)',
    ].join('\n'),
  );
  assert.equal(out.match(/refused .*Code generation from strings disallowed/g)?.length, 4, out);
  assert.ok(!out.includes('compiled'));
  assert.ok(!out.includes(SECRET));
});

test('eval through pyodide.code.run_js is refused', async () => {
  const out = await attempt('from pyodide.code import run_js\ntry:\n    print(run_js("process.env"))\nexcept Exception as e:\n    print("refused", type(e).__name__)');
  assert.match(out, /refused/);
  assert.ok(!out.includes(SECRET));
});

test('mountNodeFS cannot mount host directories, so host files stay unreadable', async () => {
  for (const hostDir of [repoRoot, '/etc', '/proc/self', scratch]) {
    const out = await attempt(
      [
        'import pyodide_js, os',
        'try:',
        `    pyodide_js.mountNodeFS("/mnt/x", ${JSON.stringify(hostDir)})`,
        '    print("mounted", os.listdir("/mnt/x"))',
        'except Exception as e:',
        '    print("refused", type(e).__name__)',
      ].join('\n'),
    );
    assert.match(out, /refused/, `${hostDir}: ${out}`);
    assert.ok(!out.includes('mounted'));
  }
});

test('host files cannot be read or written by path', async () => {
  const paths = ['/etc/passwd', join(repoRoot, 'package.json'), '/proc/self/environ', join(repoRoot, 'src', 'config.ts')];
  for (const p of paths) {
    const out = await attempt(`try:\n    print(open(${JSON.stringify(p)}).read()[:200])\nexcept Exception as e:\n    print("refused", type(e).__name__)`);
    assert.match(out, /refused/, `${p}: ${out}`);
    assert.ok(!/root:|cir-bot|zod/.test(out), out);
  }
  const target = join(scratch, 'written');
  await attempt(`try:\n    open(${JSON.stringify(target)}, "w").write("x")\nexcept Exception:\n    pass`);
  assert.equal(existsSync(target), false); // the write, if any, went to the interpreter's own memory
});

test('no socket or fetch reaches a loopback server', async () => {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const tries = [
      `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\ns.send(b"GET / HTTP/1.0\\r\\n\\r\\n")\nprint(s.recv(100))`,
      `import pyodide_js, socket\npyodide_js.useNodeSockFS()\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\ns.send(b"GET / HTTP/1.0\\r\\n\\r\\n")\nprint(s.recv(100))`,
      `import urllib.request\nprint(urllib.request.urlopen("http://127.0.0.1:${port}/", timeout=1).read())`,
      `import js\nprint(js.fetch("http://127.0.0.1:${port}/"))`,
      `import asyncio\nfrom pyodide.http import pyfetch\nprint(asyncio.run(pyfetch("http://127.0.0.1:${port}/")))`,
    ];
    for (const code of tries) {
      const out = await attempt(`try:\n${indent(code)}\nexcept BaseException as e:\n    print("refused", type(e).__name__)`);
      assert.ok(!out.includes('hello'), out);
    }
    // Holds with or without the network namespace (test/security/sandbox-network.test.ts tries
    // the same roads with the namespace switched off).
    assert.equal(hits, 0, 'the loopback server must never be contacted');
    const { isolation } = sandbox.status();
    if (isolation.network !== 'netns') assert.match(isolation.reason ?? '', /\w/);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('the sandbox reports its isolation level', () => {
  const { isolation } = sandbox.status();
  assert.equal(isolation.fsPermission, true);
  assert.ok(isolation.network === 'netns' || (isolation.network === 'none' && isolation.reason));
});

function indent(code: string): string {
  return code
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
