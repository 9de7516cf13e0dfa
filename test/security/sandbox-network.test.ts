// The sandbox's network roads, tried where the host has no network namespace (Docker's default
// profile): there the only barriers are in the interpreter process itself. Before they existed,
// `pyodide_js.loadPackage(url)` fetched from a loopback server and a plain Python socket reached it
// through Emscripten's SOCKFS (`require("ws")`). Every attempt is judged by its effect: the server
// counts TCP connections, not just requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { createSandbox, type Sandbox, type SandboxSession } from '../../src/sandbox/index.ts';
import { spawnChild } from '../../src/sandbox/host.ts';
import { detectLaunch, pyodideDir } from '../../src/sandbox/launch.ts';
import { recordingTools, STEP } from '../sandbox/helpers.ts';

let server: Server;
let port = 0;
let connections = 0;
let sandbox: Sandbox;
let session: SandboxSession;

before(async () => {
  server = createServer((_q, res) => res.end('hello'));
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  sandbox = await createSandbox({ poolSize: 0, memoryMb: 192, network: 'off' });
  session = await sandbox.open(recordingTools());
});

after(async () => {
  await session?.close();
  await sandbox?.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const settle = () => new Promise((r) => setTimeout(r, 300)); // time for a stray connection to land

test('without a network namespace, Python reaches no socket: SOCKFS, NodeSockFS, loadPackage, urllib, pyfetch', async () => {
  assert.equal(sandbox.status().isolation.network, 'none'); // this test is about the other layers
  const attempts = [
    `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\ns.send(b"GET / HTTP/1.0\\r\\n\\r\\n")\nprint(s.recv(100))`,
    `import pyodide_js\nfut = pyodide_js.loadPackage("http://127.0.0.1:${port}/evil-1.0-py3-none-any.whl")`,
    `import pyodide_js\npyodide_js.loadPackage(["http://127.0.0.1:${port}/a.whl"])`,
    `import pyodide_js\np = pyodide_js.useNodeSockFS()`,
    // (a second block: NodeSockFS, if it were installed, would be in use by now)
    `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\ns.send(b"GET / HTTP/1.0\\r\\n\\r\\n")`,
    `import urllib.request\nprint(urllib.request.urlopen("http://127.0.0.1:${port}/", timeout=1).read())`,
    `import asyncio\nfrom pyodide.http import pyfetch\nasyncio.ensure_future(pyfetch("http://127.0.0.1:${port}/"))`,
    `import js\njs.fetch("http://127.0.0.1:${port}/")`,
  ];
  for (const code of attempts) {
    const r = await session.run(`try:\n${code.replace(/^/gm, '    ')}\nexcept BaseException as e:\n    print("refused", type(e).__name__)`, STEP);
    assert.ok(!r.output.includes('hello'), r.output);
    await settle();
  }
  assert.equal((await session.run('print("still here")', STEP)).output, 'still here\n');
  await settle();
  assert.equal(connections, 0, 'the loopback server must never be contacted');
});

test('JavaScript in an interpreter process finds no network either: globals, imports, require, getBuiltinModule', async () => {
  const launch = await detectLaunch('off');
  const seal = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'sandbox', 'child', 'seal.ts')).href;
  const probe = `
    const r = {};
    const attempt = async (name, f) => {
      try { r[name] = 'ok ' + String(await f()).slice(0, 80); } catch (e) { r[name] = 'denied ' + (e?.code || e?.name || e); }
    };
    const dial = (net) => new Promise((ok, fail) => { const s = net.connect(${port}, '127.0.0.1', () => ok('connected')); s.on('error', fail); });
    (async () => {
      await attempt('fetch', () => fetch('http://127.0.0.1:${port}/'));
      await attempt('WebSocket', () => new WebSocket('ws://127.0.0.1:${port}/'));
      await attempt('EventSource', () => new EventSource('http://127.0.0.1:${port}/'));
      await attempt('import net', async () => dial(await import('node:net')));
      await attempt('import http', async () => {
        const h = await import('node:http');
        return new Promise((ok, fail) => h.get('http://127.0.0.1:${port}/', ok).on('error', fail));
      });
      await attempt('require net', () => dial(require('net')));
      await attempt('require ws', () => new (require('ws'))('ws://127.0.0.1:${port}/'));
      await attempt('getBuiltinModule', () => dial(process.getBuiltinModule('node:net')));
      await attempt('import undici', async () => (await import('undici')).request('http://127.0.0.1:${port}/'));
      await attempt('Worker', async () => new (await import('node:worker_threads')).Worker('fetch("http://127.0.0.1:${port}/")', { eval: true }));
      setTimeout(() => process.send(r, () => process.exit(0)), 300);
    })();`;
  const child = spawnChild(launch, { mode: 'serve', indexURL: pyodideDir, snapshotPath: null, memoryMb: 64 }, ['--import', seal, '-e', probe]);
  const r = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, string>));
    child.once('exit', (code) => reject(new Error(`probe exited (${code}) without reporting`)));
  });
  for (const [name, outcome] of Object.entries(r)) assert.match(outcome, /^denied /, `${name}: ${outcome}`);
  assert.equal(Object.keys(r).length, 10);
  await settle();
  assert.equal(connections, 0);
});
