import { readFileSync } from 'node:fs';
import { extractReadable } from '/work/main/src/tools/extract/index.ts';
import { loadPages, score, words } from '/work/main/test/tools/metric.ts';
const name = process.argv[2];
const p = loadPages().find((x) => x.name === name)!;
const r = extractReadable(p.source);
console.log(score(r.text, p.expectedText));
if (process.argv[3] === 'text') console.log(r.text.slice(0, 3000));
if (process.argv[3] === 'missing') {
  const got = new Map<string, number>();
  for (const w of words(r.text)) got.set(w, (got.get(w) ?? 0) + 1);
  const miss: string[] = [];
  for (const w of words(p.expectedText)) { const c = got.get(w); if (c) got.set(w, c - 1); else miss.push(w); }
  console.log(miss.slice(0, 200).join(' '));
}
if (process.argv[3] === 'extra') {
  const exp = new Map<string, number>();
  for (const w of words(p.expectedText)) exp.set(w, (exp.get(w) ?? 0) + 1);
  const extra: string[] = [];
  for (const w of words(r.text)) { const c = exp.get(w); if (c) exp.set(w, c - 1); else extra.push(w); }
  console.log(extra.slice(0, 200).join(' '));
}
