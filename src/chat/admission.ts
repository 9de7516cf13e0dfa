// Who may ask now: the keys requests are counted under, and the user and workspace quotas with
// the ready-to-post refusal each produces.
import type { ChatLimits } from './limits.ts';
import * as msg from './messages.ts';
import { SlidingWindowQuota } from './quota.ts';
import type { SessionRecord } from './store.ts';
import type { ResearchRequest, ThreadRef } from './types.ts';

export const threadKey = (r: ThreadRef): string => `${r.platform}:${r.workspaceId}:${r.channelId}:${r.threadId}`;
export const userKeyOf = (r: Pick<ResearchRequest, 'platform' | 'workspaceId' | 'userId'>): string =>
  `${r.platform}:${r.workspaceId || 'dm'}:${r.userId}`;
/** Direct messages have no workspace: each DM user is their own "workspace" for the quota. */
export const workspaceKeyOf = (r: Pick<ResearchRequest, 'platform' | 'workspaceId' | 'userId'>): string =>
  r.workspaceId ? `${r.platform}:${r.workspaceId}` : `${r.platform}:dm:${r.userId}`;

export function refOf(r: ThreadRef): ThreadRef {
  return { platform: r.platform, workspaceId: r.workspaceId, channelId: r.channelId, threadId: r.threadId };
}

/**
 * The one rule for acting on someone's research: its asker may, and so may a user the platform
 * vouches for as a moderator (Discord: Manage Messages in that channel; Slack: nobody, for now).
 * Stop and queue withdrawal pass the platform's word; Retry passes false (it spends the asker's quota).
 */
export function mayControl(askerId: string, byUserId: string, moderator: boolean): boolean {
  return askerId === byUserId || moderator;
}

export class Quotas {
  readonly #limits: ChatLimits;
  readonly #user: SlidingWindowQuota;
  readonly #workspace: SlidingWindowQuota;

  constructor(limits: ChatLimits) {
    this.#limits = limits;
    this.#user = new SlidingWindowQuota(limits.userQuota, limits.quotaWindowMs);
    this.#workspace = new SlidingWindowQuota(limits.workspaceQuota, limits.quotaWindowMs);
  }

  /** Questions asked before a restart still count within their window (withdrawn ones do not). */
  seed(records: SessionRecord[]): void {
    for (const rec of records) {
      if (rec.startedAt == null && (rec.status === 'cancelled' || rec.status === 'interrupted')) continue;
      this.take({ ...rec.ref, userId: rec.userId }, rec.createdAt, rec.id);
    }
  }

  /** null when allowed; otherwise the refusal to post and when the next question frees up. */
  check(req: Pick<ResearchRequest, 'platform' | 'workspaceId' | 'userId'>, now: number): { message: string; retryAt: number } | null {
    const { userQuota, workspaceQuota, quotaWindowMs } = this.#limits;
    const u = this.#user.check(userKeyOf(req), now);
    if (!u.ok) return { message: msg.userQuotaMessage(userQuota, quotaWindowMs, u.retryAt, now), retryAt: u.retryAt };
    const w = this.#workspace.check(workspaceKeyOf(req), now);
    if (!w.ok) return { message: msg.workspaceQuotaMessage(workspaceQuota, quotaWindowMs, w.retryAt, now), retryAt: w.retryAt };
    return null;
  }

  take(req: Pick<ResearchRequest, 'platform' | 'workspaceId' | 'userId'>, at: number, id: string): void {
    this.#user.take(userKeyOf(req), at, id);
    this.#workspace.take(workspaceKeyOf(req), at, id);
  }

  /** A request withdrawn before it started gives its use back. */
  release(req: Pick<ResearchRequest, 'platform' | 'workspaceId' | 'userId'>, id: string): void {
    this.#user.release(userKeyOf(req), id);
    this.#workspace.release(workspaceKeyOf(req), id);
  }
}

/** The request's own faults, checked before anything else is counted: null when it is fine. */
export function requestProblem(req: ResearchRequest, maxChars: number): string | null {
  const question = typeof req.question === 'string' ? req.question.trim() : '';
  if (!question) return msg.EMPTY_QUESTION_MESSAGE;
  if (!req.userId || typeof req.userId !== 'string') return 'Could not tell who asked; please try again.';
  if (question.length > maxChars) return msg.tooLongMessage(maxChars);
  return null;
}

/** The stored record of a newly accepted request ('queued'; the dedupe record too). */
export function newRecord(id: string, req: ResearchRequest, question: string, now: number): SessionRecord {
  return {
    id,
    ref: refOf(req),
    userId: req.userId,
    question,
    status: 'queued',
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    answer: null,
    citations: null,
    error: null,
    cancelledBy: null,
    sourceEventId: req.sourceEventId ?? null,
    steps: null,
  };
}
