// Exhausting the host through the IPC bridge: huge arguments, huge output from a tampered prelude,
// floods of tool calls, unknown host functions, and Python scheduled to run after its block ended.
// The bot's process must see only bounded data, and only calls made inside a running block.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { MAX_CALLS_PER_BLOCK } from '../../src/sandbox/interpreter.ts';
import { MAX_ARG_CHARS, MAX_TEXT_CHARS } from '../../src/sandbox/protocol.ts';
import { recordingTools, STEP, testSandbox, type RecordingTools } from '../sandbox/helpers.ts';

let sandbox: Sandbox;
let session: SandboxSession;
let tools: RecordingTools;
const longest: { arg: number } = { arg: 0 };

before(async () => {
  sandbox = await testSandbox(0, 256);
  const inner = recordingTools();
  tools = {
    calls: inner.calls,
    webSearch: (q, n) => {
      longest.arg = Math.max(longest.arg, q.length);
      return inner.webSearch(q.slice(0, 40), n);
    },
    webVisit: (u) => {
      longest.arg = Math.max(longest.arg, u.length);
      return inner.webVisit(u.slice(0, 40));
    },
  };
  session = await sandbox.open(tools);
});

after(async () => {
  await session?.close();
  await sandbox?.close();
});

test('a huge tool argument is refused inside the sandbox process and never reaches the host', async () => {
  const r = await session.run(
    [
      'for f, arg in ((web_search, "q" * 50_000_000), (web_visit, "https://e.com/" + "a" * 100_000)):',
      '    try:',
      '        f(arg)',
      '    except ToolError as e:',
      '        print("refused:", e)',
      'import _cir_host',
      'print(_cir_host.call("visit", "u" * 20_000_000, 0))',
    ].join('\n'),
    STEP,
  );
  assert.equal(r.error, null, r.error ?? '');
  assert.equal(r.output.match(/refused: argument too long \(\d+ characters; the limit is 16384\)/g)?.length, 2, r.output);
  assert.match(r.output, /^0,argument too long \(20000000 characters/m);
  assert.equal(longest.arg, 0, 'no oversized argument may reach a host tool');
  assert.deepEqual(tools.calls, []);
  // An argument at the limit is a normal call.
  assert.equal((await session.run(`print(len(web_search("q" * ${MAX_ARG_CHARS})))`, STEP)).error, null);
  assert.equal(longest.arg, MAX_ARG_CHARS);
});

test('output stays bounded at the process boundary even when the prelude is tampered with', async () => {
  await session.run('import _cir\n_cir.OUTPUT_LIMIT = 10**10', STEP); // applies from the next block
  try {
    const r = await session.run('print("x" * 30_000_000)', STEP);
    assert.ok(r.output.length <= MAX_TEXT_CHARS + 100, `output of ${r.output.length} characters reached the host`);
    assert.match(r.output, /^x{1000}[\s\S]*output cut at the sandbox boundary\]$/);
  } finally {
    await session.run('_cir.OUTPUT_LIMIT = 256 * 1024', STEP);
  }
});

test('a 10 MB exception message (or stderr flood) gives a short error', async () => {
  const r = await session.run('import sys\nsys.stderr.write("e" * 5_000_000)\nraise ValueError("y" * 10_000_000)', STEP);
  assert.match(r.error ?? '', /^Traceback[\s\S]*ValueError: y+\.\.\. \[\d+ more characters\]\n$/);
  assert.ok((r.error ?? '').length < 5000, `error of ${r.error?.length} characters`);
  assert.ok(r.output.length < 300_000, `output of ${r.output.length} characters`);
});

test('thousands of tool calls in one block are cut at the per-block limit', async () => {
  tools.calls.length = 0;
  const r = await session.run(
    ['done = refused = 0', 'for i in range(2000):', '    try:', '        web_search(f"q{i}")', '        done += 1', '    except ToolError as e:', '        refused += 1', '        last = str(e)', 'print(done, refused, last)'].join('\n'),
    STEP,
  );
  assert.equal(r.output, `${MAX_CALLS_PER_BLOCK} ${2000 - MAX_CALLS_PER_BLOCK} too many tool calls in one block (the limit is ${MAX_CALLS_PER_BLOCK})\n`);
  assert.equal(tools.calls.length, MAX_CALLS_PER_BLOCK);
  // The limit is per block: the next one may call again.
  assert.equal((await session.run('print(web_search("again"))', STEP)).output, 'result:again:10\n');
});

test('an unknown host function is refused without reaching the host', async () => {
  tools.calls.length = 0;
  const r = await session.run('import _cir_host\nprint(_cir_host.call("exec", "rm -rf /", 0))', STEP);
  assert.equal(r.output, '0,unknown host function\n');
  assert.deepEqual(tools.calls, []);
});

test('Python scheduled for later never runs between blocks (no work outside the time limit)', async () => {
  tools.calls.length = 0;
  const scheduled = await session.run(
    [
      'import asyncio, pyodide_js, threading',
      'ran = []',
      'def sneak(tag):',
      '    ran.append(tag)',
      '    web_search("from " + tag)',
      '    while True: pass',
      'loop = asyncio.get_event_loop()',
      'loop.call_soon(sneak, "call_soon")',
      'loop.call_later(0.01, sneak, "call_later")',
      'pyodide_js.loadPackage([]).add_done_callback(lambda f: sneak("future"))',
      'try:',
      '    threading.Thread(target=sneak, args=("thread",), daemon=True).start()',
      'except RuntimeError as e:',
      '    print("thread:", e)',
    ].join('\n'),
    STEP,
  );
  assert.equal(scheduled.output, "thread: can't start new thread\n");
  await new Promise((r) => setTimeout(r, 400)); // as if the model were writing its next block
  const next = await session.run('print(ran)', STEP);
  assert.equal(next.output, '[]\n');
  assert.equal(next.stateLost, false);
  assert.deepEqual(tools.calls, []);
});
