/**
 * NoValidHost: the scheduler found nowhere to put an instance. Its message says why — which
 * filter removed how many hosts and for what reason, or what placement could not find — never
 * the bare "No valid host was found." The conductor records it as the instance's fault; APIs
 * that schedule synchronously (resize, migrate, unshelve) render it as a 400, as Nova does.
 */
import { Fault } from '../../platform/http/faults.js';

/** How many hosts one step removed, and why (distinct reasons with their counts). */
export interface Removal {
  /** A filter's name (ComputeFilter, …), `placement`, or `claim` (placement refused the claim). */
  readonly by: string;
  readonly count: number;
  readonly reasons: ReadonlyMap<string, number>;
}

export class NoValidHost extends Fault {
  constructor(
    /** What follows "No valid host was found. " */
    readonly reason: string,
    /** Which step removed which hosts, when filters were involved. */
    readonly removals: readonly Removal[] = [],
  ) {
    super(400, `No valid host was found. ${reason}`, {}, 'NoValidHost');
    this.name = 'NoValidHost';
  }
}

/** Whether `err` is a NoValidHost. */
export const isNoValidHost = (err: unknown): err is NoValidHost => err instanceof NoValidHost;

const MAX_REASONS = 3;

/** `ComputeFilter removed 2 (service disabled: maintenance ×1; service down: …)`. */
export function describeRemoval(r: Removal): string {
  const sorted = [...r.reasons].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = sorted.slice(0, MAX_REASONS).map(([why, n]) => (sorted.length > 1 && n > 1 ? `${why} ×${n}` : why));
  if (sorted.length > MAX_REASONS) shown.push(`${sorted.length - MAX_REASONS} more reasons`);
  return `${r.by} removed ${r.count} (${shown.join('; ')})`;
}

/** `3 hosts: AvailabilityZoneFilter removed 2 (not in zone az1), ComputeFilter removed 1 (…)`. */
export function describeRemovals(total: number, removals: readonly Removal[]): string {
  const parts = removals.filter((r) => r.count > 0).map(describeRemoval);
  return `${total} host${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
