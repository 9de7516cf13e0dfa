// Test doubles for the chat layer: small engines written here (the engine is the chat layer's
// dependency, not a module under test) and a surface that records what it is asked to show.
import type { ResearchEngine, ResearchEvent, ResearchInput } from '../../src/engine/events.ts';
import { DEFAULT_CHAT_LIMITS, type ChatLimits } from '../../src/chat/limits.ts';
import type { ResearchRequest, ThreadSurface, ThreadView } from '../../src/chat/types.ts';

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function limits(over: Partial<ChatLimits> = {}): ChatLimits {
  return { ...DEFAULT_CHAT_LIMITS, ...over };
}

export function request(user: string, thread: string, question = `question from ${user} in ${thread}`, over: Partial<ResearchRequest> = {}): ResearchRequest {
  return { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: thread, userId: user, question, ...over };
}

/**
 * Answers every question after `delayMs` (bottleneck starts jobs a few ms apart, so sessions must
 * last a little for the concurrency limits to be exercised), citing one read and one invented page.
 */
export class InstantEngine implements ResearchEngine {
  running = 0;
  maxRunning = 0;
  readonly runningByUser = new Map<string, number>();
  maxPerUser = 0;
  readonly inputs: ResearchInput[] = [];
  readonly userOf: (q: string) => string;
  readonly delayMs: number;

  constructor(delayMs = 0, userOf: (q: string) => string = (q) => q.split(' ')[2] ?? '') {
    this.userOf = userOf;
    this.delayMs = delayMs;
  }

  async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
    this.inputs.push(input);
    const user = this.userOf(input.question);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const mine = (this.runningByUser.get(user) ?? 0) + 1;
    this.runningByUser.set(user, mine);
    this.maxPerUser = Math.max(this.maxPerUser, mine);
    try {
      yield { type: 'started', sessionId: input.sessionId ?? '', question: input.question, maxSteps: 8, at: 0 };
      await tick();
      if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      yield { type: 'code', step: 1, code: 'print(web_search("x"))' };
      yield { type: 'tool', step: 1, name: 'web_search', arg: 'x' };
      yield { type: 'observation', step: 1, output: 'result '.repeat(50), error: null, stateLost: false, durationMs: 1 };
      await tick();
      yield { type: 'writing' };
      yield {
        type: 'answer',
        text: `Answer to ${input.question} [1] and [2].`,
        citations: [
          { n: 1, url: 'https://invented.example/x', title: 'Made up', verified: false, status: 'unseen' },
          { n: 2, url: 'https://www.real.example/page', title: 'Real page', verified: true, status: 'read' },
        ],
        steps: 1,
        usage: { promptTokens: 10, completionTokens: 5 },
        durationMs: 1,
      };
    } finally {
      this.running -= 1;
      this.runningByUser.set(user, (this.runningByUser.get(user) ?? 1) - 1);
    }
  }
}

/** Runs until released or aborted; on abort yields 'cancelled' like the real engine. */
export class GatedEngine implements ResearchEngine {
  readonly started: string[] = [];
  aborted = 0;
  #release = new Map<string, () => void>();

  release(question: string): void {
    this.#release.get(question)?.();
  }

  async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
    this.started.push(input.question);
    yield { type: 'started', sessionId: input.sessionId ?? '', question: input.question, maxSteps: 32, at: 0 };
    yield { type: 'code', step: 1, code: 'print(1)' };
    const gate = new Promise<'go' | 'abort'>((resolve) => {
      this.#release.set(input.question, () => resolve('go'));
      input.signal?.addEventListener('abort', () => resolve('abort'), { once: true });
    });
    if ((await gate) === 'abort') {
      this.aborted += 1;
      yield { type: 'cancelled' };
      return;
    }
    yield { type: 'observation', step: 1, output: '1', error: null, stateLost: false, durationMs: 1 };
    yield { type: 'answer', text: `done: ${input.question}`, citations: [], steps: 1, usage: { promptTokens: 1, completionTokens: 1 }, durationMs: 1 };
  }
}

/** Records renders; `failFirst` renders throw a rate-limit error (like a 429). */
export class RecordingSurface implements ThreadSurface {
  readonly renders: ThreadView[] = [];
  readonly notes: string[] = [];
  readonly traces: { filename: string; content: string }[] = [];
  failures = 0;
  failFirst: number;
  inflight = 0;
  maxInflight = 0;

  constructor(failFirst = 0) {
    this.failFirst = failFirst;
  }

  async render(view: ThreadView): Promise<void> {
    this.inflight += 1;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      await tick();
      if (this.failures < this.failFirst) {
        this.failures += 1;
        throw Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter: 0 });
      }
      this.renders.push(view);
    } finally {
      this.inflight -= 1;
    }
  }

  async notify(text: string): Promise<void> {
    this.notes.push(text);
  }

  async attachTrace(filename: string, content: string): Promise<void> {
    this.traces.push({ filename, content });
  }

  last(): ThreadView | undefined {
    return this.renders.at(-1);
  }
}
