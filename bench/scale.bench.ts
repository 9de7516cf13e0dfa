// `npm run bench -- scale`: one gateway and 1, 2, 4 workers (separate `serve --role` processes on
// the real Redis and Postgres) against the fake Slack and a fake model paced at BENCH_TURN_MS per
// turn. BENCH_SESSIONS mentions arrive at once, each from its own workspace (Slack paces renders
// per workspace; one shared workspace would measure Slack's pacing, not the workers). Reported:
// sessions admitted per second (first mention to the last session row written by the gateway),
// p95 time from a mention to the first progress message in its thread, how the sessions spread
// over the workers, and CPU time of the gateway and the workers beside the wall time.
//
//   npm run bench -- scale        (BENCH_SESSIONS=24, BENCH_TURN_MS=1000, CIR_WORKER_SESSIONS=4)
import { readFileSync } from 'node:fs';
import { mention, newTs } from '../test/slack/harness.ts';
import { startCluster, until } from '../test/scale/cluster.ts';
import type { Proc } from '../test/ops/serve-process.ts';
import { percentile } from './sessions-report.ts';

function intEnv(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/** User + system CPU seconds of a live process (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(p: Proc): number {
  try {
    const stat = readFileSync(`/proc/${p.child.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function round(workers: number, sessions: number, turnMs: number, perWorker: number) {
  const answer = 'Done.\n</think>\n\nThe answer is forty-two.';
  const c = await startCluster({
    script: () => ({ text: answer, durationMs: turnMs }),
    workers,
    // The Web API's rate tiers are not what is measured here.
    slack: { rateWindowMs: 1 },
    env: {
      CIR_WORKER_SESSIONS: String(perWorker),
      CIR_MAX_CONCURRENT: String(workers * perWorker),
      CIR_QUEUE_MAX: String(sessions * 2),
      CIR_LOG_LEVEL: 'info',
    },
  });
  try {
    const cpu0 = new Map(c.procs.map((p) => [p.name, cpuSeconds(p)]));
    const threads = Array.from({ length: sessions }, (_, i) => ({ ts: newTs(), team: `T0BENCH${String(i).padStart(4, '0')}` }));
    const t0 = Date.now();
    await Promise.all(
      threads.map((t, i) => {
        const body = mention(`question ${i}`, { ts: t.ts, user: `U0BENCH${i}` });
        body.team_id = t.team;
        return c.slack.sendEnvelope('events_api', body);
      }),
    );
    const rows = await until('every session recorded', async () => {
      const r = await c.db.query(`SELECT id, created_at FROM ${c.run}.sessions`);
      return r.rows.length >= sessions ? (r.rows as { id: string; created_at: string }[]) : undefined;
    }, 120_000);
    const admittedIn = Math.max(...rows.map((r) => Number(r.created_at))) - t0;
    await until('every answer', () => threads.every((t) => JSON.stringify(c.slack.thread('C00FAKECHAN1', t.ts)).includes('forty-two')), 300_000);
    const wall = Date.now() - t0;
    const firstProgress = threads.map((t) => {
      const first = c.slack.calls.filter((x) => x.args.thread_ts === t.ts && !x.failed).map((x) => x.at);
      return Math.min(...first) - t0;
    });
    const spread = c.workers.map((w) => rows.filter((r) => c.ranOn(r.id).includes(w.name)).length);
    const cpu = (p: Proc) => cpuSeconds(p) - (cpu0.get(p.name) ?? 0);
    return {
      workers,
      admittedPerSec: sessions / Math.max(admittedIn / 1000, 0.001),
      p95FirstProgressMs: percentile(firstProgress, 0.95),
      wallMs: wall,
      spread,
      gatewayCpu: cpu(c.gateway),
      workersCpu: c.workers.reduce((a, w) => a + cpu(w), 0),
    };
  } finally {
    await c.close();
  }
}

export default async function scaleBench(): Promise<void> {
  const sessions = intEnv('BENCH_SESSIONS', 24);
  const turnMs = intEnv('BENCH_TURN_MS', 1000);
  const perWorker = intEnv('CIR_WORKER_SESSIONS', 4);
  console.log(`${sessions} mentions at once, one model turn of ${turnMs} ms each, ${perWorker} sessions per worker\n`);
  console.log('| workers | admitted/s | p95 mention -> first progress | wall (all answered) | sessions per worker | CPU-s gateway / workers |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const n of [1, 2, 4]) {
    const r = await round(n, sessions, turnMs, perWorker);
    console.log(
      `| ${r.workers} | ${r.admittedPerSec.toFixed(1)} | ${(r.p95FirstProgressMs / 1000).toFixed(2)} s | ${(r.wallMs / 1000).toFixed(2)} s | ${r.spread.join(' / ')} | ${r.gatewayCpu.toFixed(2)} / ${r.workersCpu.toFixed(2)} |`,
    );
  }
}
