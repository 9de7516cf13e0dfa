// How an interpreter process is started: Node 24 (this very binary) under the permission model,
// with an environment holding one malloc setting, and - where the host allows it - inside fresh
// user, network and pid namespaces (`unshare -rnpf`), so that no socket reaches anything and no
// host process can be signalled. Node's permission model has no network control; the namespace is the network cut-off.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildInit } from './protocol.ts';
import type { SandboxStatus } from './types.ts';

export type NetworkMode = 'auto' | 'netns' | 'off';
export type Isolation = SandboxStatus['isolation'];

export interface Launch {
  isolation: Isolation;
  /** Prepended to the node command line (the namespace wrapper), possibly empty. */
  prefix: string[];
  /** The child's code stripped to JavaScript (child-build.ts); absent: run the TypeScript sources. */
  builtChildDir?: string;
}

export const childDir = join(dirname(fileURLToPath(import.meta.url)), 'child');
export const childMain = join(childDir, 'main.ts');
export const preludePath = join(childDir, 'prelude.py');
export const statePath = join(childDir, 'state.py');
/** pyodide's package directory, with a trailing slash (what loadPyodide calls indexURL). */
export const pyodideDir = dirname(fileURLToPath(import.meta.resolve('pyodide'))) + '/';

const UNSHARE_ARGS = ['--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child'];

function findExecutable(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/bin', '/usr/sbin', '/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Probe: inside the namespaces, the process must see no network interface with an address but loopback. */
function probe(unshare: string): Promise<string | null> {
  const script = "const n=Object.keys(require('os').networkInterfaces()).filter(i=>i!=='lo');process.exit(n.length?3:0)";
  return new Promise((resolve) => {
    execFile(unshare, [...UNSHARE_ARGS, process.execPath, '-e', script], { env: {}, timeout: 10_000 }, (err, _out, stderr) => {
      if (!err) resolve(null);
      else resolve((stderr.trim() || err.message).split('\n')[0]!.slice(0, 300));
    });
  });
}

/** Decides how interpreters are isolated. 'netns' throws when the cut-off is unavailable.
 *  `unshare` is the wrapper's path (found on PATH by default; tests pass a missing one). */
export async function detectLaunch(mode: NetworkMode, unshare = findExecutable('unshare')): Promise<Launch> {
  if (mode === 'off') {
    return { prefix: [], isolation: { network: 'none', reason: 'disabled by CIR_SANDBOX_NETWORK=off', fsPermission: true } };
  }
  const failure = unshare ? await probe(unshare) : 'unshare(1) not found';
  if (failure === null) return { prefix: [unshare!, ...UNSHARE_ARGS], isolation: { network: 'netns', fsPermission: true } };
  const reason = `network namespace unavailable: ${failure}`;
  if (mode === 'netns') throw new Error(`CIR_SANDBOX_NETWORK=netns but ${reason}`);
  return { prefix: [], isolation: { network: 'none', reason, fsPermission: true } };
}

/** The full command line of one interpreter process. `entry` replaces the script and its
 *  argument (tests run probes with exactly the interpreter's restrictions). */
export function childCommand(launch: Launch, init: ChildInit, entry?: string[]): { command: string; args: string[] } {
  const built = launch.builtChildDir;
  entry ??= [built ? join(built, 'main.mjs') : childMain, JSON.stringify(init)];
  const node = [
    process.execPath,
    '--permission',
    `--allow-fs-read=${init.indexURL}`,
    `--allow-fs-read=${childDir}/`,
    ...(built ? [`--allow-fs-read=${built}/`] : []),
    ...(init.snapshotPath ? [`--allow-fs-read=${init.snapshotPath}`] : []),
    '--allow-worker', // the Python threads; workers inherit every restriction
    // Node warns of --allow-worker at every thread's start (PERM0006): with several interpreters
    // to a process those lines filled the stderr tail kept for a crash's diagnostics.
    '--disable-warning=PERM0006',
    '--disallow-code-generation-from-strings',
    '--max-old-space-size=128',
    // Young generations of 1 MB instead of V8's default (~8 MB held per isolate, measured):
    // -10 MB RSS per idle process; blocks and bridge calls keep their speed.
    '--max-semi-space-size=1',
    ...entry,
  ];
  const all = [...launch.prefix, ...node];
  return { command: all[0]!, args: all.slice(1) };
}
