// Confidence interval for a proportion. Wilson's score interval stays inside [0, 1] and behaves
// at small n and at 0 % / 100 %, where the normal approximation does not.

export interface Interval {
  low: number;
  high: number;
}

/** 95 % (z = 1.96 by default) Wilson score interval for k successes out of n. */
export function wilson(k: number, n: number, z = 1.959964): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  if (k < 0 || k > n) throw new RangeError(`wilson: k=${k} is outside 0..${n}`);
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
