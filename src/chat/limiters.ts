// Concurrency slots for research sessions: one per user (a bottleneck Group keyed by user) in front
// of one global limiter. Local: in this process. Redis: bottleneck's own clustering, so every
// process that shares the Redis and the id prefix shares the same slots (exact across processes).
import Bottleneck from 'bottleneck';
import { Redis, type RedisOptions } from 'ioredis';
import type { ChatLimits } from './limits.ts';

export interface SessionLimiters {
  /** Runs `job` once both a slot of `userKey` and a global slot are free; resolves with its result. */
  schedule<T>(userKey: string, job: () => Promise<T>): Promise<T>;
  /** Releases connections (Redis); local limiters have none. */
  close(): Promise<void>;
}

type Limits = Pick<ChatLimits, 'userConcurrent' | 'maxConcurrent'>;

// A Group drops a key's limiter `timeout` ms after its last job *launch*, even while that job
// still runs; the 5-minute default would let a long session's user start a second one. With
// clustering the same option is the Redis keys' TTL (bottleneck README, "Clustering").
const USER_LIMITER_TTL_MS = 24 * 3600_000;

function chain(users: Bottleneck.Group, global: Bottleneck, disconnect: () => Promise<void>, expiration?: number): SessionLimiters {
  const opts = expiration ? { expiration } : {};
  return {
    schedule: (userKey, job) => users.key(userKey).schedule(opts, () => global.schedule(opts, job)),
    close: disconnect,
  };
}

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
   * How long a process may miss heartbeats before its running jobs' slots are freed (bottleneck's
   * `clientTimeout` store option, default 10 s; heartbeats go out every fifth of it).
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
  const probe = new Redis({ ...clientOptions, lazyConnect: true, connectTimeout: waitMs, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  try {
    await probe.connect();
  } catch {
    throw new Error('could not reach Redis (REDIS_URL)');
  } finally {
    probe.disconnect();
  }
  const connection = new Bottleneck.IORedisConnection({ clientOptions });
  const clientTimeout = opts.clientTimeoutMs ?? 10_000;
  // Store options bottleneck reads but its typings do not list.
  const store = { clientTimeout, heartbeatInterval: Math.max(50, Math.floor(clientTimeout / 5)) } as object;
  const users = new Bottleneck.Group({
    id: `${opts.prefix}:user`,
    datastore: 'ioredis',
    connection,
    maxConcurrent: limits.userConcurrent,
    timeout: USER_LIMITER_TTL_MS,
    ...store,
  });
  const global = new Bottleneck({
    id: `${opts.prefix}:global`,
    datastore: 'ioredis',
    connection,
    maxConcurrent: limits.maxConcurrent,
    ...store,
  });
  users.on('error', onError);
  global.on('error', onError);
  await global.ready();
  return chain(
    users,
    global,
    async () => {
      await connection.disconnect(true);
    },
    opts.slotExpirationMs ?? 30 * 60_000,
  );
}

/** ioredis options from a redis:// or rediss:// URL, without ever putting the URL in an error. */
export function redisClientOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('REDIS_URL is not a valid URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('REDIS_URL must start with redis:// or rediss://');
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
