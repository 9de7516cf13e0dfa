// The session store as several processes share it: the same operations as SessionStore, each
// answering a promise, because a networked database (Postgres) cannot answer synchronously.
// node:sqlite fits behind it through `asyncSessionStore`, so one contract test covers both.
import type { SessionStore } from './store.ts';

type Promised<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

export type AsyncSessionStore = Promised<SessionStore>;

// A Record over every key: adding a SessionStore method without listing it here fails to compile.
const METHODS: Record<keyof SessionStore, true> = {
  createSession: true, updateSession: true, updateSessionIf: true, getSession: true, threadSessions: true, hasThread: true,
  findBySourceEvent: true, sessionsSince: true, appendEvent: true, events: true, recordFeedback: true,
  feedback: true, hasSeenEvent: true, markEventSeen: true, pruneSeenEvents: true, pruneTraces: true,
  markInterrupted: true, schemaVersion: true, close: true,
};

/** Marks stores that already answer promises (so the chat layer can take either kind). */
export const ASYNC_STORE: unique symbol = Symbol.for('cir-bot.asyncSessionStore');

/** `store` as the promise interface: an async store as it is, a sync one wrapped. */
export function toAsyncStore(store: SessionStore | AsyncSessionStore): AsyncSessionStore {
  return ASYNC_STORE in store ? (store as AsyncSessionStore) : asyncSessionStore(store as SessionStore);
}

/** The embedded SQLite store behind the promise interface (errors become rejections). */
export function asyncSessionStore(sync: SessionStore): AsyncSessionStore {
  const out: Record<string | symbol, unknown> = { [ASYNC_STORE]: true };
  for (const m of Object.keys(METHODS) as (keyof SessionStore)[]) {
    const fn = sync[m] as (...a: unknown[]) => unknown;
    out[m] = async (...args: unknown[]) => fn.apply(sync, args);
  }
  return out as AsyncSessionStore;
}
