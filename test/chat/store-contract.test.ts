// One contract, two stores: every case runs against the embedded SQLite store (behind the promise
// interface) and the shared Postgres store (a real server on 127.0.0.1:5432, database `test`, a
// schema of its own per run, dropped at the end).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ResearchEvent } from '../../src/engine/events.ts';
import { asyncSessionStore, type AsyncSessionStore } from '../../src/chat/session-store.ts';
import { MIGRATIONS, openSessionStore, type SessionRecord } from '../../src/chat/store.ts';
import { openPostgresStore, PG_MIGRATIONS } from '../../src/chat/store-postgres.ts';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `cir_test_${process.pid}_${randomUUID().slice(0, 8)}`;

interface Backend {
  name: string;
  migrations: number;
  /** A fresh, empty store; `shared` names a database several opens see (reopen, races). */
  open(shared?: string): Promise<AsyncSessionStore>;
  cleanup(): Promise<void>;
}

const sqliteDirs: string[] = [];
const sqliteShared = new Map<string, string>();
const sqlite: Backend = {
  name: 'sqlite',
  migrations: MIGRATIONS.length,
  async open(shared) {
    if (!shared) return asyncSessionStore(openSessionStore(':memory:'));
    let dir = sqliteShared.get(shared);
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), 'cir-store-'));
      sqliteDirs.push(dir);
      sqliteShared.set(shared, dir);
    }
    return asyncSessionStore(openSessionStore(dir));
  },
  async cleanup() {
    for (const d of sqliteDirs) rmSync(d, { recursive: true, force: true });
  },
};

const pgSchemas = new Set<string>();
let pgCounter = 0;
const postgres: Backend = {
  name: 'postgres',
  migrations: PG_MIGRATIONS.length,
  async open(shared) {
    const schema = `${RUN}_${shared ?? `s${pgCounter++}`}`;
    pgSchemas.add(schema);
    return openPostgresStore(PG_URL, { schema, maxConnections: 4 });
  },
  async cleanup() {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      for (const s of pgSchemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    } finally {
      await c.end();
    }
  },
};

function rec(id: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    ref: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: 't1' },
    userId: 'U1',
    question: `question ${id}`,
    status: 'queued',
    createdAt: 1_000,
    startedAt: null,
    finishedAt: null,
    answer: null,
    citations: null,
    error: null,
    cancelledBy: null,
    sourceEventId: null,
    steps: null,
    ...over,
  };
}

const code = (step: number): ResearchEvent => ({ type: 'code', step, code: `print(${step})` });

for (const b of [sqlite, postgres]) {
  describe(`session store contract: ${b.name}`, () => {
    const opened: AsyncSessionStore[] = [];
    const open = async (shared?: string) => {
      const s = await b.open(shared);
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close();
      await b.cleanup();
    });

    test('a session round-trips, and a patch changes only what it names', async () => {
      const s = await open();
      const citations = [{ n: 1, url: 'https://a.example/x', title: 'A', verified: true, status: 'read' as const }];
      assert.equal(await s.createSession(rec('s1', { createdAt: Date.UTC(2026, 11, 7), sourceEventId: 'ev1' })), true);
      await s.updateSession('s1', { status: 'done', startedAt: 2_000, finishedAt: 3_000, answer: 'the answer', citations, steps: 4 });
      await s.updateSession('s1', {});
      const got = await s.getSession('s1');
      assert.deepEqual(got, rec('s1', {
        createdAt: Date.UTC(2026, 11, 7), sourceEventId: 'ev1', status: 'done', startedAt: 2_000, finishedAt: 3_000,
        answer: 'the answer', citations, steps: 4,
      }));
      await s.updateSession('s1', { citations: null, error: 'boom', cancelledBy: 'U9' });
      const again = (await s.getSession('s1'))!;
      assert.equal(again.citations, null);
      assert.equal(again.error, 'boom');
      assert.equal(again.cancelledBy, 'U9');
      assert.equal(again.answer, 'the answer', 'unnamed columns kept');
      assert.equal(await s.getSession('missing'), null);
    });

    test('one session per platform event; requests without an event id are never duplicates', async () => {
      const s = await open();
      assert.equal(await s.createSession(rec('a', { sourceEventId: 'ev9' })), true);
      assert.equal(await s.createSession(rec('b', { sourceEventId: 'ev9' })), false);
      assert.equal(await s.getSession('b'), null, 'nothing written');
      assert.equal(await s.createSession(rec('c', { sourceEventId: 'ev9', ref: { ...rec('c').ref, platform: 'discord' } })), true);
      assert.equal(await s.createSession(rec('d')), true);
      assert.equal(await s.createSession(rec('e')), true);
      assert.equal((await s.findBySourceEvent('slack', 'ev9'))!.id, 'a');
      assert.equal((await s.findBySourceEvent('discord', 'ev9'))!.id, 'c');
      assert.equal(await s.findBySourceEvent('slack', 'nope'), null);
    });

    test('racing writers of the same platform event: exactly one wins', async () => {
      const s = await open();
      const wins = await Promise.all(Array.from({ length: 12 }, (_, i) => s.createSession(rec(`r${i}`, { sourceEventId: 'dup' }))));
      assert.equal(wins.filter(Boolean).length, 1);
      const seen = await Promise.all(Array.from({ length: 12 }, () => s.markEventSeen('discord', 'm1', 5)));
      assert.equal(seen.filter(Boolean).length, 1);
    });

    test('a conditional update applies only from the named statuses; of racing deciders exactly one wins', async () => {
      const s = await open();
      await s.createSession(rec('c1'));
      assert.equal(await s.updateSessionIf('c1', ['running'], { status: 'done' }), false, 'queued is not running');
      assert.equal((await s.getSession('c1'))!.status, 'queued');
      assert.equal(await s.updateSessionIf('c1', ['queued'], { status: 'running', startedAt: 5 }), true);
      const wins = await Promise.all(
        Array.from({ length: 8 }, (_, i) => s.updateSessionIf('c1', ['queued', 'running'], { status: 'interrupted', finishedAt: 10 + i })),
      );
      assert.equal(wins.filter(Boolean).length, 1);
      const got = (await s.getSession('c1'))!;
      assert.equal(got.status, 'interrupted');
      assert.equal(got.startedAt, 5);
      assert.equal(await s.updateSessionIf('missing', ['queued'], { status: 'done' }), false);
    });

    test('thread sessions come oldest first (insertion order on ties); other threads apart', async () => {
      const s = await open();
      await s.createSession(rec('late', { createdAt: 3_000 }));
      await s.createSession(rec('tie2', { createdAt: 2_000 }));
      await s.createSession(rec('tie1', { createdAt: 2_000 }));
      await s.createSession(rec('other', { ref: { ...rec('x').ref, threadId: 't2' } }));
      const ids = (await s.threadSessions(rec('x').ref)).map((r) => r.id);
      assert.deepEqual(ids, ['tie2', 'tie1', 'late']);
      assert.equal(await s.hasThread(rec('x').ref), true);
      assert.equal(await s.hasThread({ ...rec('x').ref, channelId: 'C2' }), false);
      assert.deepEqual((await s.sessionsSince(2_500)).map((r) => r.id), ['late']);
      assert.deepEqual((await s.sessionsSince(2_000)).map((r) => r.id), ['tie2', 'tie1', 'late']);
    });

    test('events keep their order; traces of sessions finished before a time are pruned, answers stay', async () => {
      const s = await open();
      await s.createSession(rec('old', { status: 'done', finishedAt: 1_000, answer: 'kept' }));
      await s.createSession(rec('new', { status: 'done', finishedAt: 9_000 }));
      await s.createSession(rec('live', { status: 'running' }));
      for (const id of ['old', 'new', 'live']) for (const n of [2, 0, 1]) await s.appendEvent(id, n, 100 + n, code(n));
      assert.deepEqual((await s.events('old')).map((e) => [e.seq, e.at, e.event]), [0, 1, 2].map((n) => [n, 100 + n, code(n)]));
      assert.equal(await s.pruneTraces(5_000), 3);
      assert.deepEqual(await s.events('old'), []);
      assert.equal((await s.events('new')).length, 3);
      assert.equal((await s.events('live')).length, 3, 'unfinished sessions keep their trace');
      assert.equal((await s.getSession('old'))!.answer, 'kept');
      await assert.rejects(s.appendEvent('new', 1, 1, code(1)), 'a (session, seq) is written once');
    });

    test('one feedback vote per user and session; a second click changes it', async () => {
      const s = await open();
      await s.recordFeedback('s1', 'U1', 'up', 1);
      await s.recordFeedback('s1', 'U2', 'down', 2);
      await s.recordFeedback('s1', 'U1', 'down', 3);
      assert.deepEqual(await s.feedback('s1'), [{ userId: 'U2', value: 'down' }, { userId: 'U1', value: 'down' }]);
      assert.deepEqual(await s.feedback('s2'), []);
    });

    test('seen event ids: first mark true, later false, pruned by age', async () => {
      const s = await open();
      assert.equal(await s.markEventSeen('slack', 'a', 1_000), true);
      assert.equal(await s.markEventSeen('slack', 'a', 1_500), false);
      assert.equal(await s.markEventSeen('discord', 'a', 1_500), true, 'ids are per platform');
      assert.equal(await s.markEventSeen('slack', 'b', 5_000), true);
      assert.equal(await s.hasSeenEvent('slack', 'a'), true);
      assert.equal(await s.hasSeenEvent('slack', 'zz'), false);
      assert.equal(await s.pruneSeenEvents(2_000), 2);
      assert.equal(await s.hasSeenEvent('slack', 'a'), false);
      assert.equal(await s.markEventSeen('slack', 'a', 6_000), true, 'pruned id counts as new again');
      assert.equal(await s.markEventSeen('slack', 'b', 6_000), false);
    });

    test('sessions left queued or running become interrupted once; finished ones are untouched', async () => {
      const s = await open();
      await s.createSession(rec('q', { status: 'queued' }));
      await s.createSession(rec('r', { status: 'running', startedAt: 1_100 }));
      await s.createSession(rec('d', { status: 'done', finishedAt: 1_200 }));
      const got = (await s.markInterrupted(7_000)).sort((x, y) => x.id.localeCompare(y.id));
      assert.deepEqual(got.map((r) => [r.id, r.status, r.finishedAt, r.question]), [
        ['q', 'interrupted', 7_000, 'question q'],
        ['r', 'interrupted', 7_000, 'question r'],
      ]);
      assert.equal((await s.getSession('r'))!.status, 'interrupted');
      assert.equal((await s.getSession('d'))!.finishedAt, 1_200);
      assert.deepEqual(await s.markInterrupted(8_000), []);
    });

    test('stores opened on one database share it; opening again keeps the data and the schema version', async () => {
      const [s1, s2] = await Promise.all([open('common'), open('common')]);
      assert.equal(await s1.schemaVersion(), b.migrations);
      assert.equal(await s2.schemaVersion(), b.migrations);
      assert.equal(await s1.createSession(rec('x', { sourceEventId: 'e1' })), true);
      assert.equal(await s2.createSession(rec('y', { sourceEventId: 'e1' })), false, 'dedupe holds across processes');
      assert.equal(await s2.markEventSeen('slack', 'k', 1), true);
      assert.equal(await s1.markEventSeen('slack', 'k', 2), false);
      const s3 = await open('common');
      assert.equal((await s3.getSession('x'))!.question, 'question x');
    });
  });
}

test('postgres: a schema from a newer version is refused rather than damaged', async () => {
  const schema = `${RUN}_newer`;
  pgSchemas.add(schema);
  const first = await openPostgresStore(PG_URL, { schema });
  await first.close();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`UPDATE ${schema}.schema_version SET version = $1`, [PG_MIGRATIONS.length + 1]);
  } finally {
    await c.end();
  }
  await assert.rejects(openPostgresStore(PG_URL, { schema }), /newer than this program/);
  await postgres.cleanup();
});

test('postgres: a schema name that is not a plain identifier is refused before connecting', async () => {
  await assert.rejects(openPostgresStore(PG_URL, { schema: 'x; DROP TABLE y' }), /invalid Postgres schema name/);
});
