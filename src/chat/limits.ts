// Scheduling limits of the chat layer, from the CIR_* chat variables of src/config.ts.
import type { Env } from '../config.ts';

export interface ChatLimits {
  /** Sessions running at once across the process (the model server's capacity). CIR_MAX_CONCURRENT, default 4. */
  maxConcurrent: number;
  /** Sessions running at once per user. CIR_USER_CONCURRENT, default 1. */
  userConcurrent: number;
  /** Questions per user per window. CIR_USER_QUOTA, default 20. */
  userQuota: number;
  /** Questions per workspace (Slack team / Discord guild) per window. CIR_WORKSPACE_QUOTA, default 200. */
  workspaceQuota: number;
  /** Sliding quota window. CIR_QUOTA_WINDOW_MIN (minutes), default 60. */
  quotaWindowMs: number;
  /** Accepted requests waiting for a free slot, beyond those that can start at once. CIR_QUEUE_MAX, default 50. */
  queueMax: number;
  /** 'any': every reply in a research thread is a follow-up; 'mention': only replies mentioning the bot. CIR_FOLLOWUP. */
  followup: 'mention' | 'any';
  /**
   * Step-by-step events (the trace: full observations, the bulk of the store) of sessions finished
   * longer ago are deleted; questions and answers stay for follow-ups. 0 keeps everything.
   * CIR_TRACE_RETENTION_DAYS, default 30.
   */
  traceRetentionMs: number;
}

export const DEFAULT_CHAT_LIMITS: ChatLimits = {
  maxConcurrent: 4,
  userConcurrent: 1,
  userQuota: 20,
  workspaceQuota: 200,
  quotaWindowMs: 60 * 60_000,
  queueMax: 50,
  followup: 'any',
  traceRetentionMs: 30 * 86_400_000,
};

type ChatEnv = Pick<
  Env,
  | 'CIR_MAX_CONCURRENT'
  | 'CIR_USER_CONCURRENT'
  | 'CIR_USER_QUOTA'
  | 'CIR_WORKSPACE_QUOTA'
  | 'CIR_QUOTA_WINDOW_MIN'
  | 'CIR_QUEUE_MAX'
  | 'CIR_FOLLOWUP'
  | 'CIR_TRACE_RETENTION_DAYS'
>;

export function chatLimitsFromEnv(env: ChatEnv): ChatLimits {
  return {
    maxConcurrent: env.CIR_MAX_CONCURRENT,
    userConcurrent: env.CIR_USER_CONCURRENT,
    userQuota: env.CIR_USER_QUOTA,
    workspaceQuota: env.CIR_WORKSPACE_QUOTA,
    quotaWindowMs: env.CIR_QUOTA_WINDOW_MIN * 60_000,
    queueMax: env.CIR_QUEUE_MAX,
    followup: env.CIR_FOLLOWUP,
    traceRetentionMs: env.CIR_TRACE_RETENTION_DAYS * 86_400_000,
  };
}
