// Test doubles for the chat layer: a surface that records what it is asked to show, and request
// builders. The engines are the scripted one's presets (test/fakes/scripted-engine.ts).
import { DEFAULT_CHAT_LIMITS, type ChatLimits } from '../../src/chat/limits.ts';
import type { ResearchRequest, ThreadSurface, ThreadView } from '../../src/chat/types.ts';

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function limits(over: Partial<ChatLimits> = {}): ChatLimits {
  return { ...DEFAULT_CHAT_LIMITS, ...over };
}

export function request(user: string, thread: string, question = `question from ${user} in ${thread}`, over: Partial<ResearchRequest> = {}): ResearchRequest {
  return { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: thread, userId: user, question, ...over };
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
