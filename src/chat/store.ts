// The session store on node:sqlite: sessions, their events (for the trace), feedback, and the
// platform event ids seen (dedupe). One file in CIR_DATA_DIR; schema versions migrate forward.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Citation, ResearchEvent } from '../engine/events.ts';
import type { Platform, ThreadRef } from './types.ts';

export type SessionStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface SessionRecord {
  id: string;
  ref: ThreadRef;
  userId: string;
  question: string;
  status: SessionStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  answer: string | null;
  citations: Citation[] | null;
  error: string | null;
  cancelledBy: string | null;
  sourceEventId: string | null;
  steps: number | null;
}

export interface StoredEvent {
  seq: number;
  at: number;
  event: ResearchEvent;
}

export type SessionPatch = Partial<
  Pick<
    SessionRecord,
    'status' | 'startedAt' | 'finishedAt' | 'answer' | 'citations' | 'error' | 'cancelledBy' | 'steps'
  >
>;

export interface SessionStore {
  /** False (nothing written) when a session of the same platform and sourceEventId exists. */
  createSession(rec: SessionRecord): boolean;
  updateSession(id: string, patch: SessionPatch): void;
  /**
   * Applies `patch` only while the session's status is one of `from`; true if it did. Several
   * processes deciding a session's fate (a worker finishing it, another noticing it stalled, a
   * gateway withdrawing it from the queue): exactly one wins, so a thread is told once.
   */
  updateSessionIf(id: string, from: SessionStatus[] | null, patch: SessionPatch): boolean;
  getSession(id: string): SessionRecord | null;
  /** Sessions of one thread, oldest first. */
  threadSessions(ref: ThreadRef): SessionRecord[];
  /** Whether any session was ever started in this thread. */
  hasThread(ref: ThreadRef): boolean;
  findBySourceEvent(platform: Platform, sourceEventId: string): SessionRecord | null;
  /** Sessions created at or after `since` (quota windows after a restart). */
  sessionsSince(since: number): SessionRecord[];
  appendEvent(sessionId: string, seq: number, at: number, event: ResearchEvent): void;
  events(sessionId: string): StoredEvent[];
  recordFeedback(sessionId: string, userId: string, value: 'up' | 'down', at: number): void;
  feedback(sessionId: string): { userId: string; value: 'up' | 'down' }[];
  /** Whether (platform, eventId) was marked seen (and not pruned). */
  hasSeenEvent(platform: Platform, eventId: string): boolean;
  /** True the first time (platform, eventId) is seen; later calls false. */
  markEventSeen(platform: Platform, eventId: string, at: number): boolean;
  /** Drops seen ids older than `before`; returns how many. */
  pruneSeenEvents(before: number): number;
  /** Deletes the events (trace) of sessions finished before `before`; returns how many events. */
  pruneTraces(before: number): number;
  /** Sessions left queued/running by a dead process become 'interrupted'; returns them. */
  markInterrupted(at: number): SessionRecord[];
  schemaVersion(): number;
  close(): void;
}

/** Each entry moves the schema one version up. Never edit a released entry: append a new one. */
export const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     platform TEXT NOT NULL, workspace_id TEXT NOT NULL, channel_id TEXT NOT NULL, thread_id TEXT NOT NULL,
     user_id TEXT NOT NULL, question TEXT NOT NULL, status TEXT NOT NULL,
     created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,
     answer TEXT, citations TEXT, error TEXT, cancelled_by TEXT, source_event_id TEXT);
   CREATE INDEX sessions_thread ON sessions (platform, workspace_id, channel_id, thread_id, created_at);
   CREATE INDEX sessions_status ON sessions (status);
   CREATE INDEX sessions_created ON sessions (created_at);
   CREATE TABLE events (
     session_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
     PRIMARY KEY (session_id, seq));
   CREATE TABLE seen_events (platform TEXT NOT NULL, event_id TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (platform, event_id));
   CREATE INDEX seen_events_at ON seen_events (at);`,
  // v2: feedback buttons, step count, lookup by source event
  `CREATE TABLE feedback (session_id TEXT NOT NULL, user_id TEXT NOT NULL, value TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (session_id, user_id));
   ALTER TABLE sessions ADD COLUMN steps INTEGER;
   CREATE INDEX sessions_source ON sessions (platform, source_event_id);`,
  // v3: one session per platform event, so accepting a request and deduping it are one write
  // (older rows that share an event id keep only the first's id).
  `UPDATE sessions SET source_event_id = NULL WHERE source_event_id IS NOT NULL AND rowid NOT IN
     (SELECT MIN(rowid) FROM sessions WHERE source_event_id IS NOT NULL GROUP BY platform, source_event_id);
   DROP INDEX sessions_source;
   CREATE UNIQUE INDEX sessions_source_unique ON sessions (platform, source_event_id) WHERE source_event_id IS NOT NULL;`,
];

/** Applies pending migrations (up to `target`, default all), each in a transaction. */
export function migrate(db: DatabaseSync, target: number = MIGRATIONS.length): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let version = row?.version ?? 0;
  if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  if (version > MIGRATIONS.length)
    throw new Error(`session store schema v${version} is newer than this program (v${MIGRATIONS.length})`);
  while (version < target) {
    db.exec('BEGIN');
    try {
      db.exec(MIGRATIONS[version]);
      version += 1;
      db.prepare('UPDATE schema_version SET version = ?').run(version);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return version;
}

/** Opens (creating if needed) `dataDir/sessions.db`; ':memory:' for an in-memory store. */
export function openSessionStore(dataDir: string): SessionStore {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    file = join(dataDir, 'sessions.db');
  }
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return new SqliteSessionStore(db);
}

/** One sessions row as a driver returns it (SQLite numbers, Postgres BIGINT as strings). */
export type Row = Record<string, string | number | null>;

export function toRecord(r: Row): SessionRecord {
  return {
    id: String(r.id),
    ref: {
      platform: r.platform as Platform,
      workspaceId: String(r.workspace_id),
      channelId: String(r.channel_id),
      threadId: String(r.thread_id),
    },
    userId: String(r.user_id),
    question: String(r.question),
    status: r.status as SessionStatus,
    createdAt: Number(r.created_at),
    startedAt: r.started_at == null ? null : Number(r.started_at),
    finishedAt: r.finished_at == null ? null : Number(r.finished_at),
    answer: r.answer == null ? null : String(r.answer),
    citations: r.citations == null ? null : (JSON.parse(String(r.citations)) as Citation[]),
    error: r.error == null ? null : String(r.error),
    cancelledBy: r.cancelled_by == null ? null : String(r.cancelled_by),
    sourceEventId: r.source_event_id == null ? null : String(r.source_event_id),
    steps: r.steps == null ? null : Number(r.steps),
  };
}

export const PATCH_COLUMNS: Record<keyof SessionPatch, string> = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  answer: 'answer',
  citations: 'citations',
  error: 'error',
  cancelledBy: 'cancelled_by',
  steps: 'steps',
};

class SqliteSessionStore implements SessionStore {
  readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  createSession(rec: SessionRecord): boolean {
    // DO NOTHING only covers uniqueness: the source event index (ids are random UUIDs).
    const res = this.db
      .prepare(
        `INSERT INTO sessions (id, platform, workspace_id, channel_id, thread_id, user_id, question, status,
           created_at, started_at, finished_at, answer, citations, error, cancelled_by, source_event_id, steps)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(
        rec.id,
        rec.ref.platform,
        rec.ref.workspaceId,
        rec.ref.channelId,
        rec.ref.threadId,
        rec.userId,
        rec.question,
        rec.status,
        rec.createdAt,
        rec.startedAt,
        rec.finishedAt,
        rec.answer,
        rec.citations ? JSON.stringify(rec.citations) : null,
        rec.error,
        rec.cancelledBy,
        rec.sourceEventId,
        rec.steps,
      );
    return Number(res.changes) === 1;
  }

  updateSession(id: string, patch: SessionPatch): void {
    this.updateSessionIf(id, null, patch);
  }

  updateSessionIf(id: string, from: SessionStatus[] | null, patch: SessionPatch): boolean {
    const keys = Object.keys(patch) as (keyof SessionPatch)[];
    if (!keys.length) return false;
    const values = keys.map((k) => {
      const v = patch[k];
      if (k === 'citations') return v == null ? null : JSON.stringify(v);
      return (v ?? null) as string | number | null;
    });
    const sets = keys.map((k) => `${PATCH_COLUMNS[k]} = ?`).join(', ');
    const only = from ? ` AND status IN (${from.map(() => '?').join(', ')})` : '';
    const res = this.db.prepare(`UPDATE sessions SET ${sets} WHERE id = ?${only}`).run(...values, id, ...(from ?? []));
    return Number(res.changes) === 1;
  }


  getSession(id: string): SessionRecord | null {
    const r = this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  threadSessions(ref: ThreadRef): SessionRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM sessions WHERE platform = ? AND workspace_id = ? AND channel_id = ? AND thread_id = ?
         ORDER BY created_at, rowid`,
      )
      .all(ref.platform, ref.workspaceId, ref.channelId, ref.threadId) as Row[];
    return rows.map(toRecord);
  }

  hasThread(ref: ThreadRef): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM sessions WHERE platform = ? AND workspace_id = ? AND channel_id = ? AND thread_id = ? LIMIT 1`,
        )
        .get(ref.platform, ref.workspaceId, ref.channelId, ref.threadId) !== undefined
    );
  }

  findBySourceEvent(platform: Platform, sourceEventId: string): SessionRecord | null {
    const r = this.db
      .prepare('SELECT * FROM sessions WHERE platform = ? AND source_event_id = ? LIMIT 1')
      .get(platform, sourceEventId) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  sessionsSince(since: number): SessionRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM sessions WHERE created_at >= ? ORDER BY created_at, rowid')
      .all(since) as Row[];
    return rows.map(toRecord);
  }

  appendEvent(sessionId: string, seq: number, at: number, event: ResearchEvent): void {
    this.db
      .prepare('INSERT INTO events (session_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)')
      .run(sessionId, seq, at, event.type, JSON.stringify(event));
  }

  events(sessionId: string): StoredEvent[] {
    const rows = this.db
      .prepare('SELECT seq, at, data FROM events WHERE session_id = ? ORDER BY seq')
      .all(sessionId) as Row[];
    return rows.map((r) => ({ seq: Number(r.seq), at: Number(r.at), event: JSON.parse(String(r.data)) as ResearchEvent }));
  }

  recordFeedback(sessionId: string, userId: string, value: 'up' | 'down', at: number): void {
    // One vote per user and session; a second click changes it.
    this.db
      .prepare(
        `INSERT INTO feedback (session_id, user_id, value, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (session_id, user_id) DO UPDATE SET value = excluded.value, at = excluded.at`,
      )
      .run(sessionId, userId, value, at);
  }

  feedback(sessionId: string): { userId: string; value: 'up' | 'down' }[] {
    const rows = this.db
      .prepare('SELECT user_id, value FROM feedback WHERE session_id = ? ORDER BY at')
      .all(sessionId) as Row[];
    return rows.map((r) => ({ userId: String(r.user_id), value: r.value as 'up' | 'down' }));
  }

  hasSeenEvent(platform: Platform, eventId: string): boolean {
    return this.db.prepare('SELECT 1 FROM seen_events WHERE platform = ? AND event_id = ?').get(platform, eventId) !== undefined;
  }

  markEventSeen(platform: Platform, eventId: string, at: number): boolean {
    const res = this.db
      .prepare('INSERT OR IGNORE INTO seen_events (platform, event_id, at) VALUES (?, ?, ?)')
      .run(platform, eventId, at);
    return Number(res.changes) === 1;
  }

  pruneSeenEvents(before: number): number {
    return Number(this.db.prepare('DELETE FROM seen_events WHERE at < ?').run(before).changes);
  }

  pruneTraces(before: number): number {
    const res = this.db
      .prepare(
        `DELETE FROM events WHERE session_id IN
           (SELECT id FROM sessions WHERE finished_at IS NOT NULL AND finished_at < ?)`,
      )
      .run(before);
    return Number(res.changes);
  }

  markInterrupted(at: number): SessionRecord[] {
    const rows = this.db.prepare(`SELECT * FROM sessions WHERE status IN ('queued', 'running')`).all() as Row[];
    this.db
      .prepare(`UPDATE sessions SET status = 'interrupted', finished_at = ? WHERE status IN ('queued', 'running')`)
      .run(at);
    return rows.map((r) => ({ ...toRecord(r), status: 'interrupted' as const, finishedAt: at }));
  }

  schemaVersion(): number {
    return (this.db.prepare('SELECT version FROM schema_version').get() as { version: number }).version;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
