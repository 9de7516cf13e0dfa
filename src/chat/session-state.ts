// One live session as the scheduler keeps it in memory, and how its final view maps to the stored
// record. Split from scheduler.ts so that the service reads as admission, running and stopping.
import type { ResearchEvent, Turn } from '../engine/events.ts';
import type { ThreadRenderer } from './pacer.ts';
import type { SessionPatch, SessionStatus } from './store.ts';
import type { ResearchRequest, ThreadSurface, ThreadView } from './types.ts';

export interface Session {
  id: string;
  req: ResearchRequest;
  userKey: string;
  threadKey: string;
  state: 'waiting' | 'running' | 'ended';
  view: ThreadView;
  surface: ThreadSurface;
  renderer: ThreadRenderer;
  controller: AbortController;
  cancelledBy: string | null;
  interrupted: boolean;
  history: Turn[];
  eventSeq: number;
  thinking: string;
  answer: Extract<ResearchEvent, { type: 'answer' }> | null;
  /** The session's store writes, in order: the final record never lands before 'running'. */
  writes: Promise<void>;
  ended: Promise<void>;
  markEnded: () => void;
}

export function finalStatus(v: ThreadView): SessionStatus {
  const s = v.status.state;
  return s === 'done' ? 'done' : s === 'cancelled' ? 'cancelled' : s === 'interrupted' ? 'interrupted' : 'failed';
}

export function finalPatch(s: Session, status: SessionStatus, finishedAt: number): SessionPatch {
  const v = s.view;
  const answerEvent = status === 'done' ? s.answer : null;
  return {
    status,
    finishedAt,
    answer: answerEvent?.text ?? null,
    citations: answerEvent?.citations ?? null,
    error: v.status.state === 'failed' ? v.status.message : null,
    cancelledBy: s.cancelledBy,
    steps: answerEvent?.steps ?? v.steps.length,
  };
}

/** The live sessions of this process: by id, by thread, counted per user and by state. */
export class SessionBook {
  readonly active = new Map<string, Session>();
  readonly byThread = new Map<string, string>();
  /** Waiting + running sessions per user key. */
  readonly #perUser = new Map<string, number>();
  running = 0;
  waiting = 0;

  /** A new session, waiting. */
  add(s: Session): void {
    this.active.set(s.id, s);
    this.byThread.set(s.threadKey, s.id);
    this.#perUser.set(s.userKey, (this.#perUser.get(s.userKey) ?? 0) + 1);
    this.waiting += 1;
  }

  started(s: Session): void {
    s.state = 'running';
    this.waiting -= 1;
    this.running += 1;
  }

  /** Takes an ending session out; true if it never started. */
  remove(s: Session): boolean {
    const wasWaiting = s.state === 'waiting';
    if (s.state === 'running') this.running -= 1;
    else if (wasWaiting) this.waiting -= 1;
    s.state = 'ended';
    this.active.delete(s.id);
    const left = (this.#perUser.get(s.userKey) ?? 1) - 1;
    if (left > 0) this.#perUser.set(s.userKey, left);
    else this.#perUser.delete(s.userKey);
    if (this.byThread.get(s.threadKey) === s.id) this.byThread.delete(s.threadKey);
    return wasWaiting;
  }

  userCount(userKey: string): number {
    return this.#perUser.get(userKey) ?? 0;
  }

  /** Whether a live session came from this platform event. */
  hasSource(platform: string, sourceEventId: string): boolean {
    for (const s of this.active.values()) if (s.req.platform === platform && s.req.sourceEventId === sourceEventId) return true;
    return false;
  }
}
