// What a research session sees: state across blocks, tools callable from any construct, host
// errors as exceptions, readable tracebacks, and nothing carried over from another session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { recordingTools, STEP, testSandbox, type RecordingTools } from './helpers.ts';

let sandbox: Sandbox;
let session: SandboxSession;
let tools: RecordingTools;

before(async () => {
  sandbox = await testSandbox(2);
  tools = recordingTools();
  session = await sandbox.open(tools);
});

after(async () => {
  await session?.close();
  await sandbox?.close();
});

test('variables, imports and functions persist across blocks of one session', async () => {
  const a = await session.run('from fractions import Fraction as F\ncount = 41\ndef bump(x):\n    return x + 1\n', STEP);
  assert.equal(a.error, null);
  const b = await session.run('count = bump(count)\nprint(count, F(1, 3))', STEP);
  assert.equal(b.output, '42 1/3\n');
  assert.equal(b.stateLost, false);
  assert.equal(b.stopped, null);
});

test('the usual modules are there without importing', async () => {
  const r = await session.run('print(re.sub("a", "b", "aa"), json.dumps([1]), math.floor(2.5), collections.Counter("aab")["a"], list(itertools.islice(itertools.count(), 2)), datetime.date(2020, 1, 2).isoformat())', STEP);
  assert.equal(r.error, null);
  assert.equal(r.output, 'bb [1] 2 2 [0, 1] 2020-01-02\n');
});

test('tools are callable synchronously from comprehensions, generators, nested functions and sort keys', async () => {
  tools.calls.length = 0;
  const code = [
    'a = [web_search(q, num_result=2) for q in ["x", "y"]]',
    'g = list(web_visit(u) for u in ("ab", "cd"))',
    'def outer():',
    '    def inner(u):',
    '        return visit_webpage(u)',
    '    return inner("xyz")',
    'k = sorted(["b", "a"], key=lambda s: web_search(s, max_result=3))',
    'print(a, g, outer(), k, web_search("z"))',
  ].join('\n');
  const r = await session.run(code, STEP);
  assert.equal(r.error, null);
  assert.equal(r.output, "['result:x:2', 'result:y:2'] ['ba', 'dc'] zyx ['a', 'b'] result:z:10\n");
  assert.deepEqual(tools.calls, [
    'search:x:2',
    'search:y:2',
    'visit:ab',
    'visit:cd',
    'search:b:3',
    'search:a:3',
    'visit:xyz',
    'search:z:10',
  ]);
});

test('a large tool result crosses the bridge intact', async () => {
  const big = `${'é'.repeat(50_000)}${'x'.repeat(50_000)}`;
  const s = await sandbox.open({ webSearch: async () => big, webVisit: async () => big });
  try {
    const r = await s.run('t = web_visit("u")\nprint(len(t), t[:2], t[-2:], t == web_search("q"))', STEP);
    assert.equal(r.output, '100000 éé xx True\n');
  } finally {
    await s.close();
  }
});

test('a host error becomes a Python exception the code can catch and read', async () => {
  const caught = await session.run('try:\n    web_visit("https://fail.example/")\nexcept Exception as e:\n    print(type(e).__name__, "|", e)', STEP);
  assert.equal(caught.output, 'ToolError | could not fetch https://fail.example/: 404 Not Found\n');
  const raised = await session.run('x = 1\nweb_visit("https://fail.example/")', STEP);
  assert.match(raised.error ?? '', /^Traceback \(most recent call last\):\n {2}File "<code>", line 2, in <module>\nToolError: could not fetch/);
  assert.equal(raised.stopped, null);
});

test('tracebacks are short, show the user code and no host paths', async () => {
  const r = await session.run('def f(d):\n    return d["missing"]\nprint("before")\nf({})', STEP);
  assert.equal(r.output, 'before\n');
  assert.equal(r.error, 'Traceback (most recent call last):\n  File "<code>", line 4, in <module>\n  File "<code>", line 2, in f\nKeyError: \'missing\'\n');
  const syntax = await session.run('print("unclosed"', STEP);
  assert.match(syntax.error ?? '', /File "<code>", line 1[\s\S]*SyntaxError/);
  const lib = await session.run('json.loads("{bad")', STEP);
  assert.match(lib.error ?? '', /JSONDecodeError/);
  for (const e of [r.error, syntax.error, lib.error]) {
    assert.ok(!/\/work\/|node_modules|\.ts\b|_pyodide|<cir>/.test(e ?? ''), e ?? '');
  }
});

test('stdout and stderr are captured together, including a partial last line', async () => {
  const r = await session.run('import sys\nprint("out")\nsys.stderr.write("err\\n")\nsys.stdout.write("partial")', STEP);
  assert.equal(r.output, 'out\nerr\npartial');
});

test('sys.exit ends the block quietly, and the session goes on', async () => {
  const r = await session.run('print("a")\nimport sys\nsys.exit()\nprint("b")', STEP);
  assert.equal(r.output, 'a\n');
  assert.equal(r.error, null);
  assert.equal((await session.run('print("still here")', STEP)).output, 'still here\n');
});

test('nothing leaks from one session to another', async () => {
  const a = await sandbox.open(recordingTools());
  const b = await sandbox.open(recordingTools());
  try {
    await a.run(
      [
        'secret_var = "from-a"',
        'import builtins, sys, json',
        'builtins.len = lambda x: -1',
        'json.dumps = lambda *a, **k: "patched"',
        'sys.modules["planted"] = json',
        'open("/tmp/planted.txt", "w").write("from-a")',
      ].join('\n'),
      STEP,
    );
    const r = await b.run(
      [
        'import os, sys',
        'print("secret_var" in globals(), len([1, 2]), json.dumps(1), "planted" in sys.modules, os.path.exists("/tmp/planted.txt"))',
      ].join('\n'),
      STEP,
    );
    assert.equal(r.error, null);
    assert.equal(r.output, 'False 2 1 False False\n');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('several sessions run at once, each with its own tools and state', async () => {
  const n = 3;
  const opened = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const t = recordingTools();
      return { i, t, s: await sandbox.open(t) };
    }),
  );
  try {
    const results = await Promise.all(
      opened.map(async ({ i, s }) => {
        await s.run(`me = ${i}`, STEP);
        return s.run('print(me, [web_visit(f"s{me}-{k}") for k in range(3)])', STEP);
      }),
    );
    results.forEach((r, i) => assert.equal(r.output, `${i} ['0-${i}s', '1-${i}s', '2-${i}s']\n`));
    opened.forEach(({ i, t }) => assert.deepEqual(t.calls, [0, 1, 2].map((k) => `visit:s${i}-${k}`)));
    const st = sandbox.status();
    assert.ok(st.busy + st.idle >= n, JSON.stringify(st)); // each holds its own interpreter
  } finally {
    await Promise.all(opened.map(({ s }) => s.close()));
  }
});

test('a closed session refuses to run', async () => {
  const s = await sandbox.open(recordingTools());
  await s.close();
  await assert.rejects(s.run('print(1)', STEP), /closed/);
});

test('closing a session while its block runs stops the block and ends its process', async () => {
  const s = await sandbox.open(recordingTools());
  const running = s.run('while True:\n    pass', STEP);
  await new Promise((r) => setTimeout(r, 200));
  await s.close();
  const r = await running;
  assert.equal(r.stopped, 'cancelled');
  assert.equal(r.stateLost, false);
});
