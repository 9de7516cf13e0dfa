// One gateway and N workers as separate `serve --role ...` processes against the local fakes (Slack
// over Socket Mode, the model, SearXNG) and the real Redis and Postgres on 127.0.0.1, under a key
// prefix and a schema of their own, removed by close(). Shared by the scale test and the benchmark.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startFakeLlm, type FakeLlmOptions, type Script } from '../fakes/llm.ts';
import { startFakeSearch } from '../fakes/search.ts';
import { startFakeSlack, type FakeSlackOptions } from '../fakes/slack.ts';
import { startFakeDiscord } from '../fakes/discord.ts';
import { defaultCacheDir, privateDir } from '../../src/sandbox/snapshot.ts';
import { spawnServe, type Proc } from '../ops/serve-process.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';


export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ClusterOptions {
  script: Script;
  llm?: FakeLlmOptions;
  workers: number;
  /** Extra settings for every process. */
  env?: Record<string, string>;
  slack?: FakeSlackOptions;
  /** Also the fake Discord (the gateway holds its connection; workers write over REST). */
  discord?: boolean;
}

export async function startCluster(o: ClusterOptions) {
  const run = `cir_scale_${process.pid}_${randomUUID().slice(0, 8)}`;
  const llm = await startFakeLlm(o.script, o.llm);
  const search = await startFakeSearch();
  const slack = await startFakeSlack(o.slack);
  const discord = o.discord ? await startFakeDiscord() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cir-scale-'));
  // The sandbox cache every sandbox test shares: a fresh one would make each worker build its own
  // snapshot (seconds of CPU each) before taking a job.
  privateDir(defaultCacheDir());
  symlinkSync(defaultCacheDir(), join(dataDir, 'sandbox-cache'));
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_APP_TOKEN: slack.appToken,
    SLACK_API_URL: slack.apiUrl,
    CIR_LLM_BASE_URL: llm.baseUrl,
    CIR_SEARXNG_URL: search.searxngUrl,
    CIR_DATA_DIR: dataDir,
    CIR_HTTP_HOST: '127.0.0.1',
    CIR_HTTP_PORT: '0',
    CIR_SANDBOX_POOL_SIZE: '0',
    // The scripted model writes no code: one interpreter at most per worker (started for each
    // session as it opens) keeps the workers' CPU for what is tested.
    CIR_SANDBOX_MEMORY_BUDGET_MB: '128',
    CIR_LOG_LEVEL: 'debug',
    REDIS_URL,
    DATABASE_URL: PG_URL,
    CIR_DATABASE_SCHEMA: run,
    CIR_REDIS_PREFIX: run,
    ...(discord ? { DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl } : {}),
    ...o.env,
  };
  const procs: Proc[] = [];
  const start = async (name: string, role: 'gateway' | 'worker', extra: Record<string, string> = {}) => {
    const p = spawnServe(name, ['--role', role], { ...env, ...extra });
    procs.push(p);
    if ((await p.port) < 0) throw new Error(`${name} did not start:\n${p.output()}`);
    if (role === 'worker') await until(`${name} taking jobs`, () => p.output().includes('worker taking research jobs'));
    return p;
  };
  // The gateway first: it creates the schema; workers then find it migrated.
  const gateway = await start('gateway', 'gateway');
  await until('the gateway connected to Slack', () => slack.socketConnected());
  if (discord) await until('the gateway connected to Discord', () => gateway.output().includes('discord connected'));
  const workers = await Promise.all(Array.from({ length: o.workers }, (_, i) => start(`worker${i + 1}`, 'worker')));

  return {
    run,
    env,
    llm,
    slack,
    discord,
    db,
    gateway,
    workers,
    startWorker: (name: string, extra?: Record<string, string>) => start(name, 'worker', extra),
    /** Rows of the sessions table of this run. */
    async sessions(): Promise<{ id: string; question: string; status: string; user_id: string; thread_id: string }[]> {
      const r = await db.query(`SELECT id, question, status, user_id, thread_id FROM ${run}.sessions ORDER BY seq`);
      return r.rows;
    },
    procs,
    /** Which worker logged taking the job of `sessionId`. */
    ranOn(sessionId: string): string[] {
      return procs.filter((p) => p.output().split('\n').some((l) => l.includes('"msg":"research job taken"') && l.includes(sessionId))).map((p) => p.name);
    },
    async close() {
      await Promise.all(
        procs.map(async (p) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return;
          p.child.kill('SIGTERM');
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
          await p.exit;
          clearTimeout(timer);
        }),
      );
      await db.query(`DROP SCHEMA IF EXISTS ${run} CASCADE`).catch(() => {});
      await db.end();
      const r = new Redis(REDIS_URL);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${run}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await r.del(...keys);
        } while (cursor !== '0');
        // bottleneck's own keys carry the limiter id after its prefix.
        cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `b_${run}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await r.del(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
      await Promise.all([llm.close(), search.close(), slack.close(), discord?.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
