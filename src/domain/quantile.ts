/**
 * The value at quantile `q` (0..1) of an ascending array: the nearest-rank definition (the smallest
 * value with at least `q` of the sample at or below it). NaN for an empty array. Benchmarks and
 * `guest-relay load` report medians and tails with it, never means.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}
