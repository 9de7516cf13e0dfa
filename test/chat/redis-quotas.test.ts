// The gateways' quotas in Redis (src/chat/distributed/quotas.ts), on the real Redis: two clients
// (two gateways) racing for one user's quota take exactly the limit between them; the refusal
// names when the next question frees up, the workspace quota holds too, and a withdrawn use comes back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisQuotas } from '../../src/chat/distributed/quotas.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `cir_test_quota_${process.pid}_${randomUUID().slice(0, 8)}`;
const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
const limits = { userQuota: 3, workspaceQuota: 5, quotaWindowMs: 60_000 };
const [a, b] = clients.map((r) => new RedisQuotas(r, PREFIX, limits));

after(async () => {
  const keys = await clients[0].keys(`${PREFIX}*`);
  if (keys.length) await clients[0].del(...keys);
  for (const c of clients) c.disconnect();
});

const who = (userId: string, workspaceId = 'T1') => ({ platform: 'slack' as const, workspaceId, userId });

test('two gateways racing: exactly the user quota is taken; the refusal says when it frees; a release gives one back', async () => {
  const now = 1_000_000;
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).take(who('U1'), now + i, `s${i}`)));
  const taken = results.filter((r) => r === null).length;
  assert.equal(taken, 3);
  const refused = results.find((r) => r !== null)!;
  assert.match(refused.message, /3/);
  assert.ok(refused.retryAt >= now + 60_000 && refused.retryAt <= now + 60_000 + 7, String(refused.retryAt));
  // Another user of the same workspace still may ask, up to the workspace's 5.
  assert.equal(await a.take(who('U2'), now + 10, 'u2a'), null);
  assert.equal(await b.take(who('U2'), now + 11, 'u2b'), null);
  const ws = await a.take(who('U3'), now + 12, 'u3a');
  assert.ok(ws, 'the workspace quota is full');
  assert.notEqual(ws.message, refused.message);
  // A request withdrawn before it started gives its use back.
  const firstTaken = results.findIndex((r) => r === null);
  await b.release(who('U1'), `s${firstTaken}`);
  assert.equal(await a.take(who('U1'), now + 20, 'again'), null);
  // A window later, everything has freed up.
  assert.equal(await b.take(who('U1'), now + 60_100, 'later'), null);
});
