// Entry point of an interpreter process (started by interpreter.ts under --permission, with an
// empty environment, usually inside its own network and pid namespaces). This thread only relays:
// host IPC <-> the Python worker thread, plus the doorbell and interrupt flags they share.
import { Worker, MessageChannel } from 'node:worker_threads';
import type { ChildInit, ChildToHost, HostToChild, WorkerToController } from '../protocol.ts';
import { MAX_ARG_CHARS, MAX_STATE_CHARS, MAX_TEXT_CHARS } from './limits.ts';

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const send = (m: ChildToHost) => process.send?.(m);

const shared = new SharedArrayBuffer(8);
const bell = new Int32Array(shared, 0, 1);
const interrupt = new Int32Array(shared, 4, 1);
const calls = new MessageChannel();

const ring = () => {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
};

const worker = new Worker(new URL('./worker.ts', import.meta.url), {
  workerData: { init, shared, callPort: calls.port2 },
  transferList: [calls.port2],
  // The JS heap of the Python thread (wasm memory is capped separately, inside the worker).
  resourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 8 },
});

let running: number | null = null;
let finished = false; // build mode: the snapshot is on its way and the worker's end is expected

worker.on('message', (m: WorkerToController) => {
  if (m.t === 'result') running = null;
  if (m.t === 'snapshot') {
    finished = true;
    process.send?.({ t: 'snapshot', bytes: m.bytes } satisfies ChildToHost, undefined, {}, () => process.exit(0));
    return;
  }
  // Python can rewrite the prelude that bounds output: the bound that holds is this thread's.
  if (m.t === 'result') {
    const state = typeof m.state === 'string' && m.state.length <= MAX_STATE_CHARS ? m.state : undefined;
    send({ ...m, output: clip(m.output), error: m.error === null ? null : clip(m.error), state });
  } else send(m as ChildToHost);
  if (m.t === 'fatal') die();
});
worker.on('error', (e) => {
  send({ t: 'fatal', message: String(e?.stack ?? e).slice(0, 2000) });
  die();
});
worker.on('exit', (code) => {
  if (finished) return;
  send({ t: 'fatal', message: `interpreter thread exited (${code})` });
  die();
});

calls.port1.on('message', (m: { id: number; kind: string; a: unknown; b: unknown }) => {
  const id = Number(m.id);
  const refuse = (why: string) => {
    calls.port1.postMessage({ id, ok: false, value: why });
    ring();
  };
  if (m.kind !== 'search' && m.kind !== 'visit') return refuse('unknown host function');
  const a = String(m.a);
  // A huge argument must not reach the bot's process (nor a search provider).
  if (a.length > MAX_ARG_CHARS) return refuse(`argument too long (${a.length} characters; the limit is ${MAX_ARG_CHARS})`);
  send({ t: 'call', id, kind: m.kind, a, b: Number(m.b) || 0 });
});

process.on('message', (m: HostToChild) => {
  switch (m.t) {
    case 'run':
      running = m.runId;
      Atomics.store(interrupt, 0, 0); // whatever was left from an earlier block
      worker.postMessage({ t: 'run', runId: m.runId, code: String(m.code), op: m.op === 'save' || m.op === 'load' ? m.op : 'block' });
      ring(); // the worker waits on the doorbell, not on its event loop
      break;
    case 'reply':
      calls.port1.postMessage({ id: m.id, ok: m.ok, value: m.value });
      ring();
      break;
    case 'interrupt':
      if (running === m.runId) {
        Atomics.store(interrupt, 0, 2); // SIGINT -> KeyboardInterrupt
        ring();
      }
      break;
    case 'stats':
      void pythonCpu().then((cpu) => send({ t: 'stats', rss: process.memoryUsage.rss(), cpuMs: (cpu.user + cpu.system) / 1000 }));
      break;
  }
});

// The host went away: nothing may outlive it.
process.on('disconnect', () => process.exit(0));

// The host's interrupt grace counts the CPU the Python thread itself got since the interrupt: the
// whole process's would include V8's background compile threads, which right after a start can burn
// seconds of their own and got a busy but obedient block killed on a loaded machine.
// worker.cpuUsage() answers while the thread runs wasm; Node before 22.19 lacks it.
function pythonCpu(): Promise<NodeJS.CpuUsage> {
  const w = worker as Worker & { cpuUsage?: () => Promise<NodeJS.CpuUsage> };
  return typeof w.cpuUsage === 'function' ? w.cpuUsage().catch(() => process.cpuUsage()) : Promise.resolve(process.cpuUsage());
}

function clip(text: unknown): string {
  const s = String(text);
  return s.length > MAX_TEXT_CHARS ? `${s.slice(0, MAX_TEXT_CHARS)}\n[... output cut at the sandbox boundary]` : s;
}

function die(): void {
  setTimeout(() => process.exit(1), 50);
}
