/**
 * Nova's quotas (the DB quota driver): per-project limits with per-user overrides, defaults from
 * configuration overlaid by the `default` quota class, usage counted live (instances, cores and
 * RAM through the servers hook, key pairs per user here), and `checkDeltas` for every create
 * path. A limit of -1 is unlimited. Nothing is reserved: usage is counted, never held.
 */
import type { ComputeContext } from './context.js';
import { badRequest } from './faults.js';
import { transact, type Db } from './store/db.js';

/** Every quota resource, in Nova's order (QUOTAS.resources). */
export const QUOTA_RESOURCES = [
  'cores', 'injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes', 'instances', 'key_pairs',
  'metadata_items', 'ram', 'server_groups', 'server_group_members', 'fixed_ips', 'floating_ips', 'security_groups',
  'security_group_rules',
] as const;
export type QuotaResource = typeof QUOTA_RESOURCES[number];
export type QuotaSet = Record<QuotaResource, number>;

/** Resources whose usage is counted (the others are absolute limits). */
const COUNTABLE: ReadonlySet<QuotaResource> = new Set(['cores', 'instances', 'key_pairs', 'ram', 'server_groups', 'server_group_members']);

export const isQuotaResource = (k: string): k is QuotaResource => (QUOTA_RESOURCES as readonly string[]).includes(k);

/** The configured defaults (Nova's `[quota]` options; deprecated nova-network resources are -1). */
export function configDefaults(ctx: ComputeContext): QuotaSet {
  const c = ctx.config.compute;
  return {
    cores: c.quota_cores, injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255,
    instances: c.quota_instances, key_pairs: c.quota_key_pairs, metadata_items: c.quota_metadata_items, ram: c.quota_ram,
    server_groups: c.quota_server_groups, server_group_members: c.quota_server_group_members,
    fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1,
  };
}

async function classRows(db: Db, className: string): Promise<Partial<QuotaSet>> {
  const out: Partial<QuotaSet> = {};
  for (const r of await db.selectFrom('compute_quota_class').select(['resource', 'hard_limit']).where('class_name', '=', className).execute()) {
    if (isQuotaResource(r.resource)) out[r.resource] = Number(r.hard_limit);
  }
  return out;
}

async function limitRows(db: Db, projectId: string, userId: string): Promise<Partial<QuotaSet>> {
  const out: Partial<QuotaSet> = {};
  const rows = await db.selectFrom('compute_quota').select(['resource', 'hard_limit']).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
  for (const r of rows) if (isQuotaResource(r.resource)) out[r.resource] = Number(r.hard_limit);
  return out;
}

/** Defaults every project starts with: configuration overlaid by the `default` quota class. */
export async function defaultQuotas(ctx: ComputeContext, db: Db = ctx.db): Promise<QuotaSet> {
  return { ...configDefaults(ctx), ...await classRows(db, 'default') };
}

/** A quota class's limits (unset resources fall back to configuration, as in Nova). */
export async function classQuotas(ctx: ComputeContext, className: string): Promise<QuotaSet> {
  return { ...configDefaults(ctx), ...await classRows(ctx.db, className) };
}

/** Sets limits of a quota class (upsert per resource). */
export async function setClassQuotas(ctx: ComputeContext, className: string, limits: Partial<QuotaSet>): Promise<void> {
  await transact(ctx.db, async (tx) => {
    for (const [resource, limit] of Object.entries(limits)) {
      const r = await tx.updateTable('compute_quota_class').set({ hard_limit: limit }).where('class_name', '=', className).where('resource', '=', resource).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) await tx.insertInto('compute_quota_class').values({ class_name: className, resource, hard_limit: limit }).execute();
    }
  });
}

/** Usage of the countable resources by a project, or by one user of it. */
export async function usages(ctx: ComputeContext, projectId: string, userId?: string): Promise<Partial<QuotaSet>> {
  const inst = ctx.hooks.instanceUsage ? await ctx.hooks.instanceUsage(projectId, userId) : { instances: 0, cores: 0, ram: 0 };
  const groups = ctx.hooks.serverGroupUsage ? await ctx.hooks.serverGroupUsage(projectId, userId) : 0;
  // Nova shows key pairs and server group members as 0 here: they are per-user (per-group) limits.
  return { instances: inst.instances, cores: inst.cores, ram: inst.ram, server_groups: groups, key_pairs: 0, server_group_members: 0 };
}

/** One resource's limit and usage. */
export interface QuotaDetail { limit: number; in_use: number }

/** Effective limits of a project (project rows over defaults), or of one user of it (user rows over those). */
async function limitsOf(ctx: ComputeContext, db: Db, projectId: string, userId?: string): Promise<QuotaSet> {
  const project = { ...await defaultQuotas(ctx, db), ...await limitRows(db, projectId, '') };
  return userId ? { ...project, ...await limitRows(db, projectId, userId) } : project;
}

function withUsage(limits: QuotaSet, used: Partial<QuotaSet>): Record<QuotaResource, QuotaDetail> {
  const out = {} as Record<QuotaResource, QuotaDetail>;
  for (const r of QUOTA_RESOURCES) out[r] = { limit: limits[r], in_use: used[r] ?? 0 };
  return out;
}

/**
 * A project's effective limits (project rows over defaults), with usage. Usage comes from the
 * hooks, which read the database themselves: never call this inside a transaction.
 */
export async function projectQuotas(ctx: ComputeContext, projectId: string): Promise<Record<QuotaResource, QuotaDetail>> {
  return withUsage(await limitsOf(ctx, ctx.db, projectId), await usages(ctx, projectId));
}

/** A user's effective limits (user rows over project rows over defaults), with the user's usage (outside transactions). */
export async function userQuotas(ctx: ComputeContext, projectId: string, userId: string): Promise<Record<QuotaResource, QuotaDetail>> {
  return withUsage(await limitsOf(ctx, ctx.db, projectId, userId), await usages(ctx, projectId, userId));
}

const unlimited = (v: number) => v < 0;
const sum = (a: number, b: number) => (unlimited(a) || unlimited(b) ? -1 : a + b);
const sub = (a: number, b: number) => (unlimited(a) || unlimited(b) ? -1 : a - b);
const inf = (v: number) => (v === -1 ? Infinity : v);

/**
 * Nova's `get_settable_quotas`: the range an update may set each limit to, given the usage
 * (`used`: the project's, or the user's when `userId` is given) counted before the transaction.
 */
async function settable(ctx: ComputeContext, tx: Db, projectId: string, userId: string | undefined, used: Partial<QuotaSet>): Promise<Record<QuotaResource, { minimum: number; maximum: number }>> {
  const project = await limitsOf(ctx, tx, projectId);
  const allUsers = await tx.selectFrom('compute_quota').select(['resource', 'hard_limit']).where('project_id', '=', projectId).where('user_id', '!=', '').execute();
  const remains = { ...project };
  for (const row of allUsers) if (isQuotaResource(row.resource)) remains[row.resource] = sub(remains[row.resource], Number(row.hard_limit));
  const out = {} as Record<QuotaResource, { minimum: number; maximum: number }>;
  if (userId) {
    const set = await limitRows(tx, projectId, userId);
    for (const r of QUOTA_RESOURCES) out[r] = { minimum: used[r] ?? 0, maximum: sum(remains[r], set[r] ?? 0) };
  } else {
    for (const r of QUOTA_RESOURCES) out[r] = { minimum: Math.max(sub(project[r], remains[r]), used[r] ?? 0), maximum: -1 };
  }
  return out;
}

/**
 * Sets a project's (or a user's) limits. Unless `force`, each must be at least what is in use
 * (and, for a user, at most what the project has left) — Nova's 400s otherwise.
 */
export async function setQuotas(ctx: ComputeContext, projectId: string, userId: string | undefined, limits: Partial<QuotaSet>, force: boolean): Promise<void> {
  // Usage is counted live (not reserved), outside the transaction: the hooks read on their own.
  const used = force ? {} : await usages(ctx, projectId, userId);
  await transact(ctx.db, async (tx) => {
    if (!force) {
      const range = await settable(ctx, tx, projectId, userId, used);
      for (const [resource, limit] of Object.entries(limits) as [QuotaResource, number][]) {
        const { minimum, maximum } = range[resource];
        if (inf(limit) < inf(minimum)) throw badRequest(`Quota limit ${limit} for ${resource} must be greater than or equal to already used and reserved ${minimum}.`);
        if (inf(limit) > inf(maximum)) throw badRequest(`Quota limit ${limit} for ${resource} must be less than or equal to ${maximum}.`);
      }
    }
    for (const [resource, limit] of Object.entries(limits)) {
      const r = await tx.updateTable('compute_quota').set({ hard_limit: limit })
        .where('project_id', '=', projectId).where('user_id', '=', userId ?? '').where('resource', '=', resource).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) await tx.insertInto('compute_quota').values({ project_id: projectId, user_id: userId ?? '', resource, hard_limit: limit }).execute();
    }
  });
  ctx.notify('compute.quota.update', { project_id: projectId, user_id: userId ?? null, quota: limits });
}

/** Removes a project's limits (all its users' too), or one user's. */
export async function deleteQuotas(ctx: ComputeContext, projectId: string, userId?: string): Promise<void> {
  let q = ctx.db.deleteFrom('compute_quota').where('project_id', '=', projectId);
  if (userId) q = q.where('user_id', '=', userId);
  await q.execute();
}

/** A create would exceed a limit: which resources, and the numbers (Nova's OverQuota kwargs). */
export class QuotaExceeded extends Error {
  constructor(readonly overs: readonly QuotaResource[], readonly requested: Readonly<Partial<QuotaSet>>, readonly used: Readonly<Partial<QuotaSet>>, readonly allowed: Readonly<Partial<QuotaSet>>) {
    super(`Quota exceeded for resources: ${JSON.stringify(overs)}`);
    this.name = 'QuotaExceeded';
  }
}

/**
 * Nova's `Quotas.check_deltas`: would adding `deltas` exceed the project's or the user's limits?
 * Throws {@link QuotaExceeded}. Servers call it before (and, against races, after with zero
 * deltas) creating, with deltas {instances, cores, ram}; key pairs are counted per user here.
 * Call it outside any transaction (usage hooks read the database on their own connection).
 */
export async function checkDeltas(ctx: ComputeContext, projectId: string, userId: string, deltas: Partial<QuotaSet>): Promise<void> {
  const db = ctx.db;
  const project = await limitsOf(ctx, db, projectId);
  const user = await limitsOf(ctx, db, projectId, userId);
  const wanted = Object.keys(deltas).filter(isQuotaResource);
  const needInst = wanted.some((r) => r === 'instances' || r === 'cores' || r === 'ram');
  const projInst = needInst && ctx.hooks.instanceUsage ? await ctx.hooks.instanceUsage(projectId) : { instances: 0, cores: 0, ram: 0 };
  const userInst = needInst && ctx.hooks.instanceUsage ? await ctx.hooks.instanceUsage(projectId, userId) : { instances: 0, cores: 0, ram: 0 };
  const overs: QuotaResource[] = [];
  const used: Partial<QuotaSet> = {};
  const allowed: Partial<QuotaSet> = {};
  for (const r of wanted) {
    if (!COUNTABLE.has(r)) continue;
    const delta = deltas[r] ?? 0;
    let projUsed = 0;
    let userUsed = 0;
    if (r === 'key_pairs') {
      const n = await db.selectFrom('compute_keypair').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirst();
      userUsed = Number(n?.n ?? 0);
      projUsed = -Infinity; // key pairs are limited per user only
    } else if (r === 'instances' || r === 'cores' || r === 'ram') {
      projUsed = projInst[r];
      userUsed = userInst[r];
    } else if (r === 'server_groups') {
      projUsed = ctx.hooks.serverGroupUsage ? await ctx.hooks.serverGroupUsage(projectId) : 0;
      userUsed = ctx.hooks.serverGroupUsage ? await ctx.hooks.serverGroupUsage(projectId, userId) : 0;
    } else {
      continue;
    }
    const projOver = project[r] >= 0 && projUsed + delta > project[r];
    const userOver = user[r] >= 0 && userUsed + delta > user[r];
    if (projOver || userOver) {
      overs.push(r);
      used[r] = projOver ? projUsed : userUsed;
      allowed[r] = projOver ? project[r] : user[r];
    }
  }
  if (overs.length) throw new QuotaExceeded(overs, deltas, used, allowed);
}
