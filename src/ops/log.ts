// Structured logs (pino). Secrets are redacted by key wherever they appear in a log object.
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACT = [
  '*.token',
  '*.apiKey',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.secret',
  '*.signingSecret',
  '*.botToken',
  '*.appToken',
];

/** Logs go to stderr so that stdout stays free for command output (e.g. `ask --json`). */
export function createLogger(level: string = 'info', destination: number = 2): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(destination));
}

/** A logger that drops everything (tests, CLI commands that print their own output). */
export const silentLogger: Logger = pino({ level: 'silent' });
