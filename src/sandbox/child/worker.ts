// The Python thread of an interpreter process: loads Pyodide (capped memory, no `js` globals),
// runs blocks, and turns Python's synchronous tool calls into messages to the controller thread,
// waiting for the reply with Atomics.wait (the doorbell) and receiveMessageOnPort.
// Runs inside the sandbox process; imports only Node built-ins and pyodide.
import './seal.ts'; // first: no network for anything loaded after it
import { constants as fsConstants, readFileSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ChildInit, ControllerToWorker, SharedLoad, WorkerToController } from '../protocol.ts';

interface WorkerData {
  init: ChildInit;
  shared: SharedArrayBuffer;
  callPort: MessagePort;
  /** pyodide.asm.wasm compiled once by the controller thread (null: compile here). */
  module: unknown;
  /** Carries one message: the snapshot, read once by the controller into shared memory (null: read it here). */
  snapshotPort: MessagePort;
}

const { init, shared, callPort, module: compiled, snapshotPort } = workerData as WorkerData;
const bell = new Int32Array(shared, 0, 1);
const interrupt = new Int32Array(shared, 4, 1);
const port = parentPort!;
/** Told to the host with 'ready': a fallback to this thread's own compile or read stays visible. */
const sharedLoad: SharedLoad = { module: false, snapshot: false };
const post = (m: WorkerToController, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

// Memory cap: Emscripten treats a failed grow() as out-of-memory, which Python sees as MemoryError.
const capBytes = init.memoryMb * 1024 * 1024;
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(delta: number): number;
}
const memoryProto = (globalThis as unknown as { WebAssembly: { Memory: { prototype: WasmMemory } } }).WebAssembly.Memory.prototype;
const realGrow = memoryProto.grow;
memoryProto.grow = function grow(this: WasmMemory, delta: number) {
  if (this.buffer.byteLength + delta * 65536 > capBytes) throw new RangeError('sandbox memory cap reached');
  return realGrow.call(this, delta);
};

// Pyodide instantiates its wasm from the file's bytes; with the process's compiled module at hand,
// that module is instantiated instead (same bytes, compiled once: ~0.2 CPU-s less a start, and
// code V8 has tiered up for one interpreter serves the next).
// Its loader still reads the 9.6 MB file first: that read is answered with a stand-in, which the
// instantiation below recognises (fresh pages for bytes never used: ~2,400 page faults a start).
if (compiled) {
  const wasmPath = `${init.indexURL}pyodide.asm.wasm`.replace(/^file:\/\//, '');
  const standIn = Buffer.alloc(16); // not from Buffer's pool: its ArrayBuffer is its own
  const readFile = fsPromises.readFile;
  fsPromises.readFile = ((path: unknown, ...rest: unknown[]) =>
    path === wasmPath ? Promise.resolve(standIn) : (readFile as (...a: unknown[]) => unknown)(path, ...rest)) as typeof readFile;
  syncBuiltinESMExports(); // pyodide imports node:fs/promises: its namespace now sees the change
  const wasm = (globalThis as unknown as { WebAssembly: { instantiate: (src: unknown, imports?: unknown) => Promise<unknown> } }).WebAssembly;
  const instantiate = wasm.instantiate.bind(wasm);
  wasm.instantiate = async (src: unknown, imports?: unknown) => {
    const ours = ArrayBuffer.isView(src) && src.buffer === standIn.buffer;
    if (!ours) return instantiate(src, imports);
    fsPromises.readFile = readFile;
    syncBuiltinESMExports();
    wasm.instantiate = instantiate; // once: later calls (Python's own) see the original
    sharedLoad.module = true;
    return { instance: await instantiate(compiled, imports), module: compiled };
  };
}

// Emscripten's NODEFS asks for process.binding('constants'), which --permission forbids.
(process as unknown as { binding: (name: string) => unknown }).binding = (name: string) => {
  if (name === 'constants') return { fs: fsConstants };
  throw new Error(`process.binding('${name}') is not available in the sandbox`);
};

type Py = Awaited<ReturnType<typeof import('pyodide').loadPyodide>>;

async function load(): Promise<{ py: Py; fromSnapshot: boolean; loadMs: number }> {
  const started = performance.now();
  const { loadPyodide } = (await import(pathToFileURL(`${init.indexURL}pyodide.mjs`).href)) as typeof import('pyodide');
  const snapshot = init.mode !== 'serve' || !init.snapshotPath ? undefined : takeSnapshot(init.snapshotPath);
  const py = await loadPyodide({
    indexURL: init.indexURL,
    jsglobals: {}, // `import js` gives an empty object, not this thread's globalThis
    env: { HOME: '/home/pyodide' },
    stdout: () => {},
    stderr: () => {},
    ...(init.mode === 'build-snapshot' ? { _makeSnapshot: true } : {}),
    ...(snapshot ? { _loadSnapshot: snapshot } : {}),
  });
  if (!snapshot) installPrelude(py);
  releaseLoadBuffers(py, snapshot);
  return { py, fromSnapshot: Boolean(snapshot), loadMs: performance.now() - started };
}

/** The shared snapshot if the controller sent one, else this thread's own read of the file. */
function takeSnapshot(path: string): Uint8Array {
  const sent = receiveMessageOnPort(snapshotPort)?.message as { snapshot: SharedArrayBuffer | null } | undefined;
  snapshotPort.close();
  sharedLoad.snapshot = Boolean(sent?.snapshot);
  return sent?.snapshot ? new Uint8Array(sent.snapshot) : readFileSync(path);
}

/**
 * Pyodide keeps what it loaded from reachable after start-up: the snapshot bytes (30 MB, through
 * its config object) and pyodide.asm.wasm's bytes (9.6 MB, through the instantiateWasm closure on
 * its Module). Both were copied into the wasm heap / compiled and are never read again, so they
 * are let go here: measured, ~20 MB less RSS per process. (The stdlib zip, 2.5 MB, stays: Python
 * imports from it.)
 */
function releaseLoadBuffers(py: Py, snapshot: Uint8Array | undefined): void {
  // Detaching frees the backing store at once, whoever still points at the Buffer. A shared
  // snapshot cannot be detached: it is the process's one copy, which the next interpreter loads,
  // so the reference is dropped instead, or Python could write into its neighbours' start-up
  // (reachable as pyodide_js._api.config._loadSnapshot; cohosted.test.ts looks for it).
  if (snapshot && snapshot.buffer instanceof ArrayBuffer && snapshot.buffer.byteLength === snapshot.byteLength) snapshot.buffer.transfer(0);
  const api = py as unknown as { _api?: { config?: { _loadSnapshot?: unknown } }; _module?: { instantiateWasm?: unknown } };
  if (api._api?.config) delete api._api.config._loadSnapshot;
  if (api._module) delete api._module.instantiateWasm;
}

/** The harness (prelude.py as `_cir`) and the state saver (state.py as `_cir_state`), as modules. */
function installPrelude(py: Py): void {
  for (const [file, name] of [['prelude.py', '_cir'], ['state.py', '_cir_state']] as const) {
    py.globals.set('_cir_source', readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'));
    py.runPython(
      [
        'import sys as _s, types as _t',
        `_m = _t.ModuleType('${name}')`,
        `exec(compile(_cir_source, '<${name}>', 'exec'), _m.__dict__)`,
        `_s.modules['${name}'] = _m`,
        'del _s, _t, _m, _cir_source',
      ].join('\n'),
    );
  }
}

let callSeq = 0;

/** Python -> host: blocks this thread until the controller hands back the reply for this call. */
/** Status 1 = value, 0 = host error message, -1 = the block is being interrupted. */
function hostCall(kind: string, a: string, b: number): [number, string] {
  const id = ++callSeq;
  callPort.postMessage({ id, kind, a, b });
  for (;;) {
    const seen = Atomics.load(bell, 0);
    for (let m = receiveMessageOnPort(callPort); m; m = receiveMessageOnPort(callPort)) {
      const reply = m.message as { id: number; ok: boolean; value: string };
      if (reply.id === id) return [reply.ok ? 1 : 0, reply.value];
      // a late reply to a call abandoned by an earlier interrupt: drop it
    }
    if (takeInterrupt()) return [-1, ''];
    Atomics.wait(bell, 0, seen, 1000);
  }
}

/** time.sleep that wakes when the block is interrupted; true when it was. */
function sleep(seconds: number): boolean {
  const end = performance.now() + seconds * 1000;
  for (;;) {
    if (takeInterrupt()) return true;
    const left = end - performance.now();
    if (left <= 0) return false;
    Atomics.wait(bell, 0, Atomics.load(bell, 0), Math.min(left, 1000));
  }
}

function takeInterrupt(): boolean {
  return Atomics.exchange(interrupt, 0, 0) !== 0;
}

async function main(): Promise<void> {
  // No collection forced after loading: it cost ~50 CPU-ms a start for ~2 MB an idle interpreter
  // (measured, 8 to a process); the buffers load leaves are detached in releaseLoadBuffers.
  const { py, fromSnapshot, loadMs } = await load();
  if (init.mode === 'build-snapshot') {
    const bytes = py.makeMemorySnapshot();
    post({ t: 'snapshot', bytes }, [bytes.buffer as ArrayBuffer]);
    return;
  }
  py.setInterruptBuffer(interrupt);
  py.registerJsModule('_cir_host', {
    call: hostCall,
    sleep,
  });
  const cir = py.pyimport('_cir') as unknown as { run_block: (code: string) => string };
  const state = py.pyimport('_cir_state') as unknown as { save_op: (force: boolean) => string; load_op: (text: string) => string };
  // save: `code` is 'force' to leave out what does not save (the budget needs the room)
  const ops = { block: cir.run_block, save: (code: string) => state.save_op(code === 'force'), load: state.load_op };

  const runOne = (msg: ControllerToWorker): boolean => {
    // (the controller cleared the interrupt flag when it passed this run on: an interrupt that
    // came before the block started must still stop it)
    let result: WorkerToController;
    try {
      const [output, error, kind] = JSON.parse(ops[msg.op](msg.code)) as [string, string | null, 'interrupt' | 'memory' | null];
      // save answers with the state in place of output (the controller bounds the two apart)
      result = msg.op === 'save' ? { t: 'result', runId: msg.runId, output: '', error, kind, state: output } : { t: 'result', runId: msg.runId, output, error, kind };
    } catch (e) {
      // The harness itself failed (an interrupt that landed outside the user's code, or a
      // fatal error of the runtime). A fatal error leaves pyodide unusable: give the process up.
      const message = e instanceof Error ? e.message : String(e);
      if (!/KeyboardInterrupt/.test(message)) {
        post({ t: 'fatal', message: message.slice(0, 2000) });
        return false;
      }
      result = { t: 'result', runId: msg.runId, output: '', error: null, kind: 'interrupt' };
    }
    post(result);
    return true;
  };
  post({ t: 'ready', fromSnapshot, loadMs, shared: sharedLoad });
  serve(runOne);
}

/**
 * Waits for blocks without ever returning to this thread's event loop. Python can schedule work
 * on it (asyncio call_soon/call_later, callbacks on pyodide futures); were the loop to turn
 * between blocks, that code would run outside any block, unseen by the deadline. So it never turns.
 */
function serve(runOne: (msg: ControllerToWorker) => boolean): void {
  for (;;) {
    const seen = Atomics.load(bell, 0);
    const m = receiveMessageOnPort(port as unknown as MessagePort);
    if (!m) {
      Atomics.wait(bell, 0, seen);
      continue;
    }
    const msg = m.message as ControllerToWorker;
    if (msg?.t === 'run' && !runOne(msg)) return;
  }
}

main().catch((e: unknown) => {
  post({ t: 'fatal', message: (e instanceof Error ? e.stack ?? e.message : String(e)).slice(0, 2000) });
});
