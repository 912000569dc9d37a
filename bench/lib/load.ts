import { performance } from 'node:perf_hooks';

/** Parameters of a closed-loop load run. */
export interface LoadOptions {
  /** Number of request loops running at once. */
  concurrency: number;
  /** How long new requests are started for. */
  durationMs: number;
  /** One request; it rejects on failure. */
  request: () => Promise<void>;
  /** Upper bound on requests started, so a run always ends (default 10 million). */
  maxRequests?: number;
}

/** Throughput and latency (milliseconds) of the successful requests. */
export interface LoadResult {
  count: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** First error message seen, if any. */
  firstError?: string;
}

/** Nearest-rank percentile of ascending `sorted` (0 for an empty list). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Runs `concurrency` loops that each issue `request` back to back until `durationMs` has
 * passed, then waits for requests in flight. rps counts successes over the whole run time.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (!(opts.concurrency >= 1) || !(opts.durationMs > 0)) throw new Error('concurrency >= 1 and durationMs > 0 required');
  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  let firstError: string | undefined;
  const maxRequests = opts.maxRequests ?? 10_000_000;
  const t0 = performance.now();
  const deadline = t0 + opts.durationMs;

  const loop = async (): Promise<void> => {
    while (performance.now() < deadline && started < maxRequests) {
      started++;
      const s = performance.now();
      try {
        await opts.request();
        latencies.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    rps: elapsed > 0 ? latencies.length / elapsed : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : 0,
    firstError,
  };
}
