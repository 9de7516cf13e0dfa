// Quote-backed citations on the labelled set (test/fixtures/claims): precision and recall of
// `supported` for our checker, against a baseline run in the same process — plain word overlap
// (the same sentences, the same 0.6 share of content words, without the number, name, quote and
// negation rules) — so the figures say what the rules add. Time is CPU and wall per answer.
import { splitClaims } from '../src/engine/claims.ts';
import { contentWords, passagesOf } from '../src/engine/evidence.ts';
import { loadCases, runCase, scoreSet, type SetName } from '../test/engine/claims-set.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '..', 'test', 'fixtures', 'claims');

function overlapBaseline(set: SetName): { precision: number; recall: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const c of loadCases(set)) {
    const spans = splitClaims(c.answer);
    spans.forEach((span, i) => {
      const words = contentWords(span.text);
      const said = span.citations.some((n) => {
        const s = c.sources[String(n)];
        if (!s) return false;
        const text = 'page' in s ? readFileSync(join(DIR, s.page), 'utf8') : s.snippet;
        return passagesOf(text).some((p) => words.size > 0 && [...words].filter((w) => p.words.has(w)).length / words.size >= 0.6);
      });
      const truth = c.claims[i] === 'supported';
      if (said && truth) tp++;
      else if (said) fp++;
      else if (truth) fn++;
    });
  }
  return { precision: tp / (tp + fp), recall: tp / (tp + fn) };
}

function timed(fn: () => void, rounds: number): { wallMs: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  const cpu = process.cpuUsage(c0);
  return { wallMs: (performance.now() - t0) / rounds, cpuMs: (cpu.user + cpu.system) / 1000 / rounds };
}

export default async function (): Promise<void> {
  for (const set of ['labelled', 'heldout'] as const) {
    const cases = loadCases(set);
    const ours = scoreSet(cases);
    const base = overlapBaseline(set);
    const claims = cases.reduce((n, c) => n + c.claims.length, 0);
    console.log(`${set === 'labelled' ? 'tuning set' : 'held-out set (never tuned on)'}: ${cases.length} answers, ${claims} claims (test/fixtures/claims/${set}.json)`);
    console.log(`  ours:          precision ${ours.precision.toFixed(3)}  recall ${ours.recall.toFixed(3)}`);
    console.log(`  word overlap:  precision ${base.precision.toFixed(3)}  recall ${base.recall.toFixed(3)} (baseline: same split, no number/name/quote/negation rules)`);
    console.log(`  by kind: ${Object.entries(ours.byKind).map(([k, v]) => `${k} ${v.supported}/${v.n}`).join(', ')} judged supported`);
  }
  const cases = [...loadCases('labelled'), ...loadCases('heldout')];
  const t = timed(() => cases.forEach(runCase), 20);
  console.log(`time per answer: ${(t.wallMs / cases.length).toFixed(2)} ms wall, ${(t.cpuMs / cases.length).toFixed(2)} ms CPU (evidence indexed per answer)`);
}
