// What every command shares: loading the configuration (a bad one is a usage error, exit 2) and
// one convention for flags, so that `ask`, `search`, `visit`, `discord` and `eval` agree on them.
import { ConfigError, loadConfig, type Env } from '../config.ts';

/** Exit status for bad usage or bad configuration. */
export const EXIT_USAGE = 2;

/** The validated configuration, or null after printing the ConfigError to stderr (the caller
 *  then returns EXIT_USAGE). Any other error is a bug and propagates. */
export function configOrReport(command: string): Env | null {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${command}: ${err.message}\n`);
    return null;
  }
}

export interface FlagSpec {
  /** `--name`: true when present. */
  boolean?: readonly string[];
  /** `--name VALUE` or `--name=VALUE`. */
  string?: readonly string[];
  /** false: the command takes no positional arguments. */
  positionals?: false;
}

export type ParsedFlags =
  | { help: true }
  | { help: false; error: string }
  | { help: false; error?: undefined; flags: Record<string, string | boolean>; positionals: string[] };

/**
 * `-h`/`--help` asks for help; `--name` must be a known flag; `--` ends the flags. Everything else,
 * including a lone `-word` (a search operator, a negative number in a question), is a positional.
 */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') return { help: true };
    if (!a.startsWith('--') || a.length === 2) {
      if (spec.positionals === false) return { help: false, error: `unexpected argument '${a}'` };
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (spec.boolean?.includes(name)) {
      if (eq >= 0) return { help: false, error: `--${name} takes no value` };
      flags[name] = true;
    } else if (spec.string?.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) return { help: false, error: `--${name} needs a value` };
      flags[name] = value;
    } else return { help: false, error: `unknown option --${name}` };
  }
  return { help: false, flags, positionals };
}

/** parseFlags for a command: prints USAGE for help (exit 0) or the error and USAGE (exit 2) and
 *  returns that status; otherwise the parsed flags and positionals. */
export function commandLine(
  command: string,
  usage: string,
  argv: readonly string[],
  spec: FlagSpec,
): number | { flags: Record<string, string | boolean>; positionals: string[] } {
  const args = parseFlags(argv, spec);
  if (args.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (args.error !== undefined) {
    process.stderr.write(`${command}: ${args.error}\n${usage}`);
    return EXIT_USAGE;
  }
  return args;
}
