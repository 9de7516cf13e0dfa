// Interpreter processes: each is one sealed Node process (launch.ts) holding up to `capacity`
// interpreters, one worker thread each. `Hosts` places a new interpreter in a process with room,
// or starts a process; a process left without interpreters ends after a while. Isolation between
// the interpreters of one process is V8's between isolates (own heaps, own wasm memory, own
// globals); the process boundary, namespaces and permission model hold around all of them.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../util/log.ts';
import { Interpreter, type InterpreterLink, type SlotMessage } from './interpreter.ts';
import { childCommand, childDir, type Launch } from './launch.ts';
import type { ChildInit, HostToChild } from './protocol.ts';

/**
 * The child's whole environment: one glibc malloc setting, nothing else. Loading Pyodide leaves
 * ~25 MB of freed memory in malloc's arenas that glibc keeps (its trim threshold grows itself
 * after large frees); a fixed threshold (the default value, set explicitly) makes it hand free
 * memory back. Measured: -24 MB RSS per idle process, same speed. Other libcs ignore it.
 */
const CHILD_ENV = { MALLOC_TRIM_THRESHOLD_: '131072' };

export function spawnChild(launch: Launch, init: ChildInit, entry?: string[]): ChildProcess {
  const { command, args } = childCommand(launch, init, entry);
  const child = spawn(command, args, {
    env: CHILD_ENV, // no secrets, no configuration: the child is told everything through argv
    // Measured on Node 24.21: a worker thread under --permission may read everything below the
    // process's working directory (the main thread may not). Inherited, that was the bot's own
    // directory: its source, node_modules, .env and data/. The child's own code directory grants
    // nothing new.
    cwd: launch.builtChildDir ?? childDir,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    detached: false,
  });
  // The process we spawned may be the namespace wrapper. Killed just after it forked (a sandbox
  // closing while an interpreter starts), its node child missed the parent-death signal and lived
  // on, holding the IPC channel and stderr, so the host never exited (seen in limits.test.ts).
  // Closing our ends once it is gone makes any such orphan see 'disconnect' and exit.
  child.once('exit', () => {
    if (child.connected) child.disconnect();
    (child.stderr as { unref?: () => void } | null)?.unref?.(); // still read, but holds nothing open
  });
  return child;
}

/** Keeps the last few KB of a child's stderr for diagnostics. */
export function tailStderr(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    tail = (tail + d).slice(-4096);
  });
  return () => tail.trim();
}

export interface HostOptions {
  launch: Launch;
  memoryMb: number;
  indexURL: string;
  logger: Logger;
  /** Interpreters one process holds at most. */
  capacity: number;
  /** A process without interpreters ends after this long (0: at once). */
  idleMs: number;
  startTimeoutMs?: number;
}

/** After `close`, how long a thread may take to end before its whole process is killed. */
const CLOSE_GRACE_MS = 5000;
/** Interpreters one process opens in its life; then it takes no more and ends once empty, so that
 *  whatever a process accumulates (fragmented malloc arenas, V8's caches) stays bounded. */
const OPENS_PER_PROCESS = 64;

interface Opening {
  resolve: (i: Interpreter) => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

/** One interpreter process and the interpreters in it. */
export class InterpreterHost {
  readonly snapshotPath: string | null;
  private readonly opts: HostOptions;
  private readonly child: ChildProcess;
  private readonly stderr: () => string;
  private readonly live = new Map<number, Interpreter>();
  private readonly opening = new Map<number, Opening>();
  private readonly closeTimers = new Map<number, NodeJS.Timeout>();
  private opens = 0;
  private exited = false;
  /** Ended by close() (the sandbox shutting down), not by what ran in it. */
  private closing = false;
  private killed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly exitListeners: (() => void)[] = [];

  constructor(opts: HostOptions, snapshotPath: string | null) {
    this.opts = opts;
    this.snapshotPath = snapshotPath;
    const init: ChildInit = { mode: 'serve', indexURL: opts.indexURL, snapshotPath, memoryMb: opts.memoryMb, shareSnapshot: opts.capacity > 1 };
    this.child = spawnChild(opts.launch, init);
    this.stderr = tailStderr(this.child);
    this.child.on('message', (m: unknown) => this.onMessage(m));
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.on('error', (e) => {
      opts.logger.warn({ err: e }, 'sandbox interpreter process error');
      this.kill();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Interpreters in it, starting or started. */
  get load(): number {
    return this.live.size + this.opening.size;
  }

  /** Room for one more interpreter. */
  get hasRoom(): boolean {
    return !this.exited && !this.killed && this.opens < OPENS_PER_PROCESS && this.load < this.opts.capacity;
  }

  /** Starts an interpreter in this process; resolves once it can run code. */
  open(signal?: AbortSignal): Promise<Interpreter> {
    if (!this.hasRoom) return Promise.reject(new Error('interpreter process has no room'));
    clearTimeout(this.idleTimer);
    const slot = this.opens++;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        if (!this.opening.has(slot)) return;
        this.opening.get(slot)!.cleanup();
        this.opening.delete(slot);
        this.send({ t: 'close', slot });
        reject(new Error(`interpreter failed to start: ${why}${this.stderr() ? `\n${this.stderr()}` : ''}`));
        this.settle();
      };
      const timer = setTimeout(() => fail('timed out'), this.opts.startTimeoutMs ?? 60_000);
      const onAbort = () => fail('the sandbox is closing');
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.opening.set(slot, { resolve, reject: (e) => fail(e.message), cleanup });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ t: 'open', slot });
    });
  }

  /** Ends the process and every interpreter in it. */
  kill(): void {
    this.killed = true; // no new interpreter is placed in it between the kill and its exit
    if (!this.exited) this.child.kill('SIGKILL');
  }

  onExitOnce(listener: () => void): void {
    if (this.exited) listener();
    else this.exitListeners.push(listener);
  }

  /** Kills the process and waits until it is gone. */
  close(): Promise<void> {
    const gone = new Promise<void>((r) => this.onExitOnce(r));
    this.closing = true;
    this.kill();
    return gone;
  }

  private send(m: HostToChild): void {
    if (this.exited || !this.child.connected) return;
    try {
      this.child.send(m);
    } catch (e) {
      this.opts.logger.warn({ err: e, pid: this.pid }, 'sandbox IPC send failed');
    }
  }

  private link(slot: number): InterpreterLink {
    return {
      send: (m: SlotMessage) => this.send({ ...m, slot } as HostToChild),
      kill: () => this.closeSlot(slot),
      pid: this.pid,
      stderr: () => this.stderr(),
    };
  }

  /** Asks the slot's thread to end; a thread that does not end takes its process with it. */
  private closeSlot(slot: number): void {
    if (this.exited || !this.live.has(slot) || this.closeTimers.has(slot)) return;
    this.send({ t: 'close', slot });
    const timer = setTimeout(() => {
      this.opts.logger.warn({ pid: this.pid, slot }, 'sandbox interpreter thread did not end; killing its process');
      this.kill();
    }, CLOSE_GRACE_MS);
    timer.unref();
    this.closeTimers.set(slot, timer);
  }

  private onMessage(m: unknown): void {
    if (!isObject(m) || typeof m.t !== 'string') return;
    if (m.t === 'note') {
      this.opts.logger.warn({ pid: this.pid, message: String(m.message).slice(0, 300) }, 'sandbox interpreter process');
      return;
    }
    const slot = typeof m.slot === 'number' ? m.slot : -1;
    const opening = this.opening.get(slot);
    if (opening) {
      if (m.t === 'ready') {
        opening.cleanup();
        this.opening.delete(slot);
        const shared = isObject(m.shared) ? m.shared : {};
        const ready = {
          fromSnapshot: m.fromSnapshot === true,
          loadMs: Number(m.loadMs) || 0,
          hosted: Number(m.hosted) || 1,
          shared: { module: shared.module === true, snapshot: shared.snapshot === true },
        };
        const it = new Interpreter(this.link(slot), ready, this.opts.logger);
        this.live.set(slot, it);
        opening.resolve(it);
      } else if (m.t === 'fatal') opening.reject(new Error(String(m.message).slice(0, 2000)));
      else if (m.t === 'closed') opening.reject(new Error('its thread ended'));
      return;
    }
    const it = this.live.get(slot);
    if (!it) return;
    if (m.t === 'closed') {
      clearTimeout(this.closeTimers.get(slot));
      this.closeTimers.delete(slot);
      this.live.delete(slot);
      it.lost(null, null);
      this.settle();
    } else it.deliver(m);
  }

  /** An empty process ends: at once when it takes no more, else after idleMs. */
  private settle(): void {
    if (this.exited || this.load > 0) return;
    clearTimeout(this.idleTimer);
    if (this.opens >= OPENS_PER_PROCESS || this.opts.idleMs <= 0) return this.kill();
    this.idleTimer = setTimeout(() => this.kill(), this.opts.idleMs);
    this.idleTimer.unref();
  }

  private onExit(code: number | null, signal: string | null): void {
    this.exited = true;
    clearTimeout(this.idleTimer);
    for (const t of this.closeTimers.values()) clearTimeout(t);
    for (const o of [...this.opening.values()]) o.reject(new Error(`exited (${signal ?? code})`));
    const lost = [...this.live.values()];
    this.live.clear();
    for (const it of lost) it.lost(code, signal, !this.closing);
    for (const l of this.exitListeners.splice(0)) l();
  }
}

/** Every interpreter process of a sandbox: places each new interpreter where there is room. */
export class Hosts {
  private readonly opts: HostOptions;
  private readonly hosts = new Set<InterpreterHost>();

  constructor(opts: HostOptions) {
    this.opts = opts;
  }

  /** Processes running now. */
  get processes(): number {
    return this.hosts.size;
  }

  start(snapshotPath: string | null, signal?: AbortSignal): Promise<Interpreter> {
    const host = [...this.hosts].find((h) => h.hasRoom && h.snapshotPath === snapshotPath);
    return (host ?? this.add(this.opts, snapshotPath)).open(signal);
  }

  /**
   * An interpreter in a process of its own, for a session whose block took its process down
   * (a JavaScript heap that grows past its limit in certain shapes aborts the whole process, not
   * just the thread: nodejs/node#47224). Its neighbours lose their state once; from then on
   * what it does ends only its own interpreter. The process ends with it.
   */
  startAlone(snapshotPath: string | null, signal?: AbortSignal): Promise<Interpreter> {
    return this.add({ ...this.opts, capacity: 1, idleMs: 0 }, snapshotPath).open(signal);
  }

  private add(opts: HostOptions, snapshotPath: string | null): InterpreterHost {
    const h = new InterpreterHost(opts, snapshotPath);
    this.hosts.add(h);
    h.onExitOnce(() => this.hosts.delete(h));
    return h;
  }

  /** Kills every process and waits until they are gone. */
  async close(): Promise<void> {
    await Promise.all([...this.hosts].map((h) => h.close()));
  }
}

/** One interpreter in a process of its own (tests and measurements of a single interpreter); a
 *  start that fails leaves no process (an empty process of one ends at once). */
export function startInterpreter(opts: Omit<HostOptions, 'capacity' | 'idleMs'> & { snapshotPath: string | null; signal?: AbortSignal }): Promise<Interpreter> {
  return new Hosts({ ...opts, capacity: 1, idleMs: 0 }).startAlone(opts.snapshotPath, opts.signal);
}
