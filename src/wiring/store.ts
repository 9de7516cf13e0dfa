// Chooses, once, where the chat layer keeps its sessions: the embedded SQLite file in CIR_DATA_DIR,
// or PostgreSQL when DATABASE_URL is set (shared by every gateway and worker).
import type { Env } from '../config.ts';
import { asyncSessionStore, type AsyncSessionStore } from '../chat/session-store.ts';
import { openSessionStore } from '../chat/store.ts';
import type { Logger } from '../util/log.ts';

export async function buildStore(env: Env, logger: Logger): Promise<AsyncSessionStore> {
  if (!env.DATABASE_URL) return asyncSessionStore(openSessionStore(env.CIR_DATA_DIR));
  // Imported only when used: the embedded default never loads pg.
  const { openPostgresStore } = await import('../chat/store-postgres.ts');
  try {
    const store = await openPostgresStore(env.DATABASE_URL, {
      schema: env.CIR_DATABASE_SCHEMA,
      onError: (err) => logger.warn({ err: (err as Error).message }, 'postgres connection error'),
    });
    logger.info({ schema: env.CIR_DATABASE_SCHEMA ?? 'default' }, 'session store: PostgreSQL');
    return store;
  } catch (err) {
    // pg's errors name the host and user, never the password; the URL itself is not repeated.
    throw new Error(`could not open the PostgreSQL store (DATABASE_URL): ${(err as Error).message}`);
  }
}
