// The bot's handle on one interpreter (a worker thread in an interpreter process, host.ts): run a
// block with a deadline, relay tool calls, interrupt, and kill when interruption does not work.
// Everything the child says is checked here, because the child runs hostile code.
import type { Logger } from '../util/log.ts';
import { MAX_ARG_CHARS, MAX_STATE_CHARS, MAX_TEXT_CHARS, type HostToChild, type RunOp, type SharedLoad } from './protocol.ts';
import type { HostTools, RunResult } from './types.ts';

/** CPU the interpreter may burn after an interrupt before it counts as swallowing it (unwinding
 *  takes ~5 ms). CPU, not wall time: on a loaded machine a thread that has not been scheduled
 *  has not ignored anything. */
const INTERRUPT_GRACE_MS = 2000;
/** However starved the machine, a block that has not stopped by then is killed. */
const INTERRUPT_GRACE_WALL_MAX_MS = 30_000;
/** Tool calls one block may have in flight (Python makes one at a time; more is misbehaviour). */
const MAX_CALLS_IN_FLIGHT = 4;
/** Tool calls one block may make in all. A research block makes a handful; a loop of thousands
 *  would spend the search provider's quota and flood the chat with progress lines. */
export const MAX_CALLS_PER_BLOCK = 100;
/** Longest text accepted from the child (its controller thread already cuts there). */
const MAX_TEXT = MAX_TEXT_CHARS + 100;

export interface BlockOutcome {
  output: string;
  error: string | null;
  stopped: RunResult['stopped'];
  /** The interpreter is gone (killed, crashed, its process ended): its Python state is lost. */
  processLost: boolean;
  /** The whole interpreter process ended while this block ran, taking the interpreters it shared
   *  the process with: the session's code is the likely cause (host.ts, Hosts.startAlone). */
  tookProcess?: boolean;
  /** op 'save': the saved state (absent when it could not be saved; `error` says why). */
  state?: string;
}

/** How an interpreter reaches its thread in the interpreter process (host.ts provides it). */
export interface InterpreterLink {
  /** Sends to this interpreter's slot. */
  send(m: SlotMessage): void;
  /** Ends this interpreter's thread (the process too when the thread does not end). */
  kill(): void;
  /** The interpreter process's pid (shared with the process's other interpreters). */
  readonly pid: number | undefined;
  /** The process's recent stderr, for diagnostics. */
  stderr(): string;
}

/** A host-to-child message without the slot, which the link adds. */
export type SlotMessage = HostToChild extends infer M ? (M extends { slot: number } ? Omit<M, 'slot'> : never) : never;

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;
const text = (v: unknown): string => (typeof v === 'string' ? v.slice(0, MAX_TEXT) : '');

interface ActiveRun {
  runId: number;
  tools: HostTools;
  stopReason: 'timeout' | 'cancelled' | null;
  /** Aborted when the block stops or ends: its tool calls (fetch, parse jobs) stop with it. */
  step: AbortController;
  inFlight: number;
  calls: number;
  finish: (o: BlockOutcome) => void;
}

export class Interpreter {
  readonly fromSnapshot: boolean;
  readonly loadMs: number;
  /** Interpreters its process hosted when it became ready, itself included. */
  readonly hostedAtStart: number;
  /** What it loaded from its process's shared copies rather than its own. */
  readonly shared: SharedLoad;
  private readonly link: InterpreterLink;
  private readonly logger: Logger;
  private exited = false;
  private runSeq = 0;
  private active: ActiveRun | null = null;
  private statsWaiters: ((u: { cpuMs: number } | null) => void)[] = [];
  private readonly exitListeners: (() => void)[] = [];

  constructor(link: InterpreterLink, ready: { fromSnapshot: boolean; loadMs: number; hosted: number; shared: SharedLoad }, logger: Logger) {
    this.link = link;
    this.fromSnapshot = ready.fromSnapshot;
    this.loadMs = ready.loadMs;
    this.hostedAtStart = ready.hosted;
    this.shared = ready.shared;
    this.logger = logger;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.link.pid;
  }

  onceExited(listener: () => void): void {
    if (this.exited) listener();
    else this.exitListeners.push(listener);
  }

  /** Runs one block. Never rejects: every way a block can end is an outcome. */
  run(code: string, opts: { timeoutMs: number; signal?: AbortSignal; tools: HostTools; op?: RunOp }): Promise<BlockOutcome> {
    if (this.exited) return Promise.resolve({ output: '', error: null, stopped: 'crashed', processLost: true });
    if (this.active) throw new Error('interpreter is already running a block');
    if (opts.signal?.aborted) return Promise.resolve({ output: '', error: null, stopped: 'cancelled', processLost: false });
    const runId = ++this.runSeq;
    return new Promise<BlockOutcome>((resolve) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const stop = (reason: 'timeout' | 'cancelled') => {
        const run = this.active;
        if (!run || run.runId !== runId || run.stopReason) return;
        run.stopReason = reason;
        run.step.abort();
        this.send({ t: 'interrupt', runId });
        const stoppedAt = Date.now();
        let cpuAtStop: number | null = null;
        void this.usage(INTERRUPT_GRACE_MS).then((u) => (cpuAtStop = u?.cpuMs ?? null));
        const stillRunning = () => this.active?.runId === runId;
        const check = async () => {
          if (!stillRunning()) return;
          if (Date.now() - stoppedAt < INTERRUPT_GRACE_WALL_MAX_MS) {
            const u = await this.usage(1000);
            if (!stillRunning()) return;
            // Not answering (starved), or not yet given its CPU allowance since the interrupt: wait on.
            if (!u || cpuAtStop === null || u.cpuMs - cpuAtStop < INTERRUPT_GRACE_MS) {
              graceTimer = setTimeout(() => void check(), 250);
              return;
            }
          }
          this.logger.warn({ pid: this.pid, reason }, 'sandbox block did not stop when interrupted; killing its interpreter');
          this.kill();
        };
        graceTimer = setTimeout(() => void check(), INTERRUPT_GRACE_MS);
      };
      const deadline = setTimeout(() => stop('timeout'), opts.timeoutMs);
      const onAbort = () => stop('cancelled');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.active = {
        runId,
        tools: opts.tools,
        stopReason: null,
        step: new AbortController(),
        inFlight: 0,
        calls: 0,
        finish: (o) => {
          this.active?.step.abort();
          clearTimeout(deadline);
          clearTimeout(graceTimer);
          opts.signal?.removeEventListener('abort', onAbort);
          this.active = null;
          resolve(o);
        },
      };
      this.send({ t: 'run', runId, code, op: opts.op ?? 'block' });
    });
  }

  /** CPU time (ms) of the interpreter's Python thread, or null when it does not answer. */
  usage(timeoutMs = 2000): Promise<{ cpuMs: number } | null> {
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (u: { cpuMs: number } | null) => {
        clearTimeout(timer);
        this.statsWaiters = this.statsWaiters.filter((w) => w !== done);
        resolve(u);
      };
      this.statsWaiters.push(done);
      this.send({ t: 'stats' });
    });
  }

  kill(): void {
    if (!this.exited) this.link.kill();
  }

  /** Kills the interpreter and waits until it is gone. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.onceExited(r));
    this.kill();
    await gone;
  }

  private send(m: SlotMessage): void {
    if (!this.exited) this.link.send(m);
  }

  /** A message from this interpreter's slot (host.ts routes them; nothing in it is trusted). */
  deliver(m: unknown): void {
    if (!isObject(m) || typeof m.t !== 'string') return;
    const run = this.active;
    switch (m.t) {
      case 'result': {
        if (!run || m.runId !== run.runId) return;
        const o = this.outcome(run, text(m.output), typeof m.error === 'string' ? text(m.error) : null, m.kind);
        if (typeof m.state === 'string' && m.state.length > 0 && m.state.length <= MAX_STATE_CHARS) o.state = m.state;
        run.finish(o);
        return;
      }
      case 'call': {
        if (!run || typeof m.id !== 'number') return;
        void this.serveCall(run, m.id, m.kind === 'search' ? 'search' : 'visit', text(m.a).slice(0, MAX_ARG_CHARS), Number(m.b) || 10);
        return;
      }
      case 'stats': {
        const u = typeof m.cpuMs === 'number' ? { cpuMs: m.cpuMs } : null;
        for (const w of [...this.statsWaiters]) w(u);
        return;
      }
      case 'fatal':
        this.logger.warn({ pid: this.pid, message: text(m.message).slice(0, 500) }, 'sandbox interpreter failed');
        return; // the slot reports 'closed' next; lost() follows
    }
  }

  private outcome(run: ActiveRun, output: string, error: string | null, kind: unknown): BlockOutcome {
    if (kind === 'memory') return { output, error: error ?? 'MemoryError', stopped: 'memory', processLost: false };
    if (kind === 'interrupt' && run.stopReason) return { output, error: null, stopped: run.stopReason, processLost: false };
    return { output, error, stopped: null, processLost: false };
  }

  private async serveCall(run: ActiveRun, id: number, kind: 'search' | 'visit', a: string, b: number): Promise<void> {
    if (run.inFlight >= MAX_CALLS_IN_FLIGHT) {
      this.send({ t: 'reply', id, ok: false, value: 'too many tool calls at once' });
      return;
    }
    if (++run.calls > MAX_CALLS_PER_BLOCK) {
      this.send({ t: 'reply', id, ok: false, value: `too many tool calls in one block (the limit is ${MAX_CALLS_PER_BLOCK})` });
      return;
    }
    run.inFlight++;
    let reply: SlotMessage;
    try {
      const value = kind === 'search' ? await run.tools.webSearch(a, b, run.step.signal) : await run.tools.webVisit(a, run.step.signal);
      reply = { t: 'reply', id, ok: true, value: String(value) };
    } catch (e) {
      reply = { t: 'reply', id, ok: false, value: e instanceof Error ? e.message : String(e) };
    } finally {
      run.inFlight--;
    }
    if (this.active === run && !run.stopReason) this.send(reply);
  }

  /** The interpreter is gone: its thread ended, or its whole process (code/signal of the process). */
  lost(code: number | null, signal: string | null, processEnded = false): void {
    if (this.exited) return;
    this.exited = true;
    const run = this.active;
    if (run) {
      const stopped = run.stopReason ?? 'crashed';
      if (stopped === 'crashed') {
        this.logger.warn({ pid: this.pid, code, signal, stderr: this.link.stderr().slice(-1000) }, 'sandbox interpreter died during a block');
      }
      run.finish({ output: '', error: null, stopped, processLost: true, tookProcess: processEnded });
    }
    for (const w of [...this.statsWaiters]) w(null);
    for (const l of this.exitListeners.splice(0)) l();
  }
}

