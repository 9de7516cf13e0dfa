// Entry point of an interpreter process (started by host.ts under --permission, with an empty
// environment, usually inside its own network and pid namespaces). It hosts up to a few
// interpreters, each a worker thread of its own (its own V8 isolate, JS heap and wasm memory: no
// object of one is reachable from another). This thread only relays: host IPC <-> each Python
// thread, plus the doorbell and interrupt flags they share. It compiles pyodide's wasm once; every
// interpreter instantiates that module, so compilation and V8's tier-up are paid once a process.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { ChildInit, ChildToHost, HostToChild } from '../protocol.ts';
import { Slot } from './slot.ts';

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const slots = new Map<number, Slot>();
// A ready interpreter says how many the process hosts, so the host's count can be checked.
const send = (m: ChildToHost) => process.send?.(m.t === 'ready' ? { ...m, hosted: slots.size } : m);
// (Node's WebAssembly global; this project's TypeScript libs do not declare it)
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;

/** The compiled pyodide.asm.wasm, shared by this process's interpreters (null: each compiles its own). */
let compiled: Promise<unknown> | null = null;
const compiledModule = () =>
  (compiled ??= wasm.compile(readFileSync(`${init.indexURL}pyodide.asm.wasm`)).catch((e: unknown) => {
    send({ t: 'note', message: `compiling the shared wasm module failed: ${String(e).slice(0, 300)}` });
    return null;
  }));

/** The snapshot, read once into memory every interpreter of the process reads from: reading it
 *  afresh for each was 30 MB of new pages a start (measured: ~7,500 page faults). It stays for
 *  the process's life (30 MB), so a process for one interpreter does not keep it. */
let snapshot: SharedArrayBuffer | null | undefined;
function sharedSnapshot(): SharedArrayBuffer | null {
  if (snapshot !== undefined) return snapshot;
  snapshot = null;
  if (init.mode !== 'serve' || !init.snapshotPath || !init.shareSnapshot) return snapshot;
  let fd: number | undefined;
  try {
    // Straight into the shared memory: no 30 MB Buffer to copy from and collect.
    fd = openSync(init.snapshotPath, 'r');
    const shared = new SharedArrayBuffer(fstatSync(fd).size);
    const view = new Uint8Array(shared);
    for (let at = 0; at < view.length; ) {
      const n = readSync(fd, view, at, view.length - at, at);
      if (n === 0) throw new Error(`the snapshot ended at byte ${at} of ${view.length}`);
      at += n;
    }
    snapshot = shared;
  } catch (e) {
    send({ t: 'note', message: `reading the snapshot failed: ${String(e).slice(0, 300)}` });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return snapshot;
}

/** Slots asked for while the module compiles; a close meanwhile takes the slot out. */
const opening = new Set<number>();

async function open(slot: number): Promise<void> {
  if (slots.has(slot) || opening.has(slot) || !Number.isSafeInteger(slot)) return;
  opening.add(slot);
  const module = init.mode === 'serve' ? await compiledModule() : null;
  if (!opening.delete(slot)) return; // closed before it started: no thread the host no longer counts
  const s = new Slot(slot, init, { module, snapshot: sharedSnapshot() }, send, () => {
    slots.delete(slot);
    if (init.mode === 'build-snapshot') setTimeout(() => process.exit(1), 50); // ended without a snapshot
  });
  slots.set(slot, s);
}

process.on('message', (m: HostToChild) => {
  if (typeof m !== 'object' || m === null) return;
  if (m.t === 'open') {
    void open(m.slot);
    return;
  }
  if (m.t === 'close' && opening.delete(m.slot)) return;
  slots.get(m.slot)?.handle(m);
});

// The host went away: nothing may outlive it.
process.on('disconnect', () => process.exit(0));

// Building a snapshot: one interpreter, at once; the process ends with it.
if (init.mode === 'build-snapshot') void open(0);
