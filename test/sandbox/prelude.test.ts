// The namespace every block runs in: the standard library's names bare, as the reference harness
// gives them (builtins and module names never shadowed), and a harness that survives model code
// rebinding the functions it relies on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { recordingTools, STEP, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
let session: SandboxSession;

before(async () => {
  sandbox = await testSandbox(1);
  session = await sandbox.open(recordingTools());
});

after(async () => {
  await session?.close();
  await sandbox?.close();
});

test('bare stdlib names work without an import: Counter, sqrt, findall, loads, reduce, mean, timedelta, ascii_lowercase', async () => {
  const r = await session.run(
    [
      'print(Counter("aab")["a"], sqrt(16), findall(r"\\d", "a1b2"), loads("[1]"), reduce(lambda a, b: a + b, [1, 2, 3]))',
      'print(mean([1, 2, 3]), timedelta(days=1).days, ascii_lowercase[:3], list(chain([1], [2])), defaultdict(int)["x"])',
    ].join('\n'),
    STEP,
  );
  assert.equal(r.error, null);
  assert.equal(r.output, "2 4.0 ['1', '2'] [1] 6\n2 1 abc [1, 2] 0\n");
});

test('builtins and module names are never shadowed by a star-imported name', async () => {
  // math.pow would make pow(2, 100) a float; re.compile would replace compile; datetime stays the module.
  const r = await session.run('print(pow(2, 100), compile is __builtins__.compile, type(datetime).__name__, type(random).__name__, callable(copy.copy))', STEP);
  assert.equal(r.error, null);
  assert.equal(r.output, '1267650600228229401496703205376 True module module True\n');
});

test('code that rebinds json.dumps, traceback and builtins the harness uses keeps its interpreter', async () => {
  const first = await session.run(
    [
      'import builtins, traceback',
      'keep = builtins.len, builtins.compile, builtins.exec',
      'json.dumps = None',
      'json.JSONEncoder.encode = None',
      'traceback.format_list = None',
      'traceback.extract_tb = None',
      'builtins.len = builtins.compile = builtins.exec = None',
      'print("rebound")',
      '1 / 0',
    ].join('\n'),
    STEP,
  );
  assert.equal(first.stateLost, false);
  assert.equal(first.output, 'rebound\n');
  assert.match(first.error ?? '', /ZeroDivisionError/);
  const second = await session.run('builtins.len, builtins.compile, builtins.exec = keep\nprint(len("abc"))', STEP);
  assert.equal(second.stateLost, false);
  assert.equal(second.error, null);
  assert.equal(second.output, '3\n');
});
