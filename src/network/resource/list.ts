/**
 * Neutron list queries: any visible attribute as a filter (repeated keys mean "any of"), tag
 * filters, `fields`, `sort_key`/`sort_dir`, and `limit`/`marker`/`page_reverse` paging with
 * `<collection>_links`.
 */
import { badAttr } from '../faults.js';
import { pageLink } from '../../platform/http/pagination.js';
import { toBoolean } from './validate.js';
import type { Obj, ResourceDef } from './types.js';

export type Query = Readonly<Record<string, string | string[] | undefined>>;

const CONTROL = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);

const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A custom filter for an attribute whose values need more than equality (e.g. a port's fixed_ips). */
export type CustomFilter = (obj: Obj, values: readonly string[]) => boolean;

/** Whether one stored value matches one query string. */
function matches(v: unknown, q: string): boolean {
  if (Array.isArray(v)) return v.some((x) => matches(x, q));
  if (typeof v === 'boolean') return toBoolean(q) === v;
  if (typeof v === 'number') return Number(q) === v;
  if (v === null || v === undefined) return q === '' || q === 'None' || q === 'null';
  if (typeof v === 'object') return false;
  return String(v) === q;
}

/** The equality filters of a query (attribute → accepted values), ignoring control keys. */
export function filtersOf(def: ResourceDef, query: Query, isAdmin: boolean, custom: Readonly<Record<string, CustomFilter>> = {}): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, raw] of Object.entries(query)) {
    if (CONTROL.has(key) || raw === undefined) continue;
    const spec = def.attributes[key];
    const usable = custom[key] !== undefined || (spec !== undefined && spec.filter !== false && spec.visible !== 'none' && (spec.visible !== 'admin' || isAdmin));
    // Unknown filters are ignored, as Neutron does for attributes it does not know.
    if (!usable) continue;
    out.set(key, values(raw));
  }
  return out;
}

const tagList = (raw: string | string[] | undefined): string[] => values(raw).flatMap((v) => v.split(',')).filter((t) => t !== '');

/** Applies equality, custom and tag filters. */
export function applyFilters(objs: readonly Obj[], filters: ReadonlyMap<string, string[]>, query: Query, custom: Readonly<Record<string, CustomFilter>> = {}): Obj[] {
  const all = tagList(query.tags);
  const anyOf = tagList(query['tags-any']);
  const notAll = tagList(query['not-tags']);
  const notAny = tagList(query['not-tags-any']);
  return objs.filter((o) => {
    for (const [attr, qs] of filters) {
      const f = custom[attr];
      if (f) { if (!f(o, qs)) return false; continue; }
      if (!qs.some((q) => matches(o[attr], q))) return false;
    }
    if (all.length || anyOf.length || notAll.length || notAny.length) {
      const tags = new Set((o.tags as string[] | undefined) ?? []);
      if (all.length && !all.every((t) => tags.has(t))) return false;
      if (anyOf.length && !anyOf.some((t) => tags.has(t))) return false;
      if (notAll.length && notAll.every((t) => tags.has(t))) return false;
      if (notAny.length && notAny.some((t) => tags.has(t))) return false;
    }
    return true;
  });
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'object' ? JSON.stringify(a) : String(a);
  const sb = typeof b === 'object' ? JSON.stringify(b) : String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export interface Page { readonly items: Obj[]; readonly links: { rel: string; href: string }[] }

/** Sorts and pages (after filtering). */
export function sortAndPage(def: ResourceDef, objs: Obj[], query: Query, baseUrl: string): Page {
  const keys = values(query.sort_key);
  const dirs = values(query.sort_dir);
  for (const k of keys) {
    const spec = def.attributes[k];
    if (!spec || spec.visible === 'none') throw badAttr('sort_key', `${k} is an invalid attribute for sort_key`);
  }
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw badAttr('sort_dir', `${d} is an invalid value for sort_dir, valid values are 'asc' and 'desc'`);
  if (dirs.length > keys.length) throw badAttr('sort_dir', 'The number of sort_keys and sort_dirs must be same');
  const order = [...keys.map((k, i) => ({ k, desc: dirs[i] === 'desc' })), { k: 'id', desc: dirs[0] === 'desc' }];
  const reverse = toBoolean(query.page_reverse ?? 'false') === true;
  const sorted = [...objs].sort((a, b) => {
    for (const { k, desc } of order) {
      const c = compare(a[k], b[k]);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  });
  const limitRaw = values(query.limit)[0];
  const marker = values(query.marker)[0];
  let limit: number | undefined;
  if (limitRaw !== undefined && limitRaw !== '') {
    const n = Number(limitRaw);
    if (!Number.isInteger(n) || n < 0) throw badAttr('limit', `${limitRaw} is not a valid integer`);
    limit = n === 0 ? undefined : n;
  }
  let list = reverse ? sorted.reverse() : sorted;
  if (marker !== undefined) {
    const at = list.findIndex((o) => o.id === marker);
    if (at < 0) throw def.notFound(marker);
    list = list.slice(at + 1);
  }
  const links: { rel: string; href: string }[] = [];
  if (limit !== undefined) {
    const more = list.length > limit;
    list = list.slice(0, limit);
    const q = query as Record<string, unknown>;
    const last = list[list.length - 1];
    const first = list[0];
    if (reverse) {
      list.reverse();
      if (more && list[0]) links.push({ rel: 'previous', href: pageLink(baseUrl, { ...q, page_reverse: 'True' }, list[0].id) });
      if (marker !== undefined && last) links.push({ rel: 'next', href: pageLink(baseUrl, { ...q, page_reverse: undefined }, last.id) });
    } else {
      if (more && last) links.push({ rel: 'next', href: pageLink(baseUrl, q, last.id) });
      if (marker !== undefined && first) links.push({ rel: 'previous', href: pageLink(baseUrl, { ...q, page_reverse: 'True' }, first.id) });
    }
  }
  return { items: list, links };
}

/** The `fields` of a query (empty: all). */
export const fieldsOf = (query: Query): string[] => values(query.fields).flatMap((f) => f.split(',')).filter((f) => f !== '');
