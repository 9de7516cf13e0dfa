// The one scripted research engine of the tests. The chat layer and the platform adapters depend
// on a ResearchEngine (src/engine/events.ts); where the model, the sandbox and the web are not
// what is under test, this plays a script of engine events instead (the real engine on the fakes
// is research-stack.ts). It behaves like the real engine where callers can tell: events in the
// documented order, 'cancelled' once the signal aborts, one terminal event.
//
//   new ScriptedEngine({ steps: [{ code, output }], answer: 'A [1].', citations })
//   new ScriptedEngine((input) => researchScript(2))      // a script per question
//   engine.gate = async (step, input, at) => { ... }        // hold the research at a point
//   instantEngine(), gatedEngine(), researchScript(), UNTIL_STOPPED: the scripts tests share.
import type { ResearchEngine, ResearchEvent, ResearchInput } from '../../src/engine/events.ts';

export type Citation = Extract<ResearchEvent, { type: 'answer' }>['citations'][number];
export type Step = { code: string; output: string; tools?: { name: 'web_search' | 'web_visit'; arg: string }[] };

export interface Script {
  steps: Step[];
  answer: string;
  citations?: Citation[];
  /** After step 1's code: wait for release(question) ('release') or for the stop ('stop'). */
  hold?: 'release' | 'stop';
  /** Before step 1 (sessions that last a little, so that concurrency limits are exercised). */
  delayMs?: number;
  /** After each observation; 0 (default) yields to the event loop once. */
  pauseMs?: number;
  /** End with this error instead of the answer (as the engine reports a model server that fails). */
  error?: { message: string; retryable: boolean };
}

/** Awaited before a step's code ('code') and before its output ('output'). */
export type Gate = (step: number, input: ResearchInput, at: 'code' | 'output') => Promise<void> | void;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function abortion(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export class ScriptedEngine implements ResearchEngine {
  readonly inputs: ResearchInput[] = [];
  /** Sessions inside research() now, and the most at once (overall and per user). */
  running = 0;
  maxRunning = 0;
  readonly runningByUser = new Map<string, number>();
  maxPerUser = 0;
  /** Researches that ended 'cancelled'. */
  aborted = 0;
  /** Questions now waiting at their hold (their step 1 code has been taken by the caller). */
  readonly holding: string[] = [];
  gate?: Gate;
  readonly #script: Script | ((input: ResearchInput) => Script);
  readonly #userOf: (input: ResearchInput) => string;
  readonly #releases = new Map<string, () => void>();
  readonly #released = new Set<string>();

  constructor(script: Script | ((input: ResearchInput) => Script), o: { userOf?: (input: ResearchInput) => string } = {}) {
    this.#script = script;
    this.#userOf = o.userOf ?? ((input) => input.question);
  }

  /** The questions researched so far, in order. */
  get started(): string[] {
    return this.inputs.map((i) => i.question);
  }

  /** Lets the held research of `question` go on (now, or when it reaches its hold). */
  release(question: string): void {
    const go = this.#releases.get(question);
    if (go) go();
    else this.#released.add(question);
  }

  async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
    this.inputs.push(input);
    const user = this.#userOf(input);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const mine = (this.runningByUser.get(user) ?? 0) + 1;
    this.runningByUser.set(user, mine);
    this.maxPerUser = Math.max(this.maxPerUser, mine);
    try {
      const s = typeof this.#script === 'function' ? this.#script(input) : this.#script;
      yield { type: 'started', sessionId: input.sessionId ?? 's', question: input.question, maxSteps: 8, at: Date.now() };
      await tick();
      if (s.delayMs) await sleep(s.delayMs);
      let n = 0;
      for (const step of s.steps) {
        n += 1;
        if (this.gate) await this.#wait(this.gate(n, input, 'code'), input.signal);
        if (input.signal?.aborted) return yield* this.#cancelled();
        yield { type: 'code', step: n, code: step.code };
        for (const t of step.tools ?? []) yield { type: 'tool', step: n, name: t.name, arg: t.arg };
        if (n === 1 && s.hold) {
          this.holding.push(input.question);
          await this.#wait(s.hold === 'release' ? this.#heldUntilReleased(input.question) : new Promise(() => {}), input.signal);
          this.holding.splice(this.holding.indexOf(input.question), 1);
        }
        if (this.gate && !input.signal?.aborted) await this.#wait(this.gate(n, input, 'output'), input.signal);
        if (input.signal?.aborted) return yield* this.#cancelled();
        yield { type: 'observation', step: n, output: step.output, error: null, stateLost: false, durationMs: 5 };
        if (s.pauseMs) await sleep(s.pauseMs);
        else await tick();
      }
      if (s.error) {
        yield { type: 'error', ...s.error };
        return;
      }
      yield { type: 'writing' };
      yield { type: 'answer', text: s.answer, citations: s.citations ?? [], steps: n, usage: { promptTokens: 10, completionTokens: 5 }, durationMs: 10 };
    } finally {
      this.running -= 1;
      this.runningByUser.set(user, (this.runningByUser.get(user) ?? 1) - 1);
    }
  }

  /** Resolves when `p` does or the signal aborts, whichever is first. */
  #wait(p: Promise<void> | void, signal?: AbortSignal): Promise<unknown> {
    return signal?.aborted ? Promise.resolve() : Promise.race([p, abortion(signal)]);
  }

  *#cancelled(): Iterable<ResearchEvent> {
    this.aborted += 1;
    yield { type: 'cancelled' };
  }

  #heldUntilReleased(question: string): Promise<void> {
    if (this.#released.delete(question)) return Promise.resolve();
    return new Promise((resolve) => this.#releases.set(question, resolve));
  }
}

/** A short web research: `steps` search steps, then an answer citing one read and one seen page. */
export function researchScript(steps = 2, answer = 'Node 24 ships V8 13.6 [1], as the blog says [2].'): Script {
  return {
    steps: Array.from({ length: steps }, (_, i) => ({
      code: `r = web_search("node 24 step ${i + 1}")\nprint(r)`,
      output: `Result ${i + 1}: https://nodejs.org/en/blog`,
      tools: [{ name: 'web_search' as const, arg: `node 24 step ${i + 1}` }],
    })),
    answer,
    citations: [
      { n: 1, url: 'https://nodejs.org/en/blog/release/v24.0.0', title: 'Node v24.0.0', verified: true, status: 'read' },
      { n: 2, url: 'https://v8.dev/blog/v8-release-136', title: 'V8 release v13.6', verified: false, status: 'seen' },
    ],
    pauseMs: 5,
  };
}

/** Shows one step, then runs until stopped. */
export const UNTIL_STOPPED: Script = { steps: [{ code: 'print("working")', output: '' }], answer: '', hold: 'stop' };

/**
 * Answers every question after `delayMs`, citing one invented and one read page. The user is the
 * third word of the question (the chat tests ask "question from U1 in t1").
 */
export function instantEngine(delayMs = 0, userOf: (question: string) => string = (q) => q.split(' ')[2] ?? ''): ScriptedEngine {
  return new ScriptedEngine(
    (input) => ({
      steps: [{ code: 'print(web_search("x"))', output: 'result '.repeat(50), tools: [{ name: 'web_search', arg: 'x' }] }],
      answer: `Answer to ${input.question} [1] and [2].`,
      citations: [
        { n: 1, url: 'https://invented.example/x', title: 'Made up', verified: false, status: 'unseen' },
        { n: 2, url: 'https://www.real.example/page', title: 'Real page', verified: true, status: 'read' },
      ],
      delayMs,
    }),
    { userOf: (input) => userOf(input.question) },
  );
}

/** Holds every research after its first code step until release(question); 'cancelled' on abort. */
export function gatedEngine(): ScriptedEngine {
  return new ScriptedEngine((input) => ({ steps: [{ code: 'print(1)', output: '1' }], answer: `done: ${input.question}`, hold: 'release' }));
}

/** An engine whose events a test writes itself, one async generator per input (odd orders, errors). */
export function eventEngine(script: (input: ResearchInput) => AsyncIterable<ResearchEvent>): ResearchEngine & { inputs: ResearchInput[] } {
  const inputs: ResearchInput[] = [];
  return {
    inputs,
    research(input) {
      inputs.push(input);
      return script(input);
    },
  };
}

/** The events a Script produces, for tests composing their own streams around them. */
export function scriptEvents(script: Script, input: ResearchInput): AsyncIterable<ResearchEvent> {
  return new ScriptedEngine(script).research(input);
}
