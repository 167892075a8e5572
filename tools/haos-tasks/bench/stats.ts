/** The q-quantile of samples (nearest rank): percentile(s, 0.5) is the median, 0.95 the p95. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** Runs `fn` `runs` times in a row: the median wall time, every sample, and the last value. */
export async function timed<T>(
  fn: () => Promise<T>,
  runs = 3,
): Promise<{ ms: number; samples: number[]; value: T }> {
  const samples: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    value = await fn();
    samples.push(performance.now() - start);
  }
  return { ms: percentile(samples, 0.5), samples, value: value as T };
}
