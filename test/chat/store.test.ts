import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createChatService } from '../../src/chat/service.ts';
import { migrate, MIGRATIONS, openSessionStore } from '../../src/chat/store.ts';
import type { ThreadView } from '../../src/chat/types.ts';
import { gatedEngine, instantEngine } from '../fakes/scripted-engine.ts';
import { limits, RecordingSurface, request } from './helpers.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'cir-chat-'));

test('a database written by schema v1 opens in the current version and keeps its data', () => {
  const dir = tempDir();
  try {
    const old = new DatabaseSync(join(dir, 'sessions.db'));
    assert.equal(migrate(old, 1), 1);
    old
      .prepare(
        `INSERT INTO sessions (id, platform, workspace_id, channel_id, thread_id, user_id, question, status, created_at, answer)
         VALUES ('s1', 'slack', 'T1', 'C1', '1.2', 'U1', 'old question', 'done', 1000, 'old answer')`,
      )
      .run();
    old.close();

    const store = openSessionStore(dir);
    assert.equal(store.schemaVersion(), MIGRATIONS.length);
    assert.ok(MIGRATIONS.length >= 2);
    const rec = store.getSession('s1')!;
    assert.equal(rec.question, 'old question');
    assert.equal(rec.steps, null, 'column added by v2 reads as null');
    store.recordFeedback('s1', 'U2', 'up', 2000); // table added by v2
    assert.deepEqual(store.feedback('s1'), [{ userId: 'U2', value: 'up' }]);
    store.close();
    // Opening again does not re-run migrations.
    const again = openSessionStore(dir);
    assert.equal(again.schemaVersion(), MIGRATIONS.length);
    assert.equal(again.getSession('s1')!.answer, 'old answer');
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer version is refused rather than damaged', () => {
  const db = new DatabaseSync(':memory:');
  migrate(db);
  db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length + 1);
  assert.throws(() => migrate(db), /newer than this program/);
  db.close();
});

test('seen event ids are pruned by age', () => {
  const store = openSessionStore(':memory:');
  assert.equal(store.markEventSeen('slack', 'a', 1000), true);
  assert.equal(store.markEventSeen('slack', 'b', 5000), true);
  assert.equal(store.pruneSeenEvents(2000), 1);
  assert.equal(store.markEventSeen('slack', 'a', 6000), true, 'pruned id counts as new again');
  assert.equal(store.markEventSeen('slack', 'b', 6000), false);
  store.close();
});

test('sessions left running by a dead process are marked interrupted and their threads told', async () => {
  const dir = tempDir();
  try {
    // Process 1: one session running, one queued behind it; then it "dies" (no shutdown).
    const store1 = openSessionStore(dir);
    const engine = gatedEngine();
    const chat1 = createChatService({ engine, store: store1, limits: limits({ maxConcurrent: 1 }) });
    const a = await chat1.submit(request('U1', 't1', 'running question'), new RecordingSurface(), { minIntervalMs: 0 });
    const b = await chat1.submit(request('U2', 't2', 'queued question'), new RecordingSurface(), { minIntervalMs: 0 });
    // Held after its first step, which the service has recorded by then.
    while (!engine.holding.includes('running question')) await new Promise((r) => setTimeout(r, 2));
    assert.ok(a.accepted && b.accepted);

    // Process 2 opens the same file.
    const store2 = openSessionStore(dir);
    const chat2 = createChatService({ engine: instantEngine(), store: store2, limits: limits() });
    // A request this process takes before telling the old threads is not mistaken for an orphan.
    const fresh = await chat2.submit(request('U3', 't3', 'fresh question'), new RecordingSurface(), { minIntervalMs: 0 });
    assert.ok(fresh.accepted);
    const told: ThreadView[] = [];
    const n = await chat2.recoverInterrupted(async (v) => {
      told.push(v);
    });
    assert.equal(n, 2);
    const byId = new Map(told.map((v) => [v.sessionId, v]));
    const ra = byId.get(a.sessionId)!;
    assert.equal(ra.status.state, 'interrupted');
    assert.equal(ra.question, 'running question');
    assert.equal(ra.steps[0].code, 'print(1)', 'the steps done so far are shown');
    assert.deepEqual(ra.ref, { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: 't1' });
    assert.equal(byId.get(b.sessionId)!.status.state, 'interrupted');
    assert.equal(store2.getSession(a.sessionId)!.status, 'interrupted');
    assert.equal(await chat2.recoverInterrupted(async () => {}), 0, 'told once');
    // The user can retry in the same thread.
    const retry = await chat2.submit(request('U1', 't1', 'running question'), new RecordingSurface(), { minIntervalMs: 0 });
    assert.ok(retry.accepted);
    await chat2.idle();
    assert.equal((await chat2.view(a.sessionId))!.status.state, 'interrupted');
    assert.equal(store2.getSession(fresh.sessionId)!.status, 'done');
    await chat1.cancelSession(a.sessionId, 'test', { moderator: true }); // let process 1's engine end
    store1.close();
    store2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quotas survive a restart: questions asked before it still count', async () => {
  const dir = tempDir();
  try {
    let now = 1_000_000;
    const store1 = openSessionStore(dir);
    const chat1 = createChatService({ engine: instantEngine(), store: store1, limits: limits({ userQuota: 2 }), now: () => now });
    await chat1.submit(request('U1', 't1'), new RecordingSurface(), { minIntervalMs: 0 });
    await chat1.submit(request('U1', 't2'), new RecordingSurface(), { minIntervalMs: 0 });
    await chat1.idle();
    store1.close();
    now += 1000;
    const store2 = openSessionStore(dir);
    const chat2 = createChatService({ engine: instantEngine(), store: store2, limits: limits({ userQuota: 2 }), now: () => now });
    const o = await chat2.submit(request('U1', 't3'), new RecordingSurface());
    assert.ok(!o.accepted && o.reason === 'quota' && o.retryAt === 1_000_000 + 3_600_000);
    store2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('traces of sessions finished before the retention period are deleted at start; answers stay', async () => {
  const store = openSessionStore(':memory:');
  let now = Date.UTC(2026, 0, 1);
  const opts = { engine: instantEngine(), store, limits: limits({ traceRetentionMs: 7 * 86_400_000 }), now: () => now };
  const chat1 = createChatService(opts);
  const o = await chat1.submit(request('U1', 't1', 'old question'), new RecordingSurface(), { minIntervalMs: 0 });
  assert.ok(o.accepted);
  await chat1.idle();
  assert.ok(store.events(o.sessionId).length > 3);
  now += 6 * 86_400_000;
  createChatService(opts);
  assert.ok(store.events(o.sessionId).length > 3, 'still within the retention period');
  now += 2 * 86_400_000;
  const chat3 = createChatService(opts);
  assert.equal(store.events(o.sessionId).length, 0);
  assert.equal(store.getSession(o.sessionId)!.answer?.startsWith('Answer to old question'), true);
  assert.equal((await chat3.history(request('U1', 't1'))).length, 1, 'follow-ups still see the answer');
  const view = (await chat3.view(o.sessionId))!;
  assert.equal(view.status.state, 'done');
  assert.deepEqual(view.answer!.sources.map((s) => s.domain), ['real.example']);
  store.close();
});

test('v3: a database from v2 whose rows share a source event migrates; one session per platform event from then on', () => {
  const db = new DatabaseSync(':memory:');
  assert.equal(migrate(db, 2), 2);
  const insert = db.prepare(
    `INSERT INTO sessions (id, platform, workspace_id, channel_id, thread_id, user_id, question, status, created_at, source_event_id)
     VALUES (?, ?, 'T1', 'C1', '1.2', 'U1', 'q', 'done', 1000, ?)`,
  );
  insert.run('a', 'slack', 'ev1');
  insert.run('b', 'slack', 'ev1'); // written twice by an older version
  insert.run('c', 'discord', 'ev1');
  assert.equal(migrate(db), MIGRATIONS.length);
  const sources = db.prepare('SELECT id, source_event_id AS s FROM sessions ORDER BY id').all() as { id: string; s: string | null }[];
  assert.deepEqual(sources.map((r) => [r.id, r.s]), [['a', 'ev1'], ['b', null], ['c', 'ev1']]);
  assert.throws(() => insert.run('d', 'slack', 'ev1'), /UNIQUE/);
  db.close();

  const store = openSessionStore(':memory:');
  const rec = (id: string, sourceEventId: string | null) => ({
    id, ref: { platform: 'slack' as const, workspaceId: 'T1', channelId: 'C1', threadId: id }, userId: 'U1', question: 'q',
    status: 'queued' as const, createdAt: 1, startedAt: null, finishedAt: null, answer: null, citations: null, error: null,
    cancelledBy: null, sourceEventId, steps: null,
  });
  assert.equal(store.createSession(rec('s1', 'ev9')), true);
  assert.equal(store.createSession(rec('s2', 'ev9')), false, 'same platform event: nothing written');
  assert.equal(store.getSession('s2'), null);
  assert.equal(store.createSession(rec('s3', null)), true);
  assert.equal(store.createSession(rec('s4', null)), true, 'requests without an event id are never duplicates');
  store.close();
});
