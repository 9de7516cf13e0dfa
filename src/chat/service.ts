// The public API of the chat layer: what the Slack and Discord adapters call. Platforms translate
// their events into ResearchRequest and render the ThreadView they are given; all research state,
// scheduling (per-user, per-workspace, global), pacing, follow-ups and cancellation live here.
import type { ResearchEngine, ResearchEvent, Turn } from '../engine/events.ts';
import type { Logger } from '../util/log.ts';
import type { SessionLimiters } from './limiters.ts';
import type { ChatLimits } from './limits.ts';
import { ChatServiceImpl } from './scheduler.ts';
import type { AsyncSessionStore } from './session-store.ts';
import type { SessionStatus, SessionStore } from './store.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface, ThreadView } from './types.ts';

export interface ChatServiceDeps {
  engine: ResearchEngine;
  /** The embedded SQLite store (wrapped) or a shared one (Postgres), chosen in src/wiring/. */
  store: SessionStore | AsyncSessionStore;
  /**
   * Mark the sessions a dead process left queued/running as interrupted at start (default true).
   * False where other live processes share the store (gateways and workers).
   */
  recoverOnStart?: boolean;
  limits: ChatLimits;
  /** Session concurrency slots (per user, global). Default: in this process, from `limits`. */
  limiters?: SessionLimiters;
  logger?: Logger;
  /** Injectable clock (epoch ms) for tests; quotas and timings use it. Default Date.now. */
  now?: () => number;
  /** Shown as "step n of at most N" until the engine's 'started' event says otherwise. Default 32. */
  maxSteps?: number;
  /** Characters of each observation shown in the thread view (the trace has them in full). Default 600. */
  observationChars?: number;
  /** Longest accepted question, in characters. Default 4000. */
  maxQuestionChars?: number;
  /** Earlier turns of a thread handed to the engine on a follow-up (most recent kept). Default 6. */
  maxHistoryTurns?: number;
  /** How long seen platform event ids are kept for dedupe. Default 24 h. */
  seenEventTtlMs?: number;
}

/** How a platform wants its renders paced for one thread. */
export interface SubmitOptions {
  /**
   * Least time between two render() calls sharing `pacingKey` (Slack ~1200 per thread,
   * Discord ~1100 per channel). Default 1000.
   */
  minIntervalMs?: number;
  /** Renders with the same key share one pace. Default: the thread (platform:workspace:channel:thread). */
  pacingKey?: string;
  /** Attempts to deliver the final view before giving up (a throwing render is retried). Default 8. */
  finalAttempts?: number;
}

/** What the platform vouches for about the user asking to stop a research. */
export interface CancelOptions {
  /**
   * The user may stop anyone's research here (Discord: Manage Messages in the channel). The bot
   * itself passes true. Default false: only the asker may.
   */
  moderator?: boolean;
}

/**
 * stopped: it was stopped (or withdrawn from the queue). inactive: nothing queued or running.
 * refused: the user may not stop it; a polite refusal was posted through the session's surface.
 */
export type CancelOutcome = 'stopped' | 'inactive' | 'refused';

/** What metrics and logs observe. */
export type ChatEvent =
  | { kind: 'research'; sessionId: string; ref: ThreadRef; event: ResearchEvent }
  | { kind: 'session'; sessionId: string; ref: ThreadRef; status: SessionStatus; durationMs: number | null }
  | { kind: 'rejected'; ref: ThreadRef; reason: Exclude<SubmitOutcome, { accepted: true }>['reason'] }
  | { kind: 'render-error'; sessionId: string; ref: ThreadRef; error: string };

export interface ChatStats {
  /** Sessions running now. */
  running: number;
  /** Accepted sessions waiting for a slot. */
  queued: number;
  /** Sessions finished since start, by final status. */
  finished: Record<'done' | 'failed' | 'cancelled' | 'interrupted', number>;
  /** Requests turned away since start, by reason. */
  rejected: Record<Exclude<SubmitOutcome, { accepted: true }>['reason'], number>;
  /** Renders still waiting to be delivered. */
  pendingRenders: number;
  shuttingDown: boolean;
}

export interface ChatService {
  /**
   * Accepts (or turns away, with a ready-to-post message) a research request for a thread. When
   * accepted, the surface receives paced, coalesced render() calls up to the final state, which is
   * always delivered (retried after errors). A request that must wait is first shown as queued
   * ("n ahead of you", kept current); one that can start at once is first shown researching.
   * A request in a thread the bot researched before carries that thread's history automatically.
   * Never throws for bad input: returns { accepted: false, reason: 'invalid' }. A rejection's
   * `message` has already been posted through surface.notify() when this resolves.
   */
  submit(req: ResearchRequest, surface: ThreadSurface, opts?: SubmitOptions): Promise<SubmitOutcome>;
  /**
   * The Retry button of an interrupted session: submits its question again in its thread, as the
   * same user under the same quotas. Only the asker may; each interrupted session is retried once.
   * Refusals are posted through surface.notify(), like submit's.
   */
  retry(sessionId: string, byUserId: string, surface: ThreadSurface, opts?: SubmitOptions): Promise<SubmitOutcome>;
  /**
   * Stops the running or queued session of a thread (stop button / "stop" text) if `byUserId`
   * asked it or `opts.moderator` is set; anyone else is refused in the thread and it keeps running.
   */
  cancel(ref: ThreadRef, byUserId: string, opts?: CancelOptions): Promise<CancelOutcome>;
  /** Same, by session id (buttons carry it). */
  cancelSession(sessionId: string, byUserId: string, opts?: CancelOptions): Promise<CancelOutcome>;
  /** Whether the bot ever researched in this thread (follow-ups without a mention). */
  isResearchThread(ref: ThreadRef): Promise<boolean>;
  /** Whether a reply in a research thread without a mention is a follow-up (CIR_FOLLOWUP=any). */
  followupWithoutMention(): boolean;
  /** The id of the thread's session that is queued or running, if any. */
  activeSession(ref: ThreadRef): string | null;
  /** Earlier completed questions and answers of the thread, oldest first. */
  history(ref: ThreadRef): Promise<Turn[]>;
  /**
   * Whether submit() already accepted or refused a request from this platform event (its
   * sourceEventId): a redelivery to drop silently. submit() itself also answers 'duplicate' for one;
   * the adapter asks first only to avoid visible work (a Discord thread, a second refusal).
   */
  alreadySubmitted(platform: Platform, sourceEventId: string): Promise<boolean>;
  /**
   * Dedupe of deliveries that start no research (help, "stop" text, buttons): true the first time
   * an id is seen. Research requests are deduped by submit() with the session itself instead.
   */
  markEventSeen(platform: Platform, eventId: string): Promise<boolean>;
  /** Thumbs up/down on an answer; one vote per user (a second one replaces the first). False if no such session. */
  recordFeedback(sessionId: string, userId: string, value: 'up' | 'down'): Promise<boolean>;
  /** The complete trace (every step, full observations, answer, sources) as text; null if unknown. */
  trace(sessionId: string): Promise<string | null>;
  /** File name for the trace download, e.g. "cir-trace-<id>.md". */
  traceFilename(sessionId: string): string;
  /** Current view of a session (from memory while active, rebuilt from the store after). */
  view(sessionId: string): Promise<ThreadView | null>;
  stats(): ChatStats;
  /** Subscribe to session and research events (metrics, logs). Returns an unsubscribe function. */
  onEvent(listener: (e: ChatEvent) => void): () => void;
  /** Resolves once nothing is queued or running and every render has been delivered (tests, shutdown). */
  idle(): Promise<void>;
  /**
   * Stops taking work (submit answers 'capacity' with a restart message); queued sessions end as
   * 'interrupted' at once; running ones get `graceMs` to finish, then are cancelled and end as
   * 'interrupted'. Every thread receives its final view.
   */
  shutdown(graceMs: number): Promise<void>;
  /**
   * Sessions a dead process left queued/running are marked 'interrupted' when the service is
   * created (so sessions of this process are never mistaken for them); this hands each one's view
   * (status 'interrupted') to `notify`, once, so the platform can post it with its Retry button
   * (which calls retry(view.sessionId, ...)). Returns the count.
   */
  recoverInterrupted(notify: (view: ThreadView) => Promise<void>): Promise<number>;
}

export function createChatService(deps: ChatServiceDeps): ChatService {
  return new ChatServiceImpl(deps);
}
