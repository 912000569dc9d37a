/**
 * `/os-simple-tenant-usage`: how long each project's servers existed in a window, weighted by
 * their flavors (Nova's simple tenant usage) — every project's (admin; `detailed=1` adds the
 * servers) or one project's (its readers or an admin). Counted from the instance records,
 * deleted ones included: a server counts from `launched_at` to `terminated_at` (or the end of
 * the window), whatever it did in between, as in Nova. Paged by instance (2.40 limit/marker).
 */
import type { FastifyRequest } from 'fastify';
import type { ComputeContext } from '../context.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast, limitAndMarker, nextLinks, params, type ComputeRoutes } from '../api/http.js';
import { commonQueryParam, paginationParameters, queryLists, validateQuery, type Schema, type QueryLists } from '../api/schema.js';
import { serversDb } from './api.js';
import { toInstance, type Instance } from './store.js';

/** Times here are microseconds since the epoch (UTC), as precise as Nova's datetimes. */
type Micros = number;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Nova's accepted forms: `%Y-%m-%dT%H:%M:%S`, `%Y-%m-%dT%H:%M:%S.%f`, `%Y-%m-%d %H:%M:%S.%f` (UTC). */
const QUERY_TIME = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?| (\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6}))$/;
/** A stored time: `2024-05-07T12:06:13.681238` (a trailing Z or offset-free variants tolerated). */
const STORED_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z?$/;

function micros(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined): Micros | undefined {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // strptime refuses impossible dates (2024-02-30, 25:00:00): Date.UTC would roll them over.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s) return undefined;
  return ms * 1000 + Number((frac ?? '').padEnd(6, '0'));
}

/** A query's start or end (now when absent or empty), or Nova's 400. */
export function parseQueryTime(v: string | undefined, now: Micros): Micros {
  if (!v) return now;
  const m = QUERY_TIME.exec(v);
  const t = m && (m[4] !== undefined
    ? micros(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7])
    : micros(+m[1]!, +m[2]!, +m[3]!, +m[8]!, +m[9]!, +m[10]!, m[11]));
  if (t === undefined || t === null) throw badRequest('Invalid datetime string: Datetime is in invalid format');
  return t;
}

/** A stored time in microseconds (undefined when absent or unreadable). */
export function storedTime(v: string | null): Micros | undefined {
  const m = v ? STORED_TIME.exec(v) : null;
  return m ? micros(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7]) : undefined;
}

function parts(t: Micros): { date: string; frac: number } {
  const ms = Math.floor(t / 1000);
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return { date, frac: t - Math.floor(ms / 1000) * 1_000_000 };
}

/** The stored form (sorts as the records' times do). */
export const dbTime = (t: Micros): string => { const p = parts(t); return `${p.date}.${pad(p.frac, 6)}`; };
/** Python's isoformat of a naive datetime: microseconds only when there are some. */
export const apiTime = (t: Micros): string => { const p = parts(t); return p.frac ? `${p.date}.${pad(p.frac, 6)}` : p.date; };

/** Hours of the window [start, stop] an instance existed in (Nova's _hours_for, never negative). */
export function hoursIn(launched: Micros | undefined, terminated: Micros | undefined, start: Micros, stop: Micros): number {
  if (launched === undefined) return 0;
  if (terminated !== undefined && terminated < start) return 0;
  if (launched > stop) return 0;
  const from = Math.max(launched, start);
  const to = terminated !== undefined ? Math.min(stop, terminated) : stop;
  return Math.max(0, to - from) / 3_600_000_000;
}

interface ServerUsage {
  instance_id: string; name: string; hours: number; memory_mb: number; local_gb: number; vcpus: number; tenant_id: string;
  flavor: string; started_at: string; ended_at: string | null; state: string; uptime: number;
}

interface TenantUsage {
  tenant_id: string; server_usages?: ServerUsage[]; total_local_gb_usage: number; total_vcpus_usage: number;
  total_memory_mb_usage: number; total_hours: number; start: string; stop: string;
}

function usageOf(i: Instance, start: Micros, stop: Micros, now: Micros): ServerUsage {
  const launched = storedTime(i.launched_at)!;
  const terminated = storedTime(i.terminated_at);
  const f = i.body.flavor;
  return {
    instance_id: i.uuid, name: i.display_name, hours: hoursIn(launched, terminated, start, stop),
    memory_mb: f.memory_mb, local_gb: f.root_gb + f.ephemeral_gb, vcpus: f.vcpus, tenant_id: i.project_id, flavor: f.name,
    started_at: apiTime(launched), ended_at: terminated !== undefined ? apiTime(terminated) : null,
    state: terminated !== undefined ? 'terminated' : i.vm_state,
    uptime: Math.max(0, Math.trunc(((terminated ?? now) - launched) / 1_000_000)),
  };
}

const queryFirst = (q: QueryLists, k: string): string | undefined => q[k]?.[0];

export function registerTenantUsage(routes: ComputeRoutes, ctx: ComputeContext): void {
  const db = serversDb(ctx);

  const querySchema = (req: FastifyRequest, index: boolean): Schema => ({
    type: 'object',
    properties: {
      start: commonQueryParam, end: commonQueryParam, ...(index ? { detailed: commonQueryParam } : {}),
      ...(atLeast(req, '2.40') ? paginationParameters : {}),
    },
    additionalProperties: !atLeast(req, '2.75'),
  });

  /** The window asked for, its end capped at now (Nova's _parse_qs_params). */
  const windowOf = (q: QueryLists, now: Micros) => {
    const start = parseQueryTime(queryFirst(q, 'start'), now);
    let stop = parseQueryTime(queryFirst(q, 'end'), now);
    if (!(start < stop)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    if (stop > now) stop = now;
    return { start, stop };
  };

  /** Instances that existed in the window, by project then uuid, one page of them. */
  const instancesIn = async (start: Micros, stop: Micros, tenant: string | undefined, limit: number, marker: string | undefined): Promise<Instance[]> => {
    let q = db.selectFrom('compute_instance').selectAll()
      .where((eb) => eb.or([eb('terminated_at', 'is', null), eb('terminated_at', '>', dbTime(start))]))
      .where('launched_at', '<', dbTime(stop));
    if (tenant !== undefined) q = q.where('project_id', '=', tenant);
    if (marker !== undefined) {
      const m = await db.selectFrom('compute_instance').select(['project_id', 'uuid']).where('uuid', '=', marker).executeTakeFirst();
      if (!m) throw badRequest(`Marker ${marker} could not be found.`);
      q = q.where((eb) => eb.or([eb('project_id', '>', m.project_id), eb.and([eb('project_id', '=', m.project_id), eb('uuid', '>', m.uuid)])]));
    }
    return (await q.orderBy('project_id').orderBy('uuid').limit(limit).execute()).map(toInstance);
  };

  /** Per-project summaries (in the instances' order) and every server's usage. */
  const summarize = (instances: readonly Instance[], start: Micros, stop: Micros, now: Micros, detailed: boolean) => {
    const byTenant = new Map<string, TenantUsage>();
    const all: ServerUsage[] = [];
    for (const i of instances) {
      const u = usageOf(i, start, stop, now);
      let t = byTenant.get(u.tenant_id);
      if (!t) {
        t = {
          tenant_id: u.tenant_id, ...(detailed ? { server_usages: [] } : {}), total_local_gb_usage: 0, total_vcpus_usage: 0,
          total_memory_mb_usage: 0, total_hours: 0, start: apiTime(start), stop: apiTime(stop),
        };
        byTenant.set(u.tenant_id, t);
      }
      t.total_local_gb_usage += u.local_gb * u.hours;
      t.total_vcpus_usage += u.vcpus * u.hours;
      t.total_memory_mb_usage += u.memory_mb * u.hours;
      t.total_hours += u.hours;
      t.server_usages?.push(u);
      all.push(u);
    }
    return { usages: [...byTenant.values()], all };
  };

  const page = (req: FastifyRequest) => (atLeast(req, '2.40') ? limitAndMarker(req, ctx.maxLimit) : { limit: ctx.maxLimit, marker: undefined });

  routes.get('/os-simple-tenant-usage', async (req) => {
    // `/os-simple-tenant-usage/` is a show of the empty tenant id: nothing (tempest checks the 404).
    if (req.url.split('?')[0]!.endsWith('/')) throw notFound('The resource could not be found.');
    const q = queryLists(req.query);
    validateQuery(querySchema(req, true), q);
    const caller = routes.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-simple-tenant-usage:list');
    const now = Date.now() * 1000;
    const { start, stop } = windowOf(q, now);
    const { limit, marker } = page(req);
    const detailed = queryFirst(q, 'detailed') === '1';
    const { usages, all } = summarize(await instancesIn(start, stop, undefined, limit, marker), start, stop, now, detailed);
    const links = atLeast(req, '2.40') ? nextLinks(req, 'os-simple-tenant-usage', all.length, all.at(-1)?.instance_id, ctx.maxLimit) : [];
    return { tenant_usages: usages, ...(links.length ? { tenant_usages_links: links } : {}) };
  });

  routes.get('/os-simple-tenant-usage/:tenant_id', async (req) => {
    const tenant = params<{ tenant_id: string }>(req).tenant_id;
    if (!tenant) throw notFound('The resource could not be found.');
    const q = queryLists(req.query);
    validateQuery(querySchema(req, false), q);
    const caller = routes.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-simple-tenant-usage:show', { project_id: tenant });
    const now = Date.now() * 1000;
    const { start, stop } = windowOf(q, now);
    const { limit, marker } = page(req);
    const { usages, all } = summarize(await instancesIn(start, stop, tenant, limit, marker), start, stop, now, true);
    const links = atLeast(req, '2.40') ? nextLinks(req, `os-simple-tenant-usage/${tenant}`, all.length, all.at(-1)?.instance_id, ctx.maxLimit) : [];
    return { tenant_usage: usages[0] ?? {}, ...(links.length ? { tenant_usage_links: links } : {}) };
  });
}
