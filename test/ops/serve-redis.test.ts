// `serve` with REDIS_URL set takes its session limits from Redis (src/wiring/chat.ts): a Redis
// that cannot be reached stops the start at once with a clear message, never the URL's password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('serve: an unreachable REDIS_URL fails the start with exit 1, and the password never shows', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cir-serve-redis-'));
  try {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const child = spawn(process.execPath, ['src/main.ts', 'serve'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        CIR_DATA_DIR: dataDir,
        CIR_HTTP_PORT: '0',
        REDIS_URL: 'redis://bot:redis-s3cret-pw@127.0.0.1:1/0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 1, out);
    assert.match(out, /could not reach Redis \(REDIS_URL\)/);
    assert.ok(!out.includes('redis-s3cret-pw'), 'the password is not in the output');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('serve --role gateway|worker without REDIS_URL and DATABASE_URL: exit 2 naming what is missing; a bad role is a usage error', async () => {
  const run = async (args: string[], env: Record<string, string>) => {
    const child = spawn(process.execPath, ['src/main.ts', 'serve', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CIR_HTTP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, out };
  };
  const worker = await run(['--role', 'worker'], {});
  assert.equal(worker.code, 2, worker.out);
  assert.match(worker.out, /--role worker needs REDIS_URL \(redis:\/\/\.\.\.\) and DATABASE_URL \(postgres:\/\/\.\.\.\)/);
  const gateway = await run(['--role=gateway'], { REDIS_URL: 'redis://127.0.0.1:1' });
  assert.equal(gateway.code, 2, gateway.out);
  assert.match(gateway.out, /--role gateway needs DATABASE_URL/);
  assert.doesNotMatch(gateway.out, /needs REDIS_URL/);
  const bad = await run(['--role', 'both'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--role must be one of all, gateway, worker/);
});
