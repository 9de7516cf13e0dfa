// One interpreter inside an interpreter process: its Python worker thread, the doorbell and
// interrupt flags shared with it, and the relay of its messages. Python can rewrite the prelude
// that bounds its output and arguments: the bounds that hold are this thread's.
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ChildInit, ChildToHost, HostToChild, WorkerToController } from '../protocol.ts';
import { MAX_ARG_CHARS, MAX_STATE_CHARS, MAX_TEXT_CHARS } from './limits.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class Slot {
  private readonly id: number;
  private readonly worker: Worker;
  private readonly bell: Int32Array;
  private readonly interrupt: Int32Array;
  private readonly calls = new MessageChannel();
  private readonly send: (m: ChildToHost) => void;
  private running: number | null = null;
  private ended = false;
  /** Build mode: the snapshot is on its way; the thread's end is expected, the process ends after the send. */
  private snapshotSent = false;

  constructor(id: number, init: ChildInit, loaded: { module: unknown; snapshot: SharedArrayBuffer | null }, send: (m: ChildToHost) => void, onEnd: () => void) {
    this.id = id;
    this.send = send;
    const shared = new SharedArrayBuffer(8);
    this.bell = new Int32Array(shared, 0, 1);
    this.interrupt = new Int32Array(shared, 4, 1);
    // The process's one snapshot copy goes over a port of its own, not in workerData: the worker
    // lets go of every reference once loaded, so no Python code can reach memory its neighbours
    // load from (worker.ts, load()).
    const snapshotChannel = new MessageChannel();
    snapshotChannel.port1.postMessage({ snapshot: loaded.snapshot });
    snapshotChannel.port1.close();
    const worker = (this.worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { init, shared, callPort: this.calls.port2, module: loaded.module, snapshotPort: snapshotChannel.port2 },
      transferList: [this.calls.port2, snapshotChannel.port2],
      // The JS heap of the Python thread (wasm memory is capped separately, inside the worker).
      // The process's --max-old-space-size=128 (launch.ts) takes precedence over this old-space
      // figure (nodejs/node#43991; measured: 131 MB heap limit in the thread). Beyond it the
      // worker alone ends (ERR_WORKER_OUT_OF_MEMORY) in most shapes of growth, the whole process
      // in some (nodejs/node#47224; host.ts, Hosts.startAlone).
      resourceLimits: { maxOldGenerationSizeMb: 128, stackSizeMb: 8 },
    }));
    const end = (message: string | null) => {
      if (this.ended || this.snapshotSent) return;
      this.ended = true;
      if (message) this.post({ t: 'fatal', message: message.slice(0, 2000) });
      this.post({ t: 'closed' });
      void worker.terminate();
      onEnd();
    };
    worker.on('message', (m: WorkerToController) => this.relay(m, end));
    worker.on('error', (e) => end(String(e?.stack ?? e)));
    worker.on('exit', (code) => end(code === 0 || code === 1 ? null : `interpreter thread exited (${code})`));
    this.calls.port1.on('message', (m: { id: number; kind: string; a: unknown; b: unknown }) => this.call(m));
  }

  handle(m: HostToChild): void {
    switch (m.t) {
      case 'run':
        this.running = m.runId;
        Atomics.store(this.interrupt, 0, 0); // whatever was left from an earlier block
        this.worker.postMessage({ t: 'run', runId: m.runId, code: String(m.code), op: m.op === 'save' || m.op === 'load' ? m.op : 'block' });
        this.ring(); // the worker waits on the doorbell, not on its event loop
        break;
      case 'reply':
        this.calls.port1.postMessage({ id: m.id, ok: m.ok, value: m.value });
        this.ring();
        break;
      case 'interrupt':
        if (this.running === m.runId) {
          Atomics.store(this.interrupt, 0, 2); // SIGINT -> KeyboardInterrupt
          this.ring();
        }
        break;
      case 'stats':
        void this.cpu().then((cpu) => this.post({ t: 'stats', cpuMs: (cpu.user + cpu.system) / 1000 }));
        break;
      case 'close':
        // TerminateExecution reaches wasm too (V8 checks for it on loop back-edges), so a block
        // that swallows KeyboardInterrupt ends here without touching the process's other interpreters.
        void this.worker.terminate();
        break;
    }
  }

  private post(m: DistributiveOmit<Exclude<ChildToHost, { t: 'note' }>, 'slot'>): void {
    this.send({ ...m, slot: this.id } as ChildToHost);
  }

  private ring(): void {
    Atomics.add(this.bell, 0, 1);
    Atomics.notify(this.bell, 0);
  }

  private relay(m: WorkerToController, end: (message: string | null) => void): void {
    if (m.t === 'result') this.running = null;
    if (m.t === 'snapshot') {
      this.snapshotSent = true;
      process.send?.({ t: 'snapshot', slot: this.id, bytes: m.bytes } satisfies ChildToHost, undefined, {}, () => process.exit(0));
      return;
    }
    if (m.t === 'result') {
      const state = typeof m.state === 'string' && m.state.length <= MAX_STATE_CHARS ? m.state : undefined;
      this.post({ ...m, output: clip(m.output), error: m.error === null ? null : clip(m.error), state });
    } else if (m.t === 'fatal') end(String(m.message));
    else this.post(m);
  }

  private call(m: { id: number; kind: string; a: unknown; b: unknown }): void {
    const id = Number(m.id);
    const refuse = (why: string) => {
      this.calls.port1.postMessage({ id, ok: false, value: why });
      this.ring();
    };
    if (m.kind !== 'search' && m.kind !== 'visit') return refuse('unknown host function');
    const a = String(m.a);
    // A huge argument must not reach the bot's process (nor a search provider).
    if (a.length > MAX_ARG_CHARS) return refuse(`argument too long (${a.length} characters; the limit is ${MAX_ARG_CHARS})`);
    this.post({ t: 'call', id, kind: m.kind, a, b: Number(m.b) || 0 });
  }

  // The host's interrupt grace counts the CPU the Python thread itself got since the interrupt: the
  // whole process's would include V8's background compile threads (and the other interpreters).
  // worker.cpuUsage() answers while the thread runs wasm; Node before 22.19 lacks it.
  private cpu(): Promise<NodeJS.CpuUsage> {
    const w = this.worker as Worker & { cpuUsage?: () => Promise<NodeJS.CpuUsage> };
    return typeof w.cpuUsage === 'function' ? w.cpuUsage().catch(() => process.cpuUsage()) : Promise.resolve(process.cpuUsage());
  }
}

function clip(text: unknown): string {
  const s = String(text);
  return s.length > MAX_TEXT_CHARS ? `${s.slice(0, MAX_TEXT_CHARS)}\n[... output cut at the sandbox boundary]` : s;
}
