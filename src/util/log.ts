// Structured logs (pino): JSON lines, or readable ones on a terminal. Secrets are redacted by key
// (top level and one level down) and, for the configured secret values, wherever they appear.
import { isatty } from 'node:tty';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { scrubText } from './scrub.ts';

export type { Logger };

const SECRET_KEYS = ['token', 'apiKey', 'authorization', 'Authorization', 'secret', 'signingSecret', 'botToken', 'appToken'];
/** At the top level of a log object and one level down (e.g. { headers: { authorization } }). */
const REDACT = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)];

/**
 * Logs go to stderr so that stdout stays free for command output (e.g. `ask --json`).
 * `secrets` are the configured secret values: they are cut out of every line, wherever they
 * appear (key redaction above only reaches known keys one level deep, and a library's error
 * object can nest a request's headers much deeper).
 */
export function createLogger(level: string = 'info', destination: number = 2, secrets: readonly string[] = []): Logger {
  const scrub = scrubber(secrets);
  // URL credentials (user:pass@ in a configured base URL), bearer tokens and credential header
  // values (a server's error body echoing the request) go from every line, known secrets or not.
  const streamWrite = (line: string): string => scrubText(scrub ? scrub(line) : line);
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, hooks: { streamWrite } },
    output(destination),
  );
}

/** JSON lines for machines (files, pipes, log collectors); readable lines on a terminal. */
function output(fd: number): DestinationStream {
  if (!isatty(fd)) return pino.destination(fd);
  return pretty({ destination: fd, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
}

/** Replaces each secret (as written raw or inside a JSON string) with [redacted]. Values too short
 *  to be real secrets (e.g. the placeholder key EMPTY) are left alone: they would garble logs. */
function scrubber(secrets: readonly string[]): ((line: string) => string) | null {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < 8) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  if (forms.size === 0) return null;
  const list = [...forms].sort((a, b) => b.length - a.length);
  return (line) => {
    for (const f of list) if (line.includes(f)) line = line.split(f).join('[redacted]');
    return line;
  };
}

/** A logger that drops everything (tests, CLI commands that print their own output). */
export const silentLogger: Logger = pino({ level: 'silent' });
