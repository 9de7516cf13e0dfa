// One gateway and two workers as separate processes (serve --role gateway / worker) on the real
// Redis and Postgres, against the fake Slack (Socket Mode, held by the gateway only), the fake model
// and SearXNG. Each mention is answered once; the per-user limit holds across workers; a worker
// SIGKILLed mid-session leaves its thread told once and nothing run twice; Stop pressed at the
// gateway stops the session on its worker; a follow-up sees the thread's history wherever it runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScriptContext } from '../fakes/llm.ts';
import { mention, newTs } from '../slack/harness.ts';
import { botMessages } from '../discord/helpers.ts';
import { startCluster, until, type Cluster } from './cluster.ts';

const CHAN = 'C00FAKECHAN1';

/** The question of the prompt's last user turn. */
function lastQuestion(prompt: string): string {
  const turn = prompt.slice(prompt.lastIndexOf('<|im_start|>user'));
  return turn.slice(0, turn.indexOf('<|im_end|>'));
}

/** Per completions call: the question it was for, and when it arrived (for the overlap check). */
const calls: { question: string; at: number; call: number }[] = [];

function script({ prompt, call }: ScriptContext) {
  const q = lastQuestion(prompt);
  calls.push({ question: q, at: Date.now(), call });
  if (q.includes('[hang]')) return { text: 'Let me think about this', hang: true };
  const answer = `Answer to ${/Q\d+/.exec(q)?.[0] ?? 'it'}: forty-two.`;
  // [slow] streams over a while, so that two sessions of one user would overlap if allowed to.
  return { text: `Done.\n</think>\n\n${answer}`, ...(q.includes('[slow]') ? { durationMs: 800 } : {}) };
}

let c: Cluster;

before(async () => {
  c = await startCluster({
    script,
    workers: 2,
    discord: true,
    env: {
      // One job at a time per worker, so that one user's sessions must land on both workers.
      CIR_WORKER_SESSIONS: '1',
      CIR_USER_CONCURRENT: '1',
      CIR_MAX_CONCURRENT: '8',
      CIR_WORKER_LOCK_MS: '1000',
      CIR_SHUTDOWN_GRACE_MS: '20000',
    },
  });
});

after(async () => {
  await c?.close();
});

const threadText = (ts: string) => JSON.stringify(c.slack.thread(CHAN, ts));
const answersIn = (ts: string, tag: string) =>
  c.slack.thread(CHAN, ts).filter((m) => JSON.stringify(m).includes(`Answer to ${tag}: forty-two`)).length;

test('each mention is answered exactly once, Slack retries included, across two workers', async () => {
  const threads = ['Q1', 'Q2', 'Q3', 'Q4'].map((tag, i) => ({ tag, ts: newTs(), user: `U00FAKEUSR${i}` }));
  for (const t of threads) {
    const body = mention(`${t.tag} what is six times seven?`, { ts: t.ts, user: t.user });
    // A workspace each: Slack's render pace is per workspace, and it is not what is tested here.
    body.team_id = `T00FAKEWS${t.tag}`;
    await c.slack.sendEnvelope('events_api', body);
    // Slack's retry of the same event: the shared store's unique key drops it.
    await c.slack.sendEnvelope('events_api', body);
  }
  for (const t of threads) await until(`the answer to ${t.tag}`, () => answersIn(t.ts, t.tag) > 0);
  // The record is written just after the answer is posted.
  const rows = await until('every session recorded done', async () => {
    const r = await c.sessions();
    return r.every((x) => x.status === 'done') ? r : undefined;
  });
  assert.equal(rows.length, 4, 'one session per mention');
  for (const t of threads) assert.equal(answersIn(t.ts, t.tag), 1, `${t.tag} answered once`);
  for (const r of rows) assert.equal(c.ranOn(r.id).length, 1, 'each job taken by exactly one worker');
  assert.ok(!c.gateway.output().includes('"msg":"research job taken"'), 'the gateway runs no research');
});

test('each role answers /healthz and /metrics on its own port: the gateway its platforms, a worker the model', async () => {
  const health = async (port: number) =>
    (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
  const g = await health(await c.gateway.port);
  assert.deepEqual(Object.keys(g.checks).sort(), ['platform:discord', 'platform:slack', 'redis', 'store']);
  assert.equal(g.ok, true, JSON.stringify(g));
  const w = await health(await c.workers[0].port);
  assert.deepEqual(Object.keys(w.checks).sort(), ['model', 'redis', 'sandbox', 'store']);
  assert.ok(w.checks.model.ok && w.checks.redis.ok && w.checks.store.ok, JSON.stringify(w));
  const metrics = await (await fetch(`http://127.0.0.1:${await c.workers[0].port}/metrics`)).text();
  assert.match(metrics, /cir_sessions_running \d/);
});

test('the per-user limit holds across workers: one user\'s sessions never overlap, though both workers run them', async () => {
  const user = 'U00FAKELIM1';
  const tags = ['Q11', 'Q12', 'Q13'];
  const tss = tags.map(() => newTs());
  for (const [i, tag] of tags.entries())
    await c.slack.sendEnvelope('events_api', mention(`${tag} [slow] how many?`, { ts: tss[i], user }));
  for (const [i, tag] of tags.entries()) await until(`the answer to ${tag}`, () => answersIn(tss[i], tag) > 0);
  const rows = (await c.sessions()).filter((r) => r.user_id === user);
  assert.equal(rows.length, 3);
  const workers = new Set(rows.flatMap((r) => c.ranOn(r.id)));
  assert.equal(workers.size, 2, `ran on both workers: ${[...workers].join(', ')}`);
  // Each model call's [arrival, last byte] interval; the user's may not intersect.
  const spans = calls
    .filter((x) => tags.some((t) => x.question.includes(t)))
    .map((x) => ({ from: x.at, to: x.at + (c.llm.turnMs.get(x.call) ?? Infinity) }))
    .sort((a, b) => a.from - b.from);
  assert.equal(spans.length, 3);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i].from >= spans[i - 1].to, `session ${i + 1} started after ${i} ended`);
});

test('a worker SIGKILLed mid-session: the thread is told once, with Retry, and the session is never run again', async () => {
  const ts = newTs();
  await c.slack.sendEnvelope('events_api', mention('Q21 [hang] a question for a doomed worker', { ts, user: 'U00FAKEKIL1' }));
  await until('the model request', () => calls.some((x) => x.question.includes('Q21')));
  const row = (await c.sessions()).find((r) => r.question.includes('Q21'))!;
  const [victimName] = c.ranOn(row.id);
  const victim = c.workers.find((w) => w.name === victimName)!;
  assert.ok(victim, 'the session ran on one of the workers');
  victim.child.kill('SIGKILL');
  await victim.exit;
  // The survivor's stalled-job check notices once the lock (1 s) lapses.
  await until('the thread told of the interruption', () => threadText(ts).includes('Interrupted'), 30_000);
  assert.equal((await c.sessions()).find((r) => r.id === row.id)!.status, 'interrupted');
  // A replacement worker joins; the interrupted session is still not run again.
  const fresh = await c.startWorker('worker3');
  c.workers.splice(c.workers.indexOf(victim), 1, fresh);
  const blocks = c.slack.thread(CHAN, ts).flatMap((m) => JSON.stringify(m.blocks));
  assert.equal(blocks.filter((b) => b.includes('cir_retry')).length, 1, 'one Retry offered');
  assert.equal(c.slack.thread(CHAN, ts).filter((m) => JSON.stringify(m).includes('Interrupted:')).length, 1, 'told once');
  assert.equal(calls.filter((x) => x.question.includes('Q21')).length, 1, 'the model was asked once');
  // The dead worker's limiter slots went with it: the same user (one session at a time) is answered
  // now, not when those slots would have expired half an hour later.
  const again = newTs();
  await c.slack.sendEnvelope('events_api', mention('Q22 the same user asks again', { ts: again, user: 'U00FAKEKIL1' }));
  await until('the same user answered again', () => answersIn(again, 'Q22') === 1, 30_000);
});

test('Stop pressed at the gateway stops the session on its worker', async () => {
  const ts = newTs();
  const user = 'U00FAKESTP1';
  await c.slack.sendEnvelope('events_api', mention('Q31 [hang] a question to stop', { ts, user }));
  await until('the model request', () => calls.some((x) => x.question.includes('Q31')));
  const status = await until('the status message with Stop', () =>
    c.slack.thread(CHAN, ts).find((m) => JSON.stringify(m.blocks).includes('"cir_stop"')),
  );
  const value = /"cir_stop","value":"([^"]+)"/.exec(JSON.stringify(status.blocks))![1];
  const disconnects = c.llm.disconnects;
  await c.slack.sendEnvelope('interactive', {
    type: 'block_actions',
    user: { id: user, team_id: 'T00FAKE00AA' },
    team: { id: 'T00FAKE00AA' },
    container: { type: 'message', message_ts: status.ts, channel_id: CHAN, thread_ts: ts },
    actions: [{ type: 'button', action_id: 'cir_stop', value }],
  });
  await until('the thread shows the stop', () => threadText(ts).includes('Stopped by'));
  await until('the model stream abandoned by the worker', () => c.llm.disconnects > disconnects);
  const row = (await c.sessions()).find((r) => r.question.includes('Q31'))!;
  await until('the session recorded as cancelled', async () => (await c.sessions()).find((r) => r.id === row.id)!.status === 'cancelled');
  assert.ok(c.gateway.output().includes('"msg":"stop sent to the workers"'));
});

test('questions waiting for a worker are told their place; Stop of one withdraws its job, and no worker ever runs it', async () => {
  // Both workers (one job each) busy with sessions that never end; the third question waits in Redis.
  const busy = ['Q51', 'Q52'].map((tag, i) => ({ tag, ts: newTs(), user: `U00FAKEBSY${i}` }));
  for (const b of busy) await c.slack.sendEnvelope('events_api', mention(`${b.tag} [hang] keep a worker busy`, { ts: b.ts, user: b.user }));
  await until('both workers busy', () => busy.every((b) => calls.some((x) => x.question.includes(b.tag))));
  const ts = newTs();
  const user = 'U00FAKEQUE1';
  await c.slack.sendEnvelope('events_api', mention('Q53 a question that has to wait', { ts, user }));
  const row = await until('the waiting session', async () => (await c.sessions()).find((r) => r.question.includes('Q53')));
  const ts2 = newTs();
  await c.slack.sendEnvelope('events_api', mention('Q54 another question that has to wait', { ts: ts2, user: 'U00FAKEQUE2' }));
  // Each asker is told their place among the jobs waiting for a worker (the queue in Redis).
  await until('the first waiting asker told', () => threadText(ts).includes('Queued: you are next'));
  await until('the second waiting asker told', () => threadText(ts2).includes('Queued: 1 ahead of you'));
  await c.slack.sendEnvelope('events_api', mention('stop', { ts: newTs(), thread_ts: ts, user }));
  await until('the thread told it was stopped', () => threadText(ts).includes('Stopped by'));
  assert.equal((await c.sessions()).find((r) => r.id === row.id)!.status, 'cancelled');
  // Free the workers: their sessions stop; the withdrawn one is still never taken.
  for (const b of busy) await c.slack.sendEnvelope('events_api', mention('stop', { ts: newTs(), thread_ts: b.ts, user: b.user }));
  await until('the busy sessions stopped', async () =>
    (await c.sessions()).filter((r) => busy.some((b) => r.question.includes(b.tag))).every((r) => r.status === 'cancelled'),
  );
  assert.deepEqual(c.ranOn(row.id), [], 'no worker took the withdrawn job');
  assert.equal(calls.filter((x) => x.question.includes('Q53')).length, 0, 'the model never saw it');
  // The one behind it runs once a worker is free.
  await until('the second waiting question answered', () => answersIn(ts2, 'Q54') === 1);
});

test('Discord: /research at the gateway is answered in its thread by a worker over REST', async () => {
  const fake = c.discord!;
  fake.slashCommand({ question: 'Q61 what is six times seven?' });
  const starter = await fake.waitFor(() => fake.channelMessages(fake.channelId).find((m) => m.webhook_id), 'the starter message');
  const threadId = await fake.waitFor(() => fake.threadFor(starter.id), 'the thread');
  await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.content.includes('Answer to Q61: forty-two')), 'the answer', 30_000);
  const row = await until('the session recorded done', async () =>
    (await c.sessions()).find((r) => r.question.includes('Q61') && r.status === 'done'),
  );
  assert.equal(c.ranOn(row.id).length, 1);
  assert.equal(botMessages(fake, threadId).filter((m) => m.content.includes('Answer to Q61')).length, 1);
});

test('a follow-up in a thread is answered with the thread\'s history, on whichever worker takes it', async () => {
  const ts = newTs();
  const user = 'U00FAKEFUP1';
  await c.slack.sendEnvelope('events_api', mention('Q41 first question', { ts, user }));
  await until('the first answer', () => answersIn(ts, 'Q41') > 0);
  await c.slack.sendEnvelope('events_api', mention('Q42 and a follow-up?', { ts: newTs(), thread_ts: ts, user }));
  await until('the follow-up answer', () => answersIn(ts, 'Q42') > 0);
  const rows = await until('both recorded done', async () => {
    const r = (await c.sessions()).filter((x) => x.thread_id === ts);
    return r.length === 2 && r.every((x) => x.status === 'done') ? r : undefined;
  });
  const followupPrompt = c.llm.prompts().find((p) => lastQuestion(p).includes('Q42'))!;
  assert.ok(followupPrompt.includes('Answer to Q41: forty-two'), 'the earlier answer is in the follow-up prompt');
  assert.equal(c.ranOn(rows[1].id).length, 1);
  // Nothing of the killed worker's session came back meanwhile.
  assert.equal(calls.filter((x) => x.question.includes('Q21')).length, 1);
});

test('SIGTERM on a worker mid-session: it drains (the session is answered once), then exits 0', async () => {
  const ts = newTs();
  await c.slack.sendEnvelope('events_api', mention('Q71 [slow] a question to finish while stopping', { ts, user: 'U00FAKETRM1' }));
  await until('the model request', () => calls.some((x) => x.question.includes('Q71')));
  const row = (await c.sessions()).find((r) => r.question.includes('Q71'))!;
  const [name] = c.ranOn(row.id);
  const w = c.workers.find((x) => x.name === name)!;
  w.child.kill('SIGTERM');
  assert.equal(await w.exit, 0, w.output().slice(-2000));
  assert.match(w.output(), /shutting down: no new work/);
  assert.match(w.output(), /stopped cleanly/);
  assert.equal(answersIn(ts, 'Q71'), 1, 'answered before the worker left');
  assert.equal((await c.sessions()).find((r) => r.id === row.id)!.status, 'done');
});
