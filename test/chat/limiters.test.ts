// Session concurrency limits shared through Redis (bottleneck clustering, real Redis on
// 127.0.0.1:6379): two sets of limiters with their own connections stand for two processes; a
// separate process killed with SIGKILL must not keep its slot. Keys use a prefix of this run only
// and are deleted at the end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { localLimiters, redisLimiters, type SessionLimiters } from '../../src/chat/limiters.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = `cirtest-${process.pid}-${randomUUID().slice(0, 8)}`;
const opened: SessionLimiters[] = [];

after(async () => {
  for (const l of opened) await l.close();
  // Bottleneck names its keys b_<id>_...; every id of this run starts with RUN.
  const r = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `b_${RUN}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
});

async function cluster(prefix: string, limits: { maxConcurrent: number; userConcurrent: number }, clientTimeoutMs?: number) {
  const l = await redisLimiters(limits, { url: REDIS_URL, prefix: `${RUN}-${prefix}`, clientTimeoutMs });
  opened.push(l);
  return l;
}

/** Runs jobs (user keys) spread over the limiter sets; returns the most ever running at once, overall and per user. */
async function runAll(sets: SessionLimiters[], users: string[]): Promise<{ overall: number; perUser: number; done: number }> {
  let running = 0;
  let overall = 0;
  let perUser = 0;
  let done = 0;
  const byUser = new Map<string, number>();
  await Promise.all(
    users.map((u, i) =>
      sets[i % sets.length].schedule(u, async () => {
        running += 1;
        byUser.set(u, (byUser.get(u) ?? 0) + 1);
        overall = Math.max(overall, running);
        perUser = Math.max(perUser, byUser.get(u)!);
        // Held a little so overlapping starts would overlap; the check below is only an upper bound.
        await sleep(15);
        byUser.set(u, byUser.get(u)! - 1);
        running -= 1;
        done += 1;
      }),
    ),
  );
  return { overall, perUser, done };
}

test('the global limit holds across two processes sharing Redis', async () => {
  const limits = { maxConcurrent: 2, userConcurrent: 5 };
  const a = await cluster('global', limits);
  const b = await cluster('global', limits);
  const r = await runAll([a, b], ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8']);
  assert.equal(r.done, 8);
  assert.ok(r.overall <= 2, `at most 2 sessions at once across both, saw ${r.overall}`);
});

test('the per-user limit holds across two processes sharing Redis', async () => {
  const limits = { maxConcurrent: 8, userConcurrent: 1 };
  const a = await cluster('user', limits);
  const b = await cluster('user', limits);
  const r = await runAll([a, b], ['same', 'same', 'same', 'same', 'same', 'same']);
  assert.equal(r.done, 6);
  assert.equal(r.perUser, 1, 'one session per user at a time, whichever process runs it');
});

test('local limiters keep the same limits inside one process', async () => {
  const l = localLimiters({ maxConcurrent: 2, userConcurrent: 1 });
  const r = await runAll([l], ['a', 'b', 'a', 'c', 'b', 'd']);
  assert.equal(r.done, 6);
  assert.ok(r.overall <= 2);
  assert.equal(r.perUser, 1);
});

/** Waits for `job`, failing with `message` should it hang (20 s: a bound, not a timing). */
async function within(job: Promise<unknown>, message: string): Promise<void> {
  const bound = new AbortController();
  const guard = sleep(20_000, undefined, { signal: bound.signal }).then(
    () => assert.fail(message),
    () => {},
  );
  try {
    await Promise.race([job, guard]);
  } finally {
    bound.abort();
  }
}

/** A separate process holding one slot (user "holder" and global) of the `prefix` limiters until killed. */
async function startHolder(prefix: string, expirationMs: number) {
  const child = spawn(process.execPath, ['test/chat/fixtures/limiter-holder.ts', REDIS_URL, `${RUN}-${prefix}`, String(expirationMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('started')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
  });
  return child;
}

test('a process killed while holding a slot: the slot comes back by its expiration', async () => {
  const prefix = 'killed';
  const child = await startHolder(prefix, 800);
  try {
    const mine = await cluster(prefix, { maxConcurrent: 1, userConcurrent: 1 }, 1000);
    let ran = false;
    const job = mine.schedule('other', async () => {
      ran = true;
    });
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Event-driven: the job runs once the dead holder's slot expires; the bound only stops a hang.
    await within(job, 'slot never freed after SIGKILL');
    assert.equal(ran, true);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test("a process killed while holding a slot: reclaimDead frees it, for the same user too, long before its expiration", async () => {
  const prefix = 'reclaimed';
  // Its slots would expire only after 10 minutes: freeing them is reclaimDead's doing alone.
  const child = await startHolder(prefix, 600_000);
  try {
    const mine = await cluster(prefix, { maxConcurrent: 1, userConcurrent: 1 }, 1000);
    assert.equal(await mine.reclaimDead(['holder']), 0, 'a live holder keeps its slots');
    let ran = false;
    const job = mine.schedule('holder', async () => {
      ran = true;
    });
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Noticed at once, before the holder counts as dead: the second look, clientTimeout later, frees it.
    await mine.reclaimDead(['holder']);
    await within(job, 'slots of the dead holder never reclaimed');
    assert.equal(ran, true);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('local limiters have nothing to reclaim', async () => {
  assert.equal(await localLimiters({ maxConcurrent: 1, userConcurrent: 1 }).reclaimDead(['u']), 0);
});

test('an unreachable Redis fails the start within its bound, and the error does not show the URL credentials', async () => {
  // Port 1 on loopback: nothing listens, so every connection attempt is refused at once.
  await assert.rejects(
    redisLimiters({ maxConcurrent: 1, userConcurrent: 1 }, { url: 'redis://user:s3cret-pw@127.0.0.1:1', prefix: `${RUN}-down`, connectTimeoutMs: 300 }),
    (err: Error) => /could not reach Redis/.test(err.message) && !err.message.includes('s3cret-pw'),
  );
});
