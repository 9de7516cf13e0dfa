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
  /** correct / graded, with a 95 % Wilson interval. */
  accuracy: number;
  ci95: Interval;
  notAttemptedRate: number;
  /** correct / (correct + incorrect). */
  accuracyGivenAttempted: number;
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
    accuracy: n ? correct / n : 0,
    ci95: wilson(correct, n),
    notAttemptedRate: n ? notAttempted / n : 0,
    accuracyGivenAttempted: correct + incorrect ? correct / (correct + incorrect) : 0,
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

const pct = (x: number) => `${(100 * x).toFixed(1)}`;

export function markdown(r: EvalReport): string {
  const card = r.modelCard === null ? 'n/a' : r.modelCard.toFixed(1);
  const lines = [
    `# ${r.dataset} (${r.benchmark})`,
    '',
    `Model \`${r.model}\`, judged by \`${r.judgeModel}\`; ${r.graded} of ${r.questions} questions graded.`,
    '',
    '| metric | this run | model card |',
    '|---|---:|---:|',
    `| accuracy (%) | **${pct(r.accuracy)}** (95% CI ${pct(r.ci95.low)}–${pct(r.ci95.high)}) | ${card} |`,
    `| correct / incorrect / not attempted | ${r.correct} / ${r.incorrect} / ${r.notAttempted} | |`,
    `| not attempted (%) | ${pct(r.notAttemptedRate)} | |`,
    `| accuracy when attempted (%) | ${pct(r.accuracyGivenAttempted)} | |`,
    `| steps per question | ${r.mean.steps.toFixed(1)} | |`,
    `| prompt / completion tokens per question | ${Math.round(r.mean.promptTokens)} / ${Math.round(r.mean.completionTokens)} | |`,
    `| seconds per question | ${r.mean.seconds.toFixed(1)} | |`,
  ];
  if (r.errors > 0)
    lines.push('', `${r.errors} question(s) have no grade (research or judge failed): run again with \`--resume\` to retry them.`);
  return lines.join('\n') + '\n';
}
