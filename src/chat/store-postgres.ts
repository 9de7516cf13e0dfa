// The session store on Postgres (through `pg`), for several gateways and workers sharing one
// database: the same operations and meaning as the SQLite store. Uniqueness that must hold across
// processes (one session per platform event, one seen mark per event id) is a unique key, so two
// gateways racing on a Slack retry still write exactly one row.
import pg from 'pg';
import type { Citation, ResearchEvent } from '../engine/events.ts';
import { ASYNC_STORE, type AsyncSessionStore } from './session-store.ts';
import { PATCH_COLUMNS, toRecord, type Row, type SessionPatch, type SessionRecord, type SessionStatus, type StoredEvent } from './store.ts';
import type { Platform, ThreadRef } from './types.ts';

/** Each entry moves the Postgres schema one version up (its own history, starting where SQLite v3 is). */
export const PG_MIGRATIONS: readonly string[] = [
  // v1: everything SQLite reached by its v3. `seq` keeps insertion order (SQLite's rowid).
  `CREATE TABLE sessions (
     seq BIGSERIAL UNIQUE, id TEXT PRIMARY KEY,
     platform TEXT NOT NULL, workspace_id TEXT NOT NULL, channel_id TEXT NOT NULL, thread_id TEXT NOT NULL,
     user_id TEXT NOT NULL, question TEXT NOT NULL, status TEXT NOT NULL,
     created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT,
     answer TEXT, citations TEXT, error TEXT, cancelled_by TEXT, source_event_id TEXT, steps INTEGER);
   CREATE INDEX sessions_thread ON sessions (platform, workspace_id, channel_id, thread_id, created_at);
   CREATE INDEX sessions_status ON sessions (status);
   CREATE INDEX sessions_created ON sessions (created_at);
   CREATE UNIQUE INDEX sessions_source_unique ON sessions (platform, source_event_id) WHERE source_event_id IS NOT NULL;
   CREATE TABLE events (
     session_id TEXT NOT NULL, seq INTEGER NOT NULL, at BIGINT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
     PRIMARY KEY (session_id, seq));
   CREATE TABLE seen_events (platform TEXT NOT NULL, event_id TEXT NOT NULL, at BIGINT NOT NULL,
     PRIMARY KEY (platform, event_id));
   CREATE INDEX seen_events_at ON seen_events (at);
   CREATE TABLE feedback (session_id TEXT NOT NULL, user_id TEXT NOT NULL, value TEXT NOT NULL, at BIGINT NOT NULL,
     PRIMARY KEY (session_id, user_id));`,
];

// Any fixed number: every process migrating the same database takes this advisory lock first,
// so two starting at once never apply one migration twice.
const MIGRATION_LOCK = 0x63697262;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresStoreOptions {
  /** Postgres schema to keep the tables in (created if missing); default the connection's `public`. */
  schema?: string;
  /** Pool size per process; the default suits one gateway or worker. */
  maxConnections?: number;
  /** Errors of idle pooled connections (the server restarted); the pool reconnects on next use. */
  onError?: (err: unknown) => void;
}

/** Connects to `url` (postgres://...), applies pending migrations and returns the store. */
export async function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<AsyncSessionStore> {
  const schema = opts.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error('invalid Postgres schema name');
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    // search_path per connection, so every query below names tables without a schema.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its server must not crash the process (pg emits 'error' on the pool).
  pool.on('error', opts.onError ?? (() => {}));
  try {
    await migratePostgres(pool, PG_MIGRATIONS.length, schema);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new PostgresSessionStore(pool);
}

/**
 * Applies pending migrations (up to `target`), all in one transaction under the advisory lock.
 * The schema is created under the lock too: concurrent CREATE SCHEMA IF NOT EXISTS can still
 * collide on Postgres's catalog unique index.
 */
export async function migratePostgres(pool: pg.Pool, target: number = PG_MIGRATIONS.length, schema?: string): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = (await c.query<{ version: number }>('SELECT version FROM schema_version')).rows[0];
    let version = row?.version ?? 0;
    if (!row) await c.query('INSERT INTO schema_version (version) VALUES (0)');
    if (version > PG_MIGRATIONS.length)
      throw new Error(`session store schema v${version} is newer than this program (v${PG_MIGRATIONS.length})`);
    while (version < target) {
      await c.query(PG_MIGRATIONS[version]);
      version += 1;
    }
    await c.query('UPDATE schema_version SET version = $1', [version]);
    await c.query('COMMIT');
    return version;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

const SESSION_COLUMNS =
  'id, platform, workspace_id, channel_id, thread_id, user_id, question, status, created_at, started_at, ' +
  'finished_at, answer, citations, error, cancelled_by, source_event_id, steps';

class PostgresSessionStore implements AsyncSessionStore {
  readonly [ASYNC_STORE] = true;
  readonly #pool: pg.Pool;
  #closed = false;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async #rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.#pool.query<Row>(sql, params)).rows;
  }

  async #count(sql: string, params: unknown[]): Promise<number> {
    return (await this.#pool.query(sql, params)).rowCount ?? 0;
  }

  async createSession(rec: SessionRecord): Promise<boolean> {
    // DO NOTHING only covers uniqueness: the source event index (ids are random UUIDs).
    const n = await this.#count(
      `INSERT INTO sessions (${SESSION_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT DO NOTHING`,
      [
        rec.id, rec.ref.platform, rec.ref.workspaceId, rec.ref.channelId, rec.ref.threadId, rec.userId, rec.question,
        rec.status, rec.createdAt, rec.startedAt, rec.finishedAt, rec.answer,
        rec.citations ? JSON.stringify(rec.citations) : null, rec.error, rec.cancelledBy, rec.sourceEventId, rec.steps,
      ],
    );
    return n === 1;
  }

  async updateSession(id: string, patch: SessionPatch): Promise<void> {
    await this.updateSessionIf(id, null, patch);
  }

  async updateSessionIf(id: string, from: SessionStatus[] | null, patch: SessionPatch): Promise<boolean> {
    const keys = Object.keys(patch) as (keyof SessionPatch)[];
    if (!keys.length) return false;
    const values = keys.map((k) => {
      const v = patch[k];
      if (k === 'citations') return v == null ? null : JSON.stringify(v as Citation[]);
      return v ?? null;
    });
    const sets = keys.map((k, i) => `${PATCH_COLUMNS[k]} = $${i + 1}`).join(', ');
    // One statement: of two processes racing, the row lock lets exactly one match the status.
    const only = from ? ` AND status = ANY($${keys.length + 2})` : '';
    const res = await this.#pool.query(`UPDATE sessions SET ${sets} WHERE id = $${keys.length + 1}${only}`, [...values, id, ...(from ? [from] : [])]);
    return res.rowCount === 1;
  }


  async getSession(id: string): Promise<SessionRecord | null> {
    const [r] = await this.#rows(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id]);
    return r ? toRecord(r) : null;
  }

  async threadSessions(ref: ThreadRef): Promise<SessionRecord[]> {
    const rows = await this.#rows(
      `SELECT ${SESSION_COLUMNS} FROM sessions
       WHERE platform = $1 AND workspace_id = $2 AND channel_id = $3 AND thread_id = $4 ORDER BY created_at, seq`,
      [ref.platform, ref.workspaceId, ref.channelId, ref.threadId],
    );
    return rows.map(toRecord);
  }

  async hasThread(ref: ThreadRef): Promise<boolean> {
    const rows = await this.#rows(
      'SELECT 1 FROM sessions WHERE platform = $1 AND workspace_id = $2 AND channel_id = $3 AND thread_id = $4 LIMIT 1',
      [ref.platform, ref.workspaceId, ref.channelId, ref.threadId],
    );
    return rows.length > 0;
  }

  async findBySourceEvent(platform: Platform, sourceEventId: string): Promise<SessionRecord | null> {
    const [r] = await this.#rows(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE platform = $1 AND source_event_id = $2 LIMIT 1`,
      [platform, sourceEventId],
    );
    return r ? toRecord(r) : null;
  }

  async sessionsSince(since: number): Promise<SessionRecord[]> {
    const rows = await this.#rows(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE created_at >= $1 ORDER BY created_at, seq`,
      [since],
    );
    return rows.map(toRecord);
  }

  async appendEvent(sessionId: string, seq: number, at: number, event: ResearchEvent): Promise<void> {
    await this.#pool.query('INSERT INTO events (session_id, seq, at, type, data) VALUES ($1, $2, $3, $4, $5)', [
      sessionId, seq, at, event.type, JSON.stringify(event),
    ]);
  }

  async events(sessionId: string): Promise<StoredEvent[]> {
    const rows = await this.#rows('SELECT seq, at, data FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
    return rows.map((r) => ({ seq: Number(r.seq), at: Number(r.at), event: JSON.parse(String(r.data)) as ResearchEvent }));
  }

  async recordFeedback(sessionId: string, userId: string, value: 'up' | 'down', at: number): Promise<void> {
    // One vote per user and session; a second click changes it.
    await this.#pool.query(
      `INSERT INTO feedback (session_id, user_id, value, at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (session_id, user_id) DO UPDATE SET value = excluded.value, at = excluded.at`,
      [sessionId, userId, value, at],
    );
  }

  async feedback(sessionId: string): Promise<{ userId: string; value: 'up' | 'down' }[]> {
    const rows = await this.#rows('SELECT user_id, value FROM feedback WHERE session_id = $1 ORDER BY at', [sessionId]);
    return rows.map((r) => ({ userId: String(r.user_id), value: r.value as 'up' | 'down' }));
  }

  async hasSeenEvent(platform: Platform, eventId: string): Promise<boolean> {
    const rows = await this.#rows('SELECT 1 FROM seen_events WHERE platform = $1 AND event_id = $2', [platform, eventId]);
    return rows.length > 0;
  }

  async markEventSeen(platform: Platform, eventId: string, at: number): Promise<boolean> {
    const n = await this.#count(
      'INSERT INTO seen_events (platform, event_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [platform, eventId, at],
    );
    return n === 1;
  }

  async pruneSeenEvents(before: number): Promise<number> {
    return this.#count('DELETE FROM seen_events WHERE at < $1', [before]);
  }

  async pruneTraces(before: number): Promise<number> {
    return this.#count(
      `DELETE FROM events e USING sessions s
       WHERE e.session_id = s.id AND s.finished_at IS NOT NULL AND s.finished_at < $1`,
      [before],
    );
  }

  async markInterrupted(at: number): Promise<SessionRecord[]> {
    // One statement: two processes recovering at once each get a disjoint set (row locks).
    const rows = await this.#rows(
      `UPDATE sessions SET status = 'interrupted', finished_at = $1 WHERE status IN ('queued', 'running')
       RETURNING ${SESSION_COLUMNS}`,
      [at],
    );
    return rows.map(toRecord);
  }

  async schemaVersion(): Promise<number> {
    const [r] = await this.#rows('SELECT version FROM schema_version');
    return Number(r.version);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
