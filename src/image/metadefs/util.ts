import { randomUUID } from 'node:crypto';

/** A new row id (32 hex digits). */
export const newId = (): string => randomUUID().replace(/-/g, '');

/** ISO-8601 UTC with microseconds (sorts as text); `micro` adds that many microseconds within the millisecond. */
export const isoTime = (d: Date = new Date(), micro = 0): string =>
  d.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${String(micro % 1000).padStart(3, '0')}Z`);

/** How the API shows a timestamp: seconds precision with a `Z` (Glance's isotime). */
export const apiTime = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

/** Parses a JSON column, falling back when the text is not what it should be. */
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try { return JSON.parse(text) as T; } catch { return fallback; }
}
