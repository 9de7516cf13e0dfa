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

// Every SharedArrayBuffer Python can reach from the JavaScript side, with its size: a bounded walk
// over the objects below `pyodide_js` and `js` (functions are looked at, not walked into; typed
// arrays and long arrays are not listed element by element).
const SHARED_MEMORY_WALK = [
  'import pyodide_js, js',
  'from pyodide.ffi import JsProxy, JsBuffer',
  'MARK = "__cir_walked"',
  'def shared_size(o):',
  '    try:',
  '        if o.constructor.name == "SharedArrayBuffer": return o.byteLength',
  '        return o.buffer.byteLength if o.buffer.constructor.name == "SharedArrayBuffer" else None',
  '    except Exception:',
  '        return None',
  'def first_visit(o):',
  '    try:',
  '        if o.hasOwnProperty(MARK): return False',
  '        setattr(o, MARK, 1)',
  '    except Exception:',
  '        pass',
  '    return True',
  'found, stack, visited = [], [("pyodide_js", pyodide_js), ("js", js)], 0',
  'while stack and visited < 50000:',
  '    path, o = stack.pop()',
  '    visited += 1',
  '    size = shared_size(o)',
  '    if size is not None:',
  '        found.append((path, size))',
  '        continue',
  '    if isinstance(o, JsBuffer) or o.typeof == "function" or getattr(o, "length", 0) > 10000: continue',
  '    try: names = dir(o)',
  '    except Exception: continue',
  '    for n in names:',
  '        if n == MARK: continue',
  '        try: v = getattr(o, n)',
  '        except Exception: continue',
  '        if isinstance(v, JsProxy) and v.typeof in ("object", "function") and first_visit(v):',
  '            stack.append((path + "." + n, v))',
  'print(sorted(set(found)), "complete" if not stack else "cut short", visited > 5000)',
].join('\n');

test('the process\'s shared snapshot copy is out of reach: the only shared memory Python reaches is its own interrupt flag', async () => {
  // The interpreters of a process load from one shared copy of the snapshot (child/main.ts); a
  // reference left behind (pyodide keeps its config, with _loadSnapshot) would let one session
  // write into what its neighbours start from. The interrupt flag (8 bytes, shared with this
  // interpreter's own controller) is the walk's positive control: shared memory where it is reachable.
  const r = await a.run(SHARED_MEMORY_WALK, { timeoutMs: 60_000 });
  assert.equal(r.error, null);
  assert.equal(r.output, "[('pyodide_js._module.Py_EmscriptenSignalBuffer', 8)] complete True\n");
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

test('a session whose block takes its whole process down runs alone from then on: its neighbours lose their state once', async () => {
  // A JavaScript heap grown key by key aborts the whole process, not just its thread, despite
  // the thread's heap limit (nodejs/node#47224; the limit's termination is best-effort).
  const takeProcess = [
    'import pyodide_js',
    'grow = pyodide_js._api.config.constructor.new()',
    'for i in range(10 ** 9):',
    '    setattr(grow, "k%d" % i, i)',
  ].join('\n');
  const attacker = await sandbox.open(recordingTools());
  const neighbour = await sandbox.open(recordingTools());
  try {
    await Promise.all([attacker.run('pass', STEP), neighbour.run('kept = 1', STEP)]);
    assert.equal(childPids().length, 1, 'precondition: the two share a process');
    const first = await attacker.run(takeProcess, { timeoutMs: 60_000 });
    assert.deepEqual([first.stopped, first.stateLost], ['crashed', true]);
    const once = await neighbour.run('print("kept" in globals())', STEP);
    assert.deepEqual([once.output, once.stateLost], ['False\n', true], 'precondition: the block took the whole process (the neighbour lost its state)');

    await Promise.all([attacker.run('pass', STEP), neighbour.run('kept = 2', STEP)]);
    assert.equal(childPids().length, 2, 'the attacker now has a process of its own');
    const again = await attacker.run(takeProcess, { timeoutMs: 60_000 });
    assert.deepEqual([again.stopped, again.stateLost], ['crashed', true]);
    const kept = await neighbour.run('print(kept)', STEP);
    assert.deepEqual([kept.output, kept.stateLost], ['2\n', false], 'the second time only the attacker lost its interpreter');
  } finally {
    await Promise.all([attacker.close(), neighbour.close()]);
  }
});
