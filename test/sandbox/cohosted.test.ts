// Interpreters of different sessions share a process (host.ts): each is a worker thread with its
// own V8 isolate and wasm memory. These show that sharing the process shares nothing a session can
// reach: not a variable, file, module, `js` or `pyodide_js` attribute, nor the heap; and that
// killing one interpreter (a block that swallows its interrupt) leaves the others as they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSandbox, type Sandbox, type SandboxSession } from '../../src/sandbox/index.ts';
import { childPids, recordingTools, STEP } from './helpers.ts';

let sandbox: Sandbox;
let a: SandboxSession;
let b: SandboxSession;

before(async () => {
  sandbox = await createSandbox({ poolSize: 0, memoryMb: 128, network: 'auto', idleReleaseMs: -1, interpretersPerProcess: 4 });
  a = await sandbox.open(recordingTools());
  b = await sandbox.open(recordingTools());
  // Both hold a live interpreter from here on (idle sessions keep theirs: idleReleaseMs -1).
  await Promise.all([a.run('pass', STEP), b.run('pass', STEP)]);
});

after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await sandbox?.close();
});

test('two live interpreters share one process', () => {
  const st = sandbox.status();
  assert.equal(st.idle, 2, JSON.stringify(st));
  assert.equal(childPids().length, 1, 'one interpreter process holds both');
});

test("a co-hosted session cannot read another's variables, files, modules, js or pyodide_js attributes, or heap", async () => {
  const plant = [
    'secret_a = "bravo-9"',
    'open("/tmp/a-only.txt", "w").write("bravo-9")',
    'import textwrap, js, pyodide_js',
    'textwrap.cir_secret = "bravo-9"',
    'js.cir_secret = "bravo-9"',
    'pyodide_js.cir_secret = "bravo-9"',
    'pyodide_js.FS.writeFile("/tmp/a-js.txt", "bravo-9")  # through the JavaScript side of the file system',
  ].join('\n');
  assert.equal((await a.run(plant, STEP)).error, null);
  const probe = [
    'import sys, os, js, gc, pyodide_js, warnings',
    'warnings.simplefilter("ignore")  # comparing against every object wakes deprecation warnings',
    'found = []',
    'found += ["var"] if "secret_a" in globals() else []',
    'found += ["file"] if os.path.exists("/tmp/a-only.txt") or os.path.exists("/tmp/a-js.txt") else []',
    'found += ["module"] if hasattr(sys.modules.get("textwrap"), "cir_secret") else []',
    'found += ["js"] if "cir_secret" in dir(js) else []',
    'found += ["pyodide_js"] if "cir_secret" in dir(pyodide_js) else []',
    // gc tracks containers, not strings: look for the value inside every dict, list and tuple
    // (the value is built inside a function, so that the probe's own namespace does not hold it)
    'def in_heap(parts):',
    '    needle = "".join(parts)',
    '    return any(needle in (o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()) for o in gc.get_objects())',
    'found += ["heap"] if in_heap(["bravo", "-9"]) else []',
    'print(found)',
  ].join('\n');
  // The probe sees all of it where it was planted...
  assert.equal((await a.run(probe, STEP)).output, "['var', 'file', 'module', 'js', 'pyodide_js', 'heap']\n");
  // ...and none of it next door.
  assert.equal((await b.run(probe, STEP)).output, '[]\n');
  assert.equal((await a.run('print(secret_a, open("/tmp/a-js.txt").read())', STEP)).output, 'bravo-9 bravo-9\n');
});

test('killing one interpreter of a process leaves its neighbour running, with its state', async () => {
  await b.run('neighbour = 41', STEP);
  const [pid] = childPids();
  const swallow = 'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass';
  const r = await a.run(swallow, { timeoutMs: 500 });
  assert.equal(r.stopped, 'timeout');
  assert.equal(r.stateLost, true, 'the swallowing interpreter was ended');
  const n = await b.run('neighbour += 1\nprint(neighbour)', STEP);
  assert.deepEqual([n.output, n.stateLost], ['42\n', false]);
  assert.ok(childPids().includes(pid!), 'the process itself lived on');
  assert.equal((await a.run('print("secret_a" in globals())', STEP)).output, 'False\n');
});
