import { randomUUID } from 'node:crypto';

/** A new id in Keystone's form: a uuid4 as 32 hex characters. */
export const newId = (): string => randomUUID().replace(/-/g, '');

/** Keystone's timestamp form: ISO-8601 UTC with microseconds, e.g. 2015-08-27T09:49:58.000000Z. */
export const isoTime = (d: Date = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
/** Parses a stored or requested timestamp; undefined when absent or invalid. */
export const parseTime = (s: string | null | undefined): Date | undefined => {
  if (!s) return undefined;
  const d = new Date(s.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** Parses a JSON text column written by us; a damaged value reads as {} rather than failing the request. */
export function parseJsonObject(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** Keystone-style boolean query parameters: absent → undefined; '0' 'false' 'no' 'off' → false; anything else (even '') → true. */
export function queryBool(v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  const s = String(Array.isArray(v) ? v[0] : v).toLowerCase();
  return !['0', 'false', 'no', 'off'].includes(s);
}

/** Integer 0/1 column ↔ boolean. */
export const bool = (n: number | boolean | null | undefined): boolean => n === true || n === 1 || (n as unknown) === '1';
export const int = (b: boolean | undefined | null): number => (b ? 1 : 0);
