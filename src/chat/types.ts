// Contract between the shared chat layer and the platform adapters (Slack, Discord).
// Platforms translate events in (ResearchRequest) and render ThreadView out; they keep no
// research state of their own.
import type { Turn } from '../engine/events.ts';

export type Platform = 'slack' | 'discord' | 'terminal';

/** Identifies one research thread on one platform. */
export interface ThreadRef {
  platform: Platform;
  /** Slack team id / Discord guild id ('' for DMs without one). */
  workspaceId: string;
  channelId: string;
  /** Slack thread_ts / Discord thread channel id ('' for a DM without threads). */
  threadId: string;
}

export interface ResearchRequest extends ThreadRef {
  userId: string;
  question: string;
  /** The platform's id of the triggering event/message (dedupe, audit). */
  sourceEventId?: string;
}

export type ThreadStatus =
  | { state: 'queued'; ahead: number }
  | { state: 'researching'; step: number; maxSteps: number }
  | { state: 'writing' }
  | { state: 'done' }
  | { state: 'failed'; message: string }
  | { state: 'cancelled'; by?: string }
  | { state: 'interrupted' };

export interface ToolCallView {
  name: 'web_search' | 'web_visit';
  arg: string;
}

export interface StepView {
  n: number;
  code: string;
  /** Observation trimmed for display (chat); the full one is in the trace. */
  observation: string | null;
  observationFull: string | null;
  error: string | null;
  tools: ToolCallView[];
}

export interface SourceView {
  n: number;
  url: string;
  title: string;
  domain: string;
  /** Invented URLs never become sources. */
  status: 'read' | 'seen';
}

/** A cited claim of the answer with the passages of its sources that support it (numbers as in `sources`). */
export interface ClaimView {
  text: string;
  citations: number[];
  supported: boolean;
  quotes: { n: number; text: string }[];
}

export interface AnswerView {
  /** Markdown-ish text with [n] citation markers; unsupported claims carry UNSUPPORTED_MARK. */
  text: string;
  sources: SourceView[];
  /** Absent for answers from before claims were checked. */
  claims?: ClaimView[];
}

export interface ThreadView {
  sessionId: string;
  ref: ThreadRef;
  userId: string;
  question: string;
  status: ThreadStatus;
  maxSteps: number;
  steps: StepView[];
  answer: AnswerView | null;
  startedAt: number;
  finishedAt: number | null;
}

/** Implemented by each platform for one thread; the chat layer decides when each is called. */
export interface ThreadSurface {
  /** Show the current state of the research (status, steps, answer when done). Coalesced and paced. */
  render(view: ThreadView): Promise<void>;
  /** A short standalone message in the thread: the chat layer posts each refusal of submit/retry here. */
  notify(text: string): Promise<void>;
  /** Upload the complete trace as a file: called once, after the final view of a session that ran code. */
  attachTrace(filename: string, content: string): Promise<void>;
}

export type SubmitOutcome =
  | { accepted: true; sessionId: string; ahead: number }
  | {
      accepted: false;
      reason: 'quota' | 'capacity' | 'busy' | 'duplicate' | 'invalid';
      /** Ready to post (plain text, times in UTC). */
      message: string;
      /** quota: epoch ms when the next question frees up (for the platform's own time formatting). */
      retryAt?: number;
      /** busy: the session already running in this thread. */
      activeSessionId?: string;
    };

export { type Turn };
