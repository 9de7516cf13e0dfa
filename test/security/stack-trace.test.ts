// Error.prepareStackTrace set from Python's `js` side (reached through `js.constructor` and a caught
// JavaScript error, as `import js` is an empty object here): V8 then hands the hook the CallSite objects
// of every JavaScript error in the interpreter's realm, the harness's own errors included. Its code
// is strict (ES modules), so a CallSite gives neither `this` nor the function of a JavaScript
// frame: the hook learns file names and lines, never a handle on the bridge. (Wasm frames give
// Pyodide's own module instance, which the code runs inside anyway, in its own sealed process.)
// The session's results and errors stay the harness's own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { recordingTools, STEP, testSandbox } from '../sandbox/helpers.ts';

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

test('a prepareStackTrace hook from Python gets no harness function or receiver, and changes no result', async () => {
  const install = await session.run(
    [
      'import js',
      'from pyodide.ffi import create_proxy, JsException',
      // `js` is an empty object here, but its constructor is Object, and a JavaScript error
      // caught in Python leads to Error: the way code would reach the hook.
      'Object = js.constructor',
      'try:',
      '    Object.defineProperty(1, 2, 3)',
      'except JsException as e:',
      '    Error = Object.getPrototypeOf(e.js_error.constructor)',
      'assert Error.name == "Error", Error.name',
      'grabbed = []',
      'def hook(err, frames):',
      '    for f in frames:',
      '        grabbed.append((str(f.getFileName()), f.getFunction() is not None and str(type(f.getFunction())), f.getThis() is not None and str(type(f.getThis()))))',
      '    return "hijacked"',
      'Error.prepareStackTrace = create_proxy(hook)',
      'Error.stackTraceLimit = 100',
      'print("installed")',
    ].join('\n'),
    STEP,
  );
  assert.equal(install.error, null, install.error ?? '');
  assert.equal(install.output, 'installed\n');

  // Errors made by the harness while the hook is in place: a host failure crossing the bridge, and
  // a JavaScript error raised inside the runtime.
  const r = await session.run(
    [
      'try:',
      '    web_visit("https://fail.example/")',
      'except ToolError as e:',
      '    print("tool:", e)',
      'try:',
      '    Object.defineProperty(1, 2, 3)',
      'except Exception as e:',
      '    print("js:", type(e).__name__)',
      'print(web_search("still works", num_result=2))',
      // Wasm frames are Pyodide's own module, which the code runs inside anyway; JavaScript frames
      // are the harness and the runtime.
      'js_frames = [g for g in grabbed if not g[0].startswith("wasm://")]',
      'print("handles:", [g for g in js_frames if g[1] or g[2]])',
      'print("js frames seen:", len(js_frames) > 0)',
    ].join('\n'),
    STEP,
  );
  assert.equal(r.error, null, r.error ?? '');
  assert.equal(r.stateLost, false);
  const lines = r.output.trim().split('\n');
  assert.equal(lines[0], 'tool: could not fetch https://fail.example/: 404 Not Found');
  assert.equal(lines[1], 'js: JsException');
  assert.equal(lines[2], 'result:still works:2');
  assert.equal(lines[3], 'handles: []', 'no JavaScript CallSite gave a function or a receiver');
  assert.equal(lines[4], 'js frames seen: True', 'the hook saw JavaScript frames: the check above proves something');
  // The hook ran (the check above saw frames, so it proves something).
  const count = await session.run('print(len(grabbed) > 0)', STEP);
  assert.equal(count.output, 'True\n');
});
