// Figures of the sessions benchmark drawn from the process tree at its peak: where the memory is.
import type { ProcInfo, TreePeak } from '../src/util/proc-tree.ts';

const MB = 2 ** 20;

/** Nearest-rank percentile (q in 0..1) of xs; NaN for none. */
export function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** An interpreter process: node running the sandbox's child entry (not the namespace wrapper around it). */
// The interpreter's entry: the TypeScript sources, or their JavaScript copy in the sandbox cache (child-build.ts).
export const isInterpreter = (p: ProcInfo): boolean => p.comm !== 'unshare' && /\/sandbox\/child\/|\/child-[0-9a-f]{16}\/main\.mjs/.test(p.cmdline);

function line(label: string, ps: ProcInfo[]): string {
  const pss = ps.reduce((a, p) => a + (p.pssBytes ?? 0), 0);
  const rss = ps.reduce((a, p) => a + p.rssBytes, 0);
  const unreadable = ps.filter((p) => p.pssBytes === null).length;
  const each = ps.length > 1 ? `, ${(pss / ps.length / MB).toFixed(1)} MB PSS each` : '';
  return `${label}: ${ps.length} process(es), PSS ${(pss / MB).toFixed(0)} MB, RSS ${(rss / MB).toFixed(0)} MB${each}${unreadable ? ` (${unreadable} PSS unreadable)` : ''}`;
}

/** Lines: the bot process itself, interpreter processes, wrappers, anything else. */
export function peakBreakdown(peak: TreePeak, root: number): string[] {
  const ps = peak.atPeakPss?.processes ?? [];
  const bot = ps.filter((p) => p.pid === root);
  const interp = ps.filter((p) => p.pid !== root && isInterpreter(p));
  const wrappers = ps.filter((p) => p.pid !== root && p.comm === 'unshare');
  const other = ps.filter((p) => !bot.includes(p) && !interp.includes(p) && !wrappers.includes(p));
  const out = [`${ps.length} processes in the tree`, line('bot process', bot), line('interpreter processes', interp), line('namespace wrappers', wrappers)];
  if (other.length) out.push(`${line('other', other)} [${[...new Set(other.map((p) => p.comm))].join(', ')}]`);
  return out;
}
