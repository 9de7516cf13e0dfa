// deploy/compose.yaml cannot be run here (no Docker): it must at least parse, and say what the
// scale-out needs: a gateway, N workers, Redis, Postgres, SearXNG and a model server, wired together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  deploy?: { replicas?: number | string };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  profiles?: string[];
  image?: string;
  healthcheck?: unknown;
}

const compose = parse(readFileSync(new URL('../../deploy/compose.yaml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

test('compose: one gateway and CIR_WORKERS workers of the same image, each with its role', () => {
  const { gateway, worker } = compose.services;
  assert.deepEqual(gateway.command, ['node', 'src/main.ts', 'serve', '--role', 'gateway']);
  assert.deepEqual(worker.command, ['node', 'src/main.ts', 'serve', '--role', 'worker']);
  assert.equal(worker.deploy?.replicas, '${CIR_WORKERS:-2}');
  assert.equal(gateway.image, worker.image);
  // Replicas cannot share a host port: only the gateway publishes one (Slack HTTP events, /healthz).
  assert.ok(gateway.ports?.length);
  assert.equal(worker.ports, undefined);
  for (const s of [gateway, worker]) {
    assert.match(s.environment!.REDIS_URL, /redis:\/\/redis:6379/);
    assert.match(s.environment!.DATABASE_URL, /^\$\{DATABASE_URL:-postgres:\/\/cir:\$\{POSTGRES_PASSWORD:\?.*\}@postgres:5432\/cir\}$/);
    assert.equal(s.depends_on?.postgres.condition, 'service_healthy');
    assert.ok(s.healthcheck, 'each role answers /healthz');
  }
  // Only workers run sandboxed code: they alone need the namespace cut-off.
  assert.equal(worker.environment!.CIR_SANDBOX_NETWORK, '${CIR_SANDBOX_NETWORK:-netns}');
  assert.equal(gateway.environment!.CIR_SANDBOX_NETWORK, undefined);
  assert.ok(worker.depends_on?.searxng && worker.depends_on.vllm && worker.depends_on.sglang);
});

test('compose: Redis, Postgres (with a health check and a volume), SearXNG and the model servers', () => {
  const s = compose.services;
  for (const name of ['redis', 'postgres', 'searxng', 'vllm', 'sglang']) assert.ok(s[name], `${name} service`);
  assert.equal(s.postgres.environment!.POSTGRES_PASSWORD, '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}');
  assert.ok(s.postgres.healthcheck);
  assert.ok('postgres-data' in compose.volumes && 'redis-data' in compose.volumes);
  assert.deepEqual(s.vllm.profiles, ['vllm']);
  assert.deepEqual(s.sglang.profiles, ['sglang']);
  assert.equal(s.bot, undefined, 'the single-process service is gone (serve without --role is the plain-host path)');
});
