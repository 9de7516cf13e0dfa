// Defence in depth: blocking `js` from Python is known to be bypassable, so the interpreter
// process must hold by itself. This runs JavaScript in a process started exactly like an
// interpreter (same wrapper, flags, environment) and shows what such code could do: nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnChild } from '../../src/sandbox/host.ts';
import { detectLaunch, pyodideDir } from '../../src/sandbox/launch.ts';

const probe = (marker: string, port: number, repoFile: string) => `
const r = {};
const attempt = (name, f) => { try { r[name] = 'ok ' + String(f()).slice(0, 200); } catch (e) { r[name] = 'denied ' + (e.code || e.name || e.message); } };
const fs = process.getBuiltinModule('fs');
attempt('env', () => JSON.stringify(process.env));
attempt('exec', () => process.getBuiltinModule('child_process').execFileSync('/usr/bin/touch', [${JSON.stringify(marker)}]));
attempt('readEtc', () => fs.readFileSync('/etc/passwd', 'utf8'));
attempt('readRepo', () => fs.readFileSync(${JSON.stringify(repoFile)}, 'utf8'));
attempt('write', () => fs.writeFileSync(${JSON.stringify(marker)}, 'x'));
attempt('eval', () => eval('1 + 1'));
attempt('Function', () => new Function('return 1')());
attempt('addon', () => process.dlopen({ exports: {} }, '/nonexistent/addon.node'));
attempt('killHost', () => process.kill(${process.pid}, 0));
fetch('http://127.0.0.1:${port}/', { signal: AbortSignal.timeout(2000) })
  .then((res) => { r.fetch = 'ok ' + res.status; }, (e) => { r.fetch = 'denied ' + (e.cause?.code || e.name); })
  .finally(() => process.send(r, () => process.exit(0)));
`;

test('code that reached JavaScript inside an interpreter process still cannot touch the host', async () => {
  const SECRET = `sekrit-${Date.now()}`;
  process.env.CIR_SANDBOX_PROBE_SECRET = SECRET;
  const scratch = mkdtempSync(join(tmpdir(), 'cir-sandbox-probe-'));
  const marker = join(scratch, 'marker');
  let hits = 0;
  const server = createServer((_q, res) => {
    hits++;
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const launch = await detectLaunch('auto');
    const repoFile = resolve(import.meta.dirname, '..', '..', 'package.json');
    const child = spawnChild(launch, { mode: 'serve', indexURL: pyodideDir, snapshotPath: null, memoryMb: 64 }, [
      '-e',
      probe(marker, port, repoFile),
    ]);
    const r = await new Promise<Record<string, string>>((resolveMsg, reject) => {
      child.once('message', (m) => resolveMsg(m as Record<string, string>));
      child.once('exit', (code) => reject(new Error(`probe exited (${code}) without reporting`)));
    });
    assert.ok(!r.env!.includes(SECRET), r.env);
    assert.ok(!/PATH|HOME|CIR_/.test(r.env!), `environment must be empty, got ${r.env}`);
    // (but for one malloc setting that keeps idle interpreters smaller, see interpreter.ts)
    assert.equal(r.env, 'ok {"MALLOC_TRIM_THRESHOLD_":"131072"}');
    for (const k of ['exec', 'readEtc', 'readRepo', 'write']) assert.match(r[k]!, /^denied ERR_ACCESS_DENIED/, `${k}: ${r[k]}`);
    assert.match(r.addon!, /^denied ERR_(ACCESS_DENIED|DLOPEN_DISABLED)/, r.addon);
    for (const k of ['eval', 'Function']) assert.match(r[k]!, /^denied EvalError/, `${k}: ${r[k]}`);
    assert.equal(existsSync(marker), false);
    if (launch.isolation.network === 'netns') {
      assert.match(r.fetch!, /^denied/);
      assert.equal(hits, 0);
      assert.match(r.killHost!, /^denied ESRCH/, 'host processes are invisible from the pid namespace');
    }
  } finally {
    delete process.env.CIR_SANDBOX_PROBE_SECRET;
    await new Promise((r) => server.close(r));
    rmSync(scratch, { recursive: true, force: true });
  }
});
