import { existsSync, readFileSync } from 'node:fs';

/** Minimum passed counts per service and mode, as kept in baseline.json. */
export type Baseline = Record<string, { full?: number; subset?: number }>;

/** Reads baseline.json; a missing file means no minimum. */
export function readBaseline(file: string): Baseline {
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Baseline;
}

/** The minimum passed count for a service in a mode (0 when none is recorded). */
export function baselineFor(baseline: Baseline, service: string, mode: 'full' | 'subset'): number {
  return baseline[service]?.[mode] ?? 0;
}
