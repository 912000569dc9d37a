/**
 * Quotas (Neutron's `quotas` and `quota_details` extensions): per-project limits on networks,
 * subnets, ports, routers, floating IPs, security groups and rules; defaults from configuration,
 * overrides in `net_quota`; and `checkQuota`, which every create path calls before it inserts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../platform/http/faults.js';
import type { Config } from '../platform/config/config.js';
import type { Caller, NetworkContext } from './context.js';
import { netFault } from './faults.js';
import { callerOf } from './resource/routes.js';
import type { Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import { boolean, integer } from './resource/validate.js';

/** Each resource under quota (Neutron's names) and the table whose rows count as its usage. */
export const QUOTA_TABLES = {
  network: 'net_network',
  subnet: 'net_subnet',
  port: 'net_port',
  router: 'net_router',
  floatingip: 'net_floating_ip',
  security_group: 'net_security_group',
  security_group_rule: 'net_security_group_rule',
} as const;

export type QuotaResource = keyof typeof QUOTA_TABLES;
export type QuotaSet = Record<QuotaResource, number>;

const RESOURCES = Object.keys(QUOTA_TABLES) as QuotaResource[];
const isResource = (k: string): k is QuotaResource => Object.hasOwn(QUOTA_TABLES, k);

/** Neutron's DB_INTEGER_MAX_VALUE: the largest limit a quota may have. */
const MAX_LIMIT = 2 ** 31 - 1;
const limitCheck = integer(-1, MAX_LIMIT);

/** The limits every project has until an admin sets its own (the `quota_*` options). */
export function defaultQuotas(cfg: Config): QuotaSet {
  const n = cfg.network;
  return {
    network: n.quota_network, subnet: n.quota_subnet, port: n.quota_port, router: n.quota_router,
    floatingip: n.quota_floatingip, security_group: n.quota_security_group, security_group_rule: n.quota_security_group_rule,
  };
}

/** The project's overrides only (resource → limit). */
async function overridesOf(db: Db, projectId: string): Promise<Partial<QuotaSet>> {
  const rows = await db.selectFrom('net_quota').select(['resource', 'hard_limit']).where('project_id', '=', projectId).execute();
  const out: Partial<QuotaSet> = {};
  for (const r of rows) if (isResource(String(r.resource))) out[r.resource as QuotaResource] = Number(r.hard_limit);
  return out;
}

/** The project's effective limits: defaults with its overrides applied. */
export async function quotasOf(ctx: NetworkContext, db: Db, projectId: string): Promise<QuotaSet> {
  return { ...defaultQuotas(ctx.config), ...await overridesOf(db, projectId) };
}

/** How many `resource`s the project owns now. */
export async function usageOf(db: Db, projectId: string, resource: QuotaResource): Promise<number> {
  const r = await db.selectFrom(QUOTA_TABLES[resource]).select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', projectId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * Refuses (409 OverQuota, Neutron's message) a create that would take the project past its
 * limit for `resource`; `adding` is how many the request creates (bulk creates count whole).
 * Call it inside the create's transaction, before inserting. A limit of -1 is unlimited.
 */
export async function checkQuota(ctx: NetworkContext, tx: Db, projectId: string, resource: QuotaResource, adding = 1): Promise<void> {
  if (adding <= 0) return;
  const overrides = await overridesOf(tx, projectId);
  const limit = overrides[resource] ?? defaultQuotas(ctx.config)[resource];
  if (limit < 0) return;
  const used = await usageOf(tx, projectId, resource);
  if (used + adding > limit) throw netFault(409, 'OverQuota', `Quota exceeded for resources: ['${resource}'].`);
}

/** `checkQuota` for a batch of create items, each counted against its own `project_id`. */
export async function checkQuotaForItems(ctx: NetworkContext, tx: Db, items: readonly Record<string, unknown>[], resource: QuotaResource, fallbackProject = ''): Promise<void> {
  const per = new Map<string, number>();
  for (const it of items) {
    const p = String(it.project_id ?? it.tenant_id ?? fallbackProject);
    per.set(p, (per.get(p) ?? 0) + 1);
  }
  for (const [p, n] of per) await checkQuota(ctx, tx, p, resource, n);
}

const denied = (rule: string) => netFault(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);

/** Reads of another project's quotas and every write need the admin role. */
function mayRead(caller: Caller, projectId: string): void {
  if (!caller.isAdmin && caller.projectId !== projectId) throw denied('get_quota');
}

/**
 * The project id of a quota URL: any printable string of column size (Neutron does not check
 * that the project exists; control characters would only fail later in some engines).
 */
function projectParam(req: FastifyRequest): string {
  const id = (req.params as { project_id: string }).project_id;
  // eslint-disable-next-line no-control-regex
  if (id.length === 0 || id.length > 255 || /[\u0000-\u001f\u007f]/.test(id)) {
    throw badRequest(`Invalid input for project_id. Reason: '${id.slice(0, 64)}' is not a valid project id.`);
  }
  return id;
}

/** The body of a quota update, checked: known resources, integer limits in [-1, 2^31-1]. */
function updateBody(body: unknown): { limits: Partial<QuotaSet>; checkLimit: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Resource body required');
  const inner = (body as Record<string, unknown>).quota;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw badRequest("Unable to find 'quota' in request body");
  const { force, check_limit: checkLimitRaw, ...rest } = inner as Record<string, unknown>;
  if (force !== undefined) boolean(force, 'force');
  const checkLimit = checkLimitRaw === undefined ? false : boolean(checkLimitRaw, 'check_limit');
  const unknown = Object.keys(rest).filter((k) => !isResource(k));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const limits: Partial<QuotaSet> = {};
  for (const [k, v] of Object.entries(rest)) limits[k as QuotaResource] = limitCheck(v, k);
  return { limits, checkLimit };
}

/** Writes the given limits (upsert per resource) in one transaction. */
async function setLimits(ctx: NetworkContext, projectId: string, limits: Partial<QuotaSet>, checkLimit: boolean): Promise<void> {
  await transact(ctx, async (tx) => {
    for (const [resource, limit] of Object.entries(limits) as [QuotaResource, number][]) {
      if (checkLimit && limit >= 0) {
        const used = await usageOf(tx, projectId, resource);
        if (used > limit) throw badRequest(`Quota limit ${limit} for ${resource} must be greater than or equal to already used ${used}`);
      }
      const r = await tx.updateTable('net_quota').set({ hard_limit: limit }).where('project_id', '=', projectId).where('resource', '=', resource).executeTakeFirst();
      // A concurrent first write of the same key loses on the primary key and the transaction retries.
      if (Number(r.numUpdatedRows) === 0) await tx.insertInto('net_quota').values({ project_id: projectId, resource, hard_limit: limit }).execute();
    }
  });
}

async function details(ctx: NetworkContext, projectId: string): Promise<Record<QuotaResource, { limit: number; used: number; reserved: number }>> {
  const limits = await quotasOf(ctx, ctx.db, projectId);
  const out = {} as Record<QuotaResource, { limit: number; used: number; reserved: number }>;
  // Creates are checked and written in one transaction, so nothing is ever held in reserve.
  for (const r of RESOURCES) out[r] = { limit: limits[r], used: await usageOf(ctx.db, projectId, r), reserved: 0 };
  return out;
}

/** The quota routes under /v2.0/quotas. */
export function registerQuotas(app: FastifyInstance, ctx: NetworkContext): void {
  const base = '/v2.0/quotas';
  app.get(base, async (req) => {
    const caller = callerOf(ctx, req);
    if (!caller.isAdmin) throw denied('get_quota');
    const rows = await ctx.db.selectFrom('net_quota').select(['project_id', 'resource', 'hard_limit']).orderBy('project_id').execute();
    const byProject = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      if (!isResource(String(r.resource))) continue;
      const p = String(r.project_id);
      const q = byProject.get(p) ?? byProject.set(p, { ...defaultQuotas(ctx.config), project_id: p, tenant_id: p }).get(p)!;
      q[r.resource as string] = Number(r.hard_limit);
    }
    return { quotas: [...byProject.values()] };
  });
  app.post(base, async () => {
    throw netFault(501, 'HTTPNotImplemented', 'POST requests are not supported on this resource.');
  });
  // The caller's own project (Neutron's collection actions `tenant` and `project`).
  for (const key of ['tenant', 'project'] as const) {
    app.get(`${base}/${key}`, async (req) => {
      const caller = callerOf(ctx, req);
      if (!caller.projectId) throw netFault(400, 'QuotaMissingTenant', 'Tenant-id was missing from quota request.');
      return { [key]: { [`${key}_id`]: caller.projectId } };
    });
  }
  app.get(`${base}/:project_id`, async (req) => {
    const projectId = projectParam(req);
    mayRead(callerOf(ctx, req), projectId);
    return { quota: await quotasOf(ctx, ctx.db, projectId) };
  });
  app.get(`${base}/:project_id/default`, async (req) => {
    const projectId = projectParam(req);
    mayRead(callerOf(ctx, req), projectId);
    return { quota: defaultQuotas(ctx.config) };
  });
  const showDetails = async (req: FastifyRequest) => {
    const projectId = projectParam(req);
    const caller = callerOf(ctx, req);
    if (!caller.isAdmin && caller.projectId !== projectId) {
      throw netFault(403, 'AdminRequired', 'User does not have admin privileges: Only admin is authorized to access quotas for another project.');
    }
    return { quota: await details(ctx, projectId) };
  };
  // tempest asks for `details.json` (Neutron accepts a format suffix); the SDK for `details`.
  app.get(`${base}/:project_id/details`, showDetails);
  app.get(`${base}/:project_id/details.json`, showDetails);
  app.put(`${base}/:project_id`, async (req) => {
    const projectId = projectParam(req);
    if (!callerOf(ctx, req).isAdmin) throw denied('update_quota');
    const { limits, checkLimit } = updateBody(req.body);
    await setLimits(ctx, projectId, limits, checkLimit);
    ctx.notify('quota.update.end', { project_id: projectId, quota: limits });
    return { quota: await quotasOf(ctx, ctx.db, projectId) };
  });
  app.delete(`${base}/:project_id`, async (req, reply: FastifyReply) => {
    const projectId = projectParam(req);
    if (!callerOf(ctx, req).isAdmin) throw denied('delete_quota');
    const r = await ctx.db.deleteFrom('net_quota').where('project_id', '=', projectId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw netFault(404, 'TenantQuotaNotFound', `Quota for tenant ${projectId} could not be found.`);
    ctx.notify('quota.delete.end', { project_id: projectId });
    reply.status(204).send();
  });
}
