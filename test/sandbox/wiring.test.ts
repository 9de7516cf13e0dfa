// Configuration reaches the sandbox: the network mode decides the reported isolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/util/log.ts';
import { buildSandbox } from '../../src/wiring/sandbox.ts';

test('CIR_SANDBOX_* variables configure the sandbox', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cir-sandbox-wiring-'));
  const env = parseConfig({ CIR_SANDBOX_POOL_SIZE: '0', CIR_SANDBOX_NETWORK: 'off', CIR_SANDBOX_MEMORY_MB: '128', CIR_SANDBOX_MEMORY_BUDGET_MB: '700', CIR_SANDBOX_INTERPRETERS_PER_PROCESS: '4', CIR_DATA_DIR: dataDir });
  const sandbox = await buildSandbox(env, silentLogger);
  try {
    assert.deepEqual(sandbox.status(), {
      ready: 0,
      busy: 0,
      idle: 0,
      starting: 0,
      saved: 0,
      savedChars: 0,
      live: 0,
      maxLive: 8, // 700 MB of budget over 86 MB an interpreter at 4 to a process (at the default 8: 9)
      isolation: { network: 'none', reason: 'disabled by CIR_SANDBOX_NETWORK=off', fsPermission: true },
    });
  } finally {
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
