// Memory snapshots of a started interpreter (prelude imported) cut a start from ~1.5 s to ~0.25 s.
// A snapshot only works with the Node and pyodide versions that made it, so its file name carries
// a hash of both and of the prelude. It is made by a child process (which runs only our code) and
// written here by the host; interpreter processes can read it, never write it.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../util/log.ts';
import { spawnChild, tailStderr } from './host.ts';
import { preludePath, statePath, type Launch } from './launch.ts';

export function defaultCacheDir(): string {
  return join(tmpdir(), `cir-bot-sandbox-${process.getuid?.() ?? 'user'}`);
}

/** A private directory: created 0700, refused when someone else owns it or can write to it. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to another user`);
  if (st.mode & 0o022) throw new Error(`${dir} is writable by others`);
}

export function snapshotPathFor(cacheDir: string, indexURL: string): string {
  const pyodideVersion = (JSON.parse(readFileSync(join(indexURL, 'package.json'), 'utf8')) as { version: string }).version;
  const key = createHash('sha256')
    .update([process.version, process.arch, pyodideVersion, readFileSync(preludePath, 'utf8'), readFileSync(statePath, 'utf8')].join('\0'))
    .digest('hex')
    .slice(0, 20);
  return join(cacheDir, `pyodide-${pyodideVersion}-node-${process.version}-${key}.snapshot`);
}

export interface SnapshotOptions {
  cacheDir: string;
  launch: Launch;
  indexURL: string;
  memoryMb: number;
  logger: Logger;
  timeoutMs?: number;
  /** Aborting stops a build in progress (the sandbox is closing). */
  signal?: AbortSignal;
}

/** Returns the snapshot's path, building it first when missing; null when that is impossible. */
export async function ensureSnapshot(opts: SnapshotOptions): Promise<string | null> {
  try {
    privateDir(opts.cacheDir);
    const path = snapshotPathFor(opts.cacheDir, opts.indexURL);
    if (existsSync(path)) {
      removeStale(opts.cacheDir, path);
      return path;
    }
    await underBuildLock(path, opts.signal, async () => {
      const started = performance.now();
      const bytes = await buildSnapshot(opts);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, path);
      opts.logger.info({ path, bytes: bytes.length, ms: Math.round(performance.now() - started) }, 'sandbox snapshot built');
    });
    removeStale(opts.cacheDir, path);
    return existsSync(path) ? path : null;
  } catch (e) {
    if (opts.signal?.aborted) return null;
    opts.logger.warn({ err: e }, 'sandbox snapshot unavailable; interpreters start cold (~1.5 s each)');
    return null;
  }
}

/** Several processes starting at once (test files, bot replicas) build one snapshot, not one each:
 *  whoever creates the lock file builds; the others wait for the snapshot to appear. */
async function underBuildLock(path: string, signal: AbortSignal | undefined, build: () => Promise<void>): Promise<void> {
  const lock = `${path}.lock`;
  for (;;) {
    if (existsSync(path)) return;
    signal?.throwIfAborted();
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    try {
      // A lock older than any build is left over from a process that died while building.
      if (Date.now() - statSync(lock).mtimeMs > 180_000) unlinkSync(lock);
    } catch {
      // released meanwhile
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    if (!existsSync(path)) await build();
  } finally {
    discardSnapshot(lock);
  }
}

/** Snapshots of other Node or pyodide versions (or an older prelude) are dead weight (~30 MB each). */
function removeStale(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (p !== keep && /^pyodide-.*\.snapshot$/.test(name)) discardSnapshot(p);
  }
}

export function discardSnapshot(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function buildSnapshot(opts: SnapshotOptions): Promise<Uint8Array> {
  const child = spawnChild(opts.launch, {
    mode: 'build-snapshot',
    indexURL: opts.indexURL,
    snapshotPath: null,
    memoryMb: Math.max(opts.memoryMb, 256),
  });
  const stderr = tailStderr(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('timed out')), opts.timeoutMs ?? 120_000);
    let done = false;
    const finish = (err: Error | null, bytes?: Uint8Array) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.removeAllListeners('message');
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
      if (err) reject(new Error(`building the snapshot failed: ${err.message}${stderr() ? `\n${stderr()}` : ''}`));
      else resolve(bytes!);
    };
    child.on('message', (m: unknown) => {
      const msg = m as { t?: unknown; bytes?: unknown; message?: unknown };
      if (msg?.t === 'fatal') finish(new Error(String(msg.message)));
      if (msg?.t !== 'snapshot') return;
      const bytes = msg.bytes;
      if (!(bytes instanceof Uint8Array) || bytes.length < 1 << 20) finish(new Error('malformed snapshot'));
      else finish(null, bytes);
    });
    child.on('exit', (code, signal) => finish(new Error(`process exited (${signal ?? code})`)));
    child.on('error', (e) => finish(e));
    const onAbort = () => finish(new Error('the sandbox is closing'));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
