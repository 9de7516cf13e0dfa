// Connections to REDIS_URL, shared by the clustered limiters and the research queue: options built
// from the URL, and a first connection that fails fast, neither ever showing the URL in an error.
import { Redis, type RedisOptions } from 'ioredis';

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

/** A plain client (publish or subscribe); fails fast when Redis cannot be reached at start. */
export async function connectRedis(url: string, onError: (err: unknown) => void, timeoutMs = 10_000): Promise<Redis> {
  const client = new Redis({ ...redisClientOptions(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 3 });
  client.on('error', onError);
  try {
    await client.connect();
  } catch {
    client.disconnect();
    throw new Error('could not reach Redis (REDIS_URL)');
  }
  return client;
}
