// Concurrency slots for research sessions: one per user (a bottleneck Group keyed by user) in front
// of one global limiter. Local: in this process. Redis: bottleneck's own clustering, so every
// process that shares the Redis and the id prefix shares the same slots (exact across processes).
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import { connectRedis, redisClientOptions } from './redis.ts';
import type { ChatLimits } from './limits.ts';

export interface SessionLimiters {
  /** Runs `job` once both a slot of `userKey` and a global slot are free; resolves with its result. */
  schedule<T>(userKey: string, job: () => Promise<T>): Promise<T>;
  /**
   * Frees at once the slots held by processes that stopped answering (a SIGKILLed worker), in the
   * global limiter and in these users' limiters; resolves with how many. Without it they come back
   * only at their expiration, half an hour on, and at one session per user that user waits as long.
   * Local limiters live and die with their process: nothing to free.
   */
  reclaimDead(userKeys: string[]): Promise<number>;
  /** Releases connections (Redis); local limiters have none. */
  close(): Promise<void>;
}

type Limits = Pick<ChatLimits, 'userConcurrent' | 'maxConcurrent'>;

// A Group drops a key's limiter `timeout` ms after its last job *launch*, even while that job
// still runs; the 5-minute default would let a long session's user start a second one. With
// clustering the same option is the Redis keys' TTL (bottleneck README, "Clustering").
const USER_LIMITER_TTL_MS = 24 * 3600_000;

function chain(
  users: Bottleneck.Group,
  global: Bottleneck,
  disconnect: () => Promise<void>,
  reclaimDead: SessionLimiters['reclaimDead'] = async () => 0,
  expiration?: number,
): SessionLimiters {
  const opts = expiration ? { expiration } : {};
  return {
    schedule: (userKey, job) => users.key(userKey).schedule(opts, () => global.schedule(opts, job)),
    reclaimDead,
    close: disconnect,
  };
}

// Bottleneck's own bookkeeping in Redis (its src/redis/*.lua): which client holds each running
// job, when each client was last heard from, and each job's expiration. Setting the expiration of
// a dead client's jobs to 0 lets bottleneck's next tick free them through its own expiry path
// (running counts, per-client counts and capacity messages stay its business). "Dead" is its own
// rule too: not heard from for clientTimeout. Time is computed as bottleneck's get_time does.
const RECLAIM_SCRIPT = `
local t = redis.call('time')
local now = tonumber(t[1]..string.sub(t[2], 1, 3))
local dead = {}
local any = false
for _, c in ipairs(redis.call('zrangebyscore', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))) do
  dead[c] = true
  any = true
end
if not any then return 0 end
local jobs = redis.call('hgetall', KEYS[2])
local n = 0
for i = 1, #jobs, 2 do
  if dead[jobs[i + 1]] and redis.call('zadd', KEYS[3], 'XX', 'CH', 0, jobs[i]) == 1 then n = n + 1 end
end
return n`;

const bottleneckKeys = (id: string) => [`b_${id}_client_last_seen`, `b_${id}_job_clients`, `b_${id}_job_expirations`];

export function localLimiters(limits: Limits): SessionLimiters {
  const users = new Bottleneck.Group({ maxConcurrent: limits.userConcurrent, timeout: USER_LIMITER_TTL_MS });
  const global = new Bottleneck({ maxConcurrent: limits.maxConcurrent });
  return chain(users, global, async () => {});
}

export interface RedisLimiterOptions {
  /** redis://... (credentials allowed; never logged). */
  url: string;
  /** Limiters of all processes with the same prefix share their slots (one deployment, or one test run). */
  prefix: string;
  /**
   * Longest a slot stays taken. Bottleneck frees a running job's slot in Redis only when its
   * `expiration` passes (README "Clustering": jobs of a crashed client stay running otherwise), so
   * this is how a SIGKILLed worker's slots come back. Set it above the longest session; a session
   * still running past it loses its slot (logged) and keeps running. Default 30 minutes.
   */
  slotExpirationMs?: number;
  /**
   * How long a process may be silent before it counts as dead (bottleneck's `clientTimeout` store
   * option, default 10 s; heartbeats go out every fifth of it): `reclaimDead` frees its slots.
   */
  clientTimeoutMs?: number;
  /** Longest wait for Redis at start before giving up (a missing Redis must not hang startup). Default 10 s. */
  connectTimeoutMs?: number;
  /** Redis errors after start (bottleneck reconnects by itself through ioredis). */
  onError?: (err: unknown) => void;
}

/**
 * Limiters clustered through Redis (`datastore: 'ioredis'`). Bottleneck keeps each limiter's
 * running count in Redis under its `id`; every slot has an expiration, so a SIGKILLed worker
 * does not hold its slots forever.
 */
export async function redisLimiters(limits: Limits, opts: RedisLimiterOptions): Promise<SessionLimiters> {
  const waitMs = opts.connectTimeoutMs ?? 10_000;
  const onError = opts.onError ?? (() => {});
  // A first connection of our own, so a refused or silent Redis fails the start at once
  // (bottleneck's would retry forever). Then bottleneck opens its pair (commands, subscriber),
  // shared by the group and the global limiter; ioredis reconnects those by itself.
  const clientOptions = redisClientOptions(opts.url);
  (await connectRedis(opts.url, () => {}, waitMs)).disconnect();
  const connection = new Bottleneck.IORedisConnection({ clientOptions });
  const clientTimeout = opts.clientTimeoutMs ?? 10_000;
  // Store options bottleneck reads but its typings do not list.
  const store = { clientTimeout, heartbeatInterval: Math.max(50, Math.floor(clientTimeout / 5)) };
  const users = new Bottleneck.Group({
    id: `${opts.prefix}:user`,
    datastore: 'ioredis',
    connection,
    maxConcurrent: limits.userConcurrent,
    timeout: USER_LIMITER_TTL_MS,
    ...(store as object),
  });
  const global = new Bottleneck({
    id: `${opts.prefix}:global`,
    datastore: 'ioredis',
    connection,
    maxConcurrent: limits.maxConcurrent,
    ...(store as object),
  });
  users.on('error', onError);
  global.on('error', onError);
  await global.ready();
  const redis = (connection as unknown as { client: Redis }).client;
  const later = new Set<NodeJS.Timeout>();
  const pass = async (userKeys: string[]): Promise<number> => {
    let freed = 0;
    for (const id of [`${opts.prefix}:global`, ...userKeys.map((k) => `${opts.prefix}:user-${k}`)])
      freed += Number(await redis.eval(RECLAIM_SCRIPT, 3, ...bottleneckKeys(id), clientTimeout));
    // Bottleneck takes the freed slots up at its next tick on each key (heartbeats tick too).
    if (freed > 0) await global.running();
    return freed;
  };
  const reclaimDead = async (userKeys: string[]): Promise<number> => {
    // A process that has just died counts as dead only once clientTimeout has passed since it was
    // last heard: look again then, so that a death noticed early is not missed.
    const t = setTimeout(() => {
      later.delete(t);
      void pass(userKeys).catch(onError);
    }, clientTimeout + store.heartbeatInterval);
    t.unref();
    later.add(t);
    return pass(userKeys);
  };
  return chain(
    users,
    global,
    async () => {
      for (const t of later) clearTimeout(t);
      await connection.disconnect(true);
    },
    reclaimDead,
    opts.slotExpirationMs ?? 30 * 60_000,
  );
}
