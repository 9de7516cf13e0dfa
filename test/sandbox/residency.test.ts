// Idle sessions hold no interpreter: their Python state is saved, the process ends, and the next
// block runs in a fresh interpreter with the state loaded. Within a memory budget, sessions take
// the interpreters of the sessions idle longest. Sessions never see each other's state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSandbox, INTERPRETER_PSS_MB, type Sandbox } from '../../src/sandbox/index.ts';
import { childPids, eventually, recordingTools, STEP } from './helpers.ts';

let sandbox: Sandbox;

before(async () => {
  // Room for three interpreter processes; sessions give theirs up at once when idle.
  sandbox = await createSandbox({ poolSize: 0, memoryMb: 192, network: 'auto', memoryBudgetMb: 3 * INTERPRETER_PSS_MB, idleReleaseMs: 0 });
});

after(async () => {
  await sandbox?.close();
});

const savedOnce = () => eventually(() => sandbox.status().saved >= 1 && sandbox.status().busy + sandbox.status().idle === 0);

test('an idle session holds no interpreter, and its next block sees its variables, functions, classes, imports and files', async () => {
  const s = await sandbox.open(recordingTools());
  try {
    const first = await s.run(
      [
        'import statistics as st',
        'from fractions import Fraction',
        'pages = {"a": "text " * 1000}',
        'def score(xs, k=2, *, bonus=1):',
        '    return sum(xs) * k + bonus + offset',
        'def counter():',
        '    n = [0]',
        '    def tick():',
        '        n[0] += 1',
        '        return n[0]',
        '    return tick',
        'tick = counter()',
        'class Note:',
        '    kind = "note"',
        '    def __init__(self, v): self.v = v',
        '    def twice(self): return self.v * 2',
        'note = Note(21)',
        'offset = 10',
        'square = lambda z: z * z',
        'open("/tmp/found.txt", "w").write("kept")',
        'import sys; sys.cir_marker = 1  # a change to a shared module: not part of the saved state',
        'tick()',
      ].join('\n'),
      STEP,
    );
    assert.equal(first.error, null);
    await savedOnce();
    const st = sandbox.status();
    assert.equal(st.live, 0, JSON.stringify(st)); // no process left for this session
    assert.ok(st.savedChars > 0);
    const next = await s.run(
      'print(score([1, 2]), st.mean([1, 3]), Fraction(1, 3), len(pages["a"]), note.twice(), note.kind, square(3), tick(), open("/tmp/found.txt").read(), hasattr(sys, "cir_marker"))',
      STEP,
    );
    assert.equal(next.error, null, next.error ?? '');
    // hasattr False: the block ran in another interpreter than the first one.
    assert.equal(next.output, '17 2 1/3 5000 42 note 9 2 kept False\n');
    assert.equal(next.stateLost, false);
  } finally {
    await s.close();
  }
});

test('a state that does not save keeps its interpreter, and the session goes on with it', async () => {
  const s = await sandbox.open(recordingTools());
  try {
    await s.run('gen = (i for i in range(5))\nprint(next(gen))', STEP);
    // The release is tried and refused: the interpreter stays, held between blocks.
    await eventually(() => sandbox.status().idle === 1);
    const r = await s.run('print(next(gen))', STEP);
    assert.equal(r.output, '1\n');
    assert.equal(r.stateLost, false);
    // Once the generator is gone the state saves again.
    await s.run('del gen\nkept = "yes"', STEP);
    await savedOnce();
    assert.equal((await s.run('print(kept)', STEP)).output, 'yes\n');
  } finally {
    await s.close();
  }
});

test('a state that fails to load is reported as lost, and the session goes on', async () => {
  const s = await sandbox.open(recordingTools());
  try {
    await s.run('class Bad:\n    def __setstate__(self, state):\n        raise ValueError("no")\nb = Bad()\nb.x = 1\nother = 5', STEP);
    await savedOnce();
    const r = await s.run('print("on", "other" in globals())', STEP);
    assert.equal(r.stateLost, true);
    assert.equal(r.output, 'on False\n');
  } finally {
    await s.close();
  }
});

test('beyond the budget, sessions take the interpreters of the idle ones and every session keeps its state', async () => {
  // Sessions keep their interpreters while idle; only the budget (3 processes) makes them go.
  const tight = await createSandbox({ poolSize: 0, memoryMb: 192, network: 'auto', memoryBudgetMb: 3 * INTERPRETER_PSS_MB, idleReleaseMs: -1 });
  const sessions = await Promise.all(Array.from({ length: 5 }, () => tight.open(recordingTools())));
  let peakLive = 0;
  let peakChildren = 0;
  const watch = setInterval(() => {
    peakLive = Math.max(peakLive, tight.status().live);
    peakChildren = Math.max(peakChildren, childPids().length);
  }, 20);
  try {
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(sessions.map((s, i) => s.run(round === 0 ? `mine = ${i} * 100` : 'mine += 1\nprint(mine)', STEP)));
      if (round === 1) results.forEach((r, i) => assert.equal(r.output, `${i * 100 + 1}\n`, `session ${i}: ${JSON.stringify(r)}`));
      for (const r of results) assert.equal(r.stateLost, false);
    }
    const st = tight.status();
    assert.ok(st.saved >= 2, JSON.stringify(st)); // five sessions, three interpreters: at least two saved
    assert.ok(peakLive <= 3, `live interpreters peaked at ${peakLive}`);
    // Each interpreter is one process (two with the namespace wrapper); the budget holds for them too.
    assert.ok(peakChildren <= 3, `interpreter processes peaked at ${peakChildren}`);
  } finally {
    clearInterval(watch);
    await Promise.all(sessions.map((s) => s.close()));
    await tight.close();
  }
});

test("one session cannot read another's variables, files or modules, before or after being saved, even from the js side", async () => {
  const a = await sandbox.open(recordingTools());
  const b = await sandbox.open(recordingTools());
  try {
    await a.run('secret_a = "alpha-7"\nopen("/tmp/a-only.txt", "w").write("alpha-7")\nimport textwrap\ntextwrap.cir_secret = "alpha-7"\nimport js\njs.cir_secret = "alpha-7"\ndel js  # a JavaScript object does not save', STEP);
    const probe = [
      'import sys, os, js, gc, warnings',
      'warnings.simplefilter("ignore")  # comparing against every object wakes deprecation warnings',
      'found = []',
      'found += ["var"] if "secret_a" in globals() else []',
      'found += ["file"] if os.path.exists("/tmp/a-only.txt") else []',
      'found += ["module"] if hasattr(sys.modules.get("textwrap"), "cir_secret") else []',
      'found += ["js"] if "cir_secret" in dir(js) else []',
      // gc tracks containers, not strings: look for the value inside every dict, list and tuple
      // (the value is built inside a function, so that the probe's own namespace does not hold it)
      'def in_heap(parts):',
      '    needle = "".join(parts)',
      '    return any(needle in (o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()) for o in gc.get_objects())',
      'found += ["heap"] if in_heap(["alpha", "-7"]) else []',
      'print(found)',
    ].join('\n');
    // While a is saved (its interpreter gone) and after it ran again in a fresh one.
    await savedOnce();
    assert.equal((await b.run(probe, STEP)).output, '[]\n');
    assert.equal((await a.run('print(secret_a)', STEP)).output, 'alpha-7\n');
    assert.equal((await b.run(probe, STEP)).output, '[]\n');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('when the budget is full of sessions whose state does not save, the oldest gives up only what does not save, and is told', async () => {
  const one = await createSandbox({ poolSize: 0, memoryMb: 192, network: 'auto', memoryBudgetMb: INTERPRETER_PSS_MB, idleReleaseMs: -1 });
  const a = await one.open(recordingTools());
  const b = await one.open(recordingTools());
  try {
    await a.run('gen = (i for i in range(3))\nkeep = 5', STEP);
    // b needs the only interpreter: a is idle, and its generator cannot be saved.
    assert.equal((await b.run('print("b ran")', STEP)).output, 'b ran\n');
    const r = await a.run('print(keep, "gen" in globals())', STEP);
    assert.equal(r.stateLost, false);
    assert.match(r.output, /^\[sandbox note: gen could not be kept while this session waited/);
    assert.match(r.output, /\n5 False\n$/);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await one.close();
  }
});
