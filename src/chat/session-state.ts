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
