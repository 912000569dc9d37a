import { randomUUID } from 'node:crypto';

/** A new row id (32 hex digits). */
export const newId = (): string => randomUUID().replace(/-/g, '');

let lastMs = -1;
let sameMs = 0;

/**
 * ISO-8601 UTC with microseconds (sorts as text); `micro` adds that many microseconds within the
 * millisecond. Without a date, "now" — strictly later than the previous "now" of this process (a
 * microsecond step within one millisecond), so rows made one after another sort in that order.
 */
export function isoTime(d?: Date, micro = 0): string {
  if (d === undefined) {
    const ms = Date.now();
    if (ms > lastMs) { lastMs = ms; sameMs = 0; } else if (++sameMs === 1000) { lastMs += 1; sameMs = 0; }
    d = new Date(lastMs);
    micro = sameMs;
  }
  return d.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${String(micro % 1000).padStart(3, '0')}Z`);
}

/** How the API shows a timestamp: seconds precision with a `Z` (Glance's isotime). */
export const apiTime = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

/** Parses a JSON column, falling back when the text is not what it should be. */
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try { return JSON.parse(text) as T; } catch { return fallback; }
}
