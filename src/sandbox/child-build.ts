// The interpreter process's own code as plain JavaScript. Run as TypeScript, every interpreter
// process (and its Python thread again) loads Node's type stripper first: measured ~0.2 CPU-s of
// a ~1.3 CPU-s start. Stripped once per version here, into the private cache directory, which
// the process may read (never write); the TypeScript sources stay the one copy to edit.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { childDir } from './launch.ts';

const SCRIPTS = ['main.ts', 'worker.ts', 'seal.ts', 'limits.ts'];
const COPIED = ['prelude.py', 'state.py', 'denied.cjs'];
/** Node's stripper warns that it is experimental; the warning is for people, not for this use. */
const quietly = <T>(f: () => T): T => {
  const emit = process.emitWarning;
  process.emitWarning = (() => undefined) as typeof process.emitWarning;
  try {
    return f();
  } finally {
    process.emitWarning = emit;
  }
};

/** `./x.ts` imports become `./x.mjs` (type-only imports are gone after stripping). */
const toJs = (source: string): string =>
  quietly(() => stripTypeScriptTypes(source)).replace(/(['"])(\.\.?\/[\w./-]+)\.ts\1/g, '$1$2.mjs$1');

/** Returns the directory holding main.mjs and what it reads, building it when missing. */
export function buildChild(cacheDir: string): string {
  const sources = [...SCRIPTS, ...COPIED].map((f) => [f, readFileSync(join(childDir, f), 'utf8')] as const);
  const key = createHash('sha256').update(process.version).update(JSON.stringify(sources)).digest('hex').slice(0, 16);
  const dir = join(cacheDir, `child-${key}`);
  if (existsSync(join(dir, 'main.mjs'))) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  for (const [f, text] of sources) {
    if (SCRIPTS.includes(f)) writeFileSync(join(tmp, f.replace(/\.ts$/, '.mjs')), toJs(text), { mode: 0o600 });
    else cpSync(join(childDir, f), join(tmp, f));
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'main.mjs'))) throw e; // else another process built it meanwhile
  }
  for (const name of readdirSync(cacheDir)) {
    if (/^child-[0-9a-f]{16}$/.test(name) && join(cacheDir, name) !== dir) rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
  return dir;
}
