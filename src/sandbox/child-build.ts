// The interpreter process's own code as plain JavaScript. Run as TypeScript, every interpreter
// process (and its Python thread again) loads Node's type stripper first: measured ~0.2 CPU-s of
// a ~1.3 CPU-s start. Stripped once per version here, into the private cache directory, which
// the process may read (never write); the TypeScript sources stay the one copy to edit.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { childDir } from './launch.ts';

/** Every TypeScript file of child/ is stripped; the rest is copied as it is. */
const SCRIPTS = readdirSync(childDir).filter((f) => f.endsWith('.ts'));
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

/** Other versions' directories are swept only once unused this long: two checkouts or a rolling
 *  upgrade on one machine share the cache directory, and a sweep of a directory still in use made
 *  the other version's interpreters fail to start (spawn ENOENT, its cwd gone). */
const STALE_MS = 7 * 24 * 3600_000;
/** How often a version in use marks its directory as used. */
const TOUCH_EVERY_MS = 3600_000;

export interface BuiltChild {
  /** The directory holding main.mjs and what it reads, rebuilt first should it have gone. */
  ensure(): string;
}

/** Strips this version's child code into the cache directory. The sources are read once, here: an
 *  in-place update of the checkout must not mix new child code with the running host. */
export function buildChild(cacheDir: string): BuiltChild {
  const sources = [...SCRIPTS, ...COPIED].map((f) => [f, readFileSync(join(childDir, f), 'utf8')] as const);
  const key = createHash('sha256').update(process.version).update(JSON.stringify(sources)).digest('hex').slice(0, 16);
  const dir = join(cacheDir, `child-${key}`);
  let touchedAt = 0;
  const write = () => {
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o700 });
    for (const [f, text] of sources) writeFileSync(join(tmp, f.replace(/\.ts$/, '.mjs')), SCRIPTS.includes(f) ? toJs(text) : text, { mode: 0o600 });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, 'main.mjs'))) throw e; // else another process built it meanwhile
    }
  };
  const ensure = (): string => {
    if (!existsSync(join(dir, 'main.mjs'))) write();
    const now = Date.now();
    if (now - touchedAt > TOUCH_EVERY_MS) {
      touchedAt = now;
      utimesSync(dir, now / 1000, now / 1000);
      sweep(cacheDir, dir, now);
    }
    return dir;
  };
  ensure();
  return { ensure };
}

function sweep(cacheDir: string, keep: string, now: number): void {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (!/^child-[0-9a-f]{16}$/.test(name) || path === keep) continue;
    try {
      if (now - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone meanwhile
    }
  }
}
