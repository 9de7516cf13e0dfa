// `cir-bot doctor [--json]`: checks every part the configuration uses and says, for each that
// fails, the one-line fix naming the variable. Exit 0 when everything configured works, 1
// otherwise (a configuration that does not validate included). --json: one object per check.
import { ConfigError, loadConfig, secretValues } from '../config.ts';
import { checksFor, describe, type CheckOutcome } from '../doctor/checks.ts';
import { createLogger } from '../util/log.ts';
import { commandLine } from './common.ts';

const USAGE = 'usage: npm run -s cir-bot -- doctor [--json]\n';

export default async function doctor(argv: string[]): Promise<number> {
  const args = commandLine('doctor', USAGE, argv, { boolean: ['json'] });
  if (typeof args === 'number') return args;
  const json = args.flags.json === true;
  const print = (o: CheckOutcome) => process.stdout.write(json ? `${JSON.stringify(o)}\n` : `${describe(o)}\n`);
  let env;
  try {
    env = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) print({ check: 'configuration', ok: false, detail: p, fix: `correct ${p.split('=')[0].split(':')[0]}` });
    return 1;
  }
  const logger = createLogger('silent', 2, secretValues(env));
  let failed = 0;
  // One at a time, in order: a person reads them top to bottom, and the sandbox check is heavy.
  for (const check of checksFor(env)) {
    const o = await check(env, logger);
    if (!o.ok) failed++;
    print(o);
  }
  if (!json) process.stdout.write(failed ? `\n${failed} check${failed === 1 ? '' : 's'} failed.\n` : '\nEverything configured works.\n');
  return failed ? 1 : 0;
}
