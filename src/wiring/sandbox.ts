// Maps configuration to the sandbox's options. Only main.ts (and CLIs) call this.
import { resolve } from 'node:path';
import type { Env } from '../config.ts';
import type { Logger } from '../util/log.ts';
import { createSandbox, type Sandbox } from '../sandbox/index.ts';

export function buildSandbox(env: Env, logger: Logger): Promise<Sandbox> {
  return createSandbox({
    poolSize: env.CIR_SANDBOX_POOL_SIZE,
    memoryMb: env.CIR_SANDBOX_MEMORY_MB,
    network: env.CIR_SANDBOX_NETWORK,
    memoryBudgetMb: env.CIR_SANDBOX_MEMORY_BUDGET_MB,
    idleReleaseMs: env.CIR_SANDBOX_IDLE_RELEASE_MS,
    interpretersPerProcess: env.CIR_SANDBOX_INTERPRETERS_PER_PROCESS,
    cacheDir: resolve(env.CIR_DATA_DIR, 'sandbox-cache'),
    logger: logger.child({ component: 'sandbox' }),
  });
}
