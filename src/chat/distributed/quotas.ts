// The user and workspace quotas (CIR_USER_QUOTA, CIR_WORKSPACE_QUOTA per CIR_QUOTA_WINDOW_MIN) kept
// in Redis, so that they stay exact with any number of gateways: one sorted set of use times per
// key, checked and taken for both keys in one Lua script (Redis runs it atomically). Same meaning
// as the in-process SlidingWindowQuota: a use frees up exactly one window after it was taken.
import type { Redis } from 'ioredis';
import { userKeyOf, workspaceKeyOf } from '../admission.ts';
import type { ChatLimits } from '../limits.ts';
import * as msg from '../messages.ts';
import type { ResearchRequest } from '../types.ts';

type Who = Pick<ResearchRequest, 'platform' | 'workspaceId' | 'userId'>;

// KEYS: user set, workspace set. ARGV: now, window, user limit, workspace limit, use id.
// Returns {0} when taken, else {which (1 user, 2 workspace), when the next use frees up}.
const CHECK_AND_TAKE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limits = { tonumber(ARGV[3]), tonumber(ARGV[4]) }
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local n = redis.call('ZCARD', KEYS[i])
  if n >= limits[i] then
    local oldest = redis.call('ZRANGE', KEYS[i], n - limits[i], n - limits[i], 'WITHSCORES')
    return { i, tonumber(oldest[2]) + window }
  end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[i], window)
end
return { 0, 0 }
`;

export class RedisQuotas {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limits: Pick<ChatLimits, 'userQuota' | 'workspaceQuota' | 'quotaWindowMs'>;

  constructor(redis: Redis, prefix: string, limits: Pick<ChatLimits, 'userQuota' | 'workspaceQuota' | 'quotaWindowMs'>) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#limits = limits;
  }

  #keys(who: Who): [string, string] {
    return [`${this.#prefix}:quota:user:${userKeyOf(who)}`, `${this.#prefix}:quota:workspace:${workspaceKeyOf(who)}`];
  }

  /** Takes one use for `id` if both quotas allow it: null, else the refusal to post. */
  async take(who: Who, now: number, id: string): Promise<{ message: string; retryAt: number } | null> {
    const { userQuota, workspaceQuota, quotaWindowMs } = this.#limits;
    const [which, retryAt] = (await this.#redis.eval(
      CHECK_AND_TAKE, 2, ...this.#keys(who), now, quotaWindowMs, userQuota, workspaceQuota, id,
    )) as [number, number];
    if (which === 0) return null;
    const message =
      which === 1
        ? msg.userQuotaMessage(userQuota, quotaWindowMs, retryAt, now)
        : msg.workspaceQuotaMessage(workspaceQuota, quotaWindowMs, retryAt, now);
    return { message, retryAt };
  }

  /** Gives a use back (a request withdrawn before it started, or never queued). */
  async release(who: Who, id: string): Promise<void> {
    const [user, workspace] = this.#keys(who);
    await this.#redis.multi().zrem(user, id).zrem(workspace, id).exec();
  }
}
