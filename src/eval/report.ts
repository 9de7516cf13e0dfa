// Summary of an evaluation run: JSON for machines, a Markdown table for people, next to the
// figures published on the model card.
import type { Benchmark } from './datasets.ts';
import type { EvalResult } from './runner.ts';
import { mean, wilson, type Interval } from './stats.ts';

/** II-Search-CIR-4B model card, accuracy in %. */
export const MODEL_CARD: Record<Exclude<Benchmark, 'other'>, number> = {
  simpleqa: 91.8,
  frames: 72.2,
  'seal-0': 26.4,
};

export interface EvalReport {
  dataset: string;
  benchmark: Benchmark;
  model: string;
  judgeModel: string;
  questions: number;
  graded: number;
  correct: number;
  incorrect: number;
  notAttempted: number;
  /** Questions without a grade (research or judge failed); rerun with --resume to retry them. */
  errors: number;
  /** correct / graded, with a 95 % Wilson interval; null when nothing was graded (not 0: unknown). */
  accuracy: number | null;
  ci95: Interval | null;
  notAttemptedRate: number | null;
  /** correct / (correct + incorrect); null when nothing was attempted. */
  accuracyGivenAttempted: number | null;
  modelCard: number | null;
  mean: { steps: number; promptTokens: number; completionTokens: number; seconds: number };
  generatedAt: string;
}

export function summarize(
  results: EvalResult[],
  meta: { dataset: string; benchmark: Benchmark; model: string; judgeModel: string; questions: number },
): EvalReport {
  const graded = results.filter((r) => r.grade !== null);
  const count = (g: string) => graded.filter((r) => r.grade === g).length;
  const correct = count('CORRECT');
  const incorrect = count('INCORRECT');
  const notAttempted = count('NOT_ATTEMPTED');
  const n = graded.length;
  return {
    ...meta,
    graded: n,
    correct,
    incorrect,
    notAttempted,
    errors: meta.questions - n,
    accuracy: n ? correct / n : null,
    ci95: n ? wilson(correct, n) : null,
    notAttemptedRate: n ? notAttempted / n : null,
    accuracyGivenAttempted: correct + incorrect ? correct / (correct + incorrect) : null,
    modelCard: meta.benchmark === 'other' ? null : MODEL_CARD[meta.benchmark],
    mean: {
      steps: mean(graded.map((r) => r.steps)),
      promptTokens: mean(graded.map((r) => r.promptTokens)),
      completionTokens: mean(graded.map((r) => r.completionTokens)),
      seconds: mean(graded.map((r) => r.durationMs / 1000)),
    },
    generatedAt: new Date().toISOString(),
  };
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}`);
const fixed = (x: number, graded: number) => (graded > 0 && Number.isFinite(x) ? x.toFixed(1) : 'n/a');

export function markdown(r: EvalReport): string {
  const card = r.modelCard === null ? 'n/a' : r.modelCard.toFixed(1);
  const lines = [
    `# ${r.dataset} (${r.benchmark})`,
    '',
    `Model \`${r.model}\`, judged by \`${r.judgeModel}\`; ${r.graded} of ${r.questions} questions graded.`,
    '',
    '| metric | this run | model card |',
    '|---|---:|---:|',
    `| accuracy (%) | ${r.ci95 ? `**${pct(r.accuracy)}** (95% CI ${pct(r.ci95.low)}–${pct(r.ci95.high)})` : 'n/a (nothing graded)'} | ${card} |`,
    `| correct / incorrect / not attempted | ${r.correct} / ${r.incorrect} / ${r.notAttempted} | |`,
    `| not attempted (%) | ${pct(r.notAttemptedRate)} | |`,
    `| accuracy when attempted (%) | ${pct(r.accuracyGivenAttempted)} | |`,
    `| steps per question | ${fixed(r.mean.steps, r.graded)} | |`,
    `| prompt / completion tokens per question | ${r.graded ? `${Math.round(r.mean.promptTokens)} / ${Math.round(r.mean.completionTokens)}` : 'n/a'} | |`,
    `| seconds per question | ${fixed(r.mean.seconds, r.graded)} | |`,
  ];
  if (r.errors > 0)
    lines.push('', `${r.errors} question(s) have no grade (research or judge failed): run again with \`--resume\` to retry them.`);
  return lines.join('\n') + '\n';
}
