/**
 * Server groups (Nova's instance groups): a named policy — affinity, anti-affinity or their soft
 * variants, with anti-affinity's `max_server_per_host` rule (2.64) — and the servers created with
 * the scheduler hint `group=<uuid>`. A server joins when it is created (quota
 * `server_group_members`, counted per user and group) and leaves when it is deleted. The
 * scheduler sees the group as a ServerGroupRequest: its policy and the hosts of its members (see
 * groups-scheduler.ts for how concurrent builds of one group are kept consistent).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ComputeContext, Caller } from '../context.js';
import { badRequest, forbidden } from '../faults.js';
import { isUuidLike } from '../api/actions.js';
import { pyRepr } from '../api/schema.js';
import { userQuotas } from '../quotas.js';
import { nowIso } from '../store/db.js';
import type { ServerGroupPolicy, ServerGroupRequest } from '../scheduler/types.js';
import type { GroupsDB, ServerGroupRow } from './groups-schema.js';

export const GROUP_POLICIES: readonly ServerGroupPolicy[] = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

/** A group's rules (only anti-affinity has one). */
export interface GroupRules { readonly max_server_per_host?: number }

export interface ServerGroup {
  readonly id: number;
  readonly uuid: string;
  readonly name: string;
  readonly project_id: string;
  readonly user_id: string;
  readonly policy: ServerGroupPolicy;
  readonly rules: GroupRules;
  readonly created_at: string;
}

/** Any of the compute service's database handles, seen with the groups' tables. */
export const groupsDb = (db: unknown): Kysely<GroupsDB> => db as Kysely<GroupsDB>;

const toGroup = (r: ServerGroupRow): ServerGroup => ({
  id: Number(r.id), uuid: r.uuid, name: r.name, project_id: r.project_id, user_id: r.user_id,
  policy: r.policy as ServerGroupPolicy, rules: JSON.parse(r.rules || '{}') as GroupRules, created_at: r.created_at,
});

/** Records a new group. */
export async function createGroup(db: Kysely<GroupsDB>, g: { name: string; projectId: string; userId: string; policy: ServerGroupPolicy; rules?: GroupRules }): Promise<ServerGroup> {
  const uuid = randomUUID();
  await db.insertInto('compute_server_group').values({
    uuid, name: g.name, project_id: g.projectId, user_id: g.userId, policy: g.policy, rules: JSON.stringify(g.rules ?? {}), created_at: nowIso(), updated_at: null,
  } as never).execute();
  return (await getGroup(db, uuid))!;
}

/** A group by uuid (any project: callers check visibility). */
export async function getGroup(db: Kysely<GroupsDB>, uuid: string): Promise<ServerGroup | undefined> {
  const r = await db.selectFrom('compute_server_group').selectAll().where('uuid', '=', uuid.toLowerCase()).executeTakeFirst();
  return r ? toGroup(r) : undefined;
}

/** Groups of a project (every project's when `projectId` is undefined), oldest first. */
export async function listGroups(db: Kysely<GroupsDB>, projectId?: string): Promise<ServerGroup[]> {
  let q = db.selectFrom('compute_server_group').selectAll();
  if (projectId !== undefined) q = q.where('project_id', '=', projectId);
  return (await q.orderBy('id').execute()).map(toGroup);
}

/** Deletes a group and its member rows; false when it was already gone. */
export async function deleteGroup(db: Kysely<GroupsDB>, g: ServerGroup): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await tx.deleteFrom('compute_server_group_member').where('group_id', '=', g.id).execute();
    const r = await tx.deleteFrom('compute_server_group').where('id', '=', g.id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  });
}

/** Members (not deleted instances) of each group, in the order they joined. */
export async function membersOf(db: Kysely<GroupsDB>, groupIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(groupIds.map((id) => [id, []]));
  if (!groupIds.length) return out;
  const rows = await db.selectFrom('compute_server_group_member as m')
    .innerJoin('compute_instance as i', 'i.uuid', 'm.instance_uuid')
    .select(['m.group_id', 'm.instance_uuid'])
    .where('m.group_id', 'in', [...groupIds]).where('i.deleted', '=', 0)
    .orderBy('m.created_at').orderBy('m.instance_uuid')
    .execute();
  for (const r of rows) out.get(Number(r.group_id))?.push(r.instance_uuid);
  return out;
}

/** The member instances of a group with their hosts (null until scheduled), in the order they joined. */
export async function memberPlacements(db: Kysely<GroupsDB>, groupUuid: string): Promise<{ uuid: string; host: string | null }[]> {
  return (await db.selectFrom('compute_server_group_member as m')
    .innerJoin('compute_server_group as g', 'g.id', 'm.group_id')
    .innerJoin('compute_instance as i', 'i.uuid', 'm.instance_uuid')
    .select(['i.uuid as uuid', 'i.host as host'])
    .where('g.uuid', '=', groupUuid).where('i.deleted', '=', 0)
    .orderBy('m.created_at').orderBy('m.instance_uuid')
    .execute()).map((r) => ({ uuid: r.uuid, host: r.host }));
}

/** Server groups of a project (or of one user of it): the `server_groups` quota's usage. */
export async function groupCount(db: Kysely<GroupsDB>, projectId: string, userId?: string): Promise<number> {
  let q = db.selectFrom('compute_server_group').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', projectId);
  if (userId) q = q.where('user_id', '=', userId);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

/** Live members of a group owned by a user: the `server_group_members` quota's usage (Nova counts per user). */
async function memberCountByUser(db: Kysely<GroupsDB>, groupId: number, userId: string): Promise<number> {
  const r = await db.selectFrom('compute_server_group_member as m')
    .innerJoin('compute_instance as i', 'i.uuid', 'm.instance_uuid')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('m.group_id', '=', groupId).where('i.deleted', '=', 0).where('i.user_id', '=', userId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Counts server groups for the quota code (quotas.ts reads it through the hook). */
export function installGroupHooks(ctx: ComputeContext): void {
  const db = groupsDb(ctx.db);
  ctx.hooks = { ...ctx.hooks, serverGroupUsage: (projectId, userId) => groupCount(db, projectId, userId) };
}

/**
 * The group a create request names in its scheduler hint `group`, checked as Nova checks it: a
 * UUID (400), a group the caller's project can see (400 "could not be found"), room for `count`
 * more of the caller's servers in it (403, quota `server_group_members`). Undefined without hint.
 */
export async function groupForCreate(ctx: ComputeContext, caller: Caller, hints: Readonly<Record<string, unknown>>, count: number): Promise<ServerGroup | undefined> {
  const hint = hints.group;
  if (hint === undefined) return undefined;
  if (typeof hint !== 'string' || !isUuidLike(hint)) {
    throw badRequest(`Invalid input for field/attribute group. Value: ${pyRepr(hint)}. ${pyRepr(hint)} is not a 'uuid'`);
  }
  const db = groupsDb(ctx.db);
  const g = await getGroup(db, hint);
  if (!g || (!caller.isAdmin && g.project_id !== caller.projectId)) throw badRequest(`Instance group ${hint} could not be found.`);
  const limit = (await userQuotas(ctx, caller.projectId, caller.userId)).server_group_members.limit;
  if (limit >= 0 && (await memberCountByUser(db, g.id, caller.userId)) + count > limit) throw forbidden('Quota exceeded, too many servers in group');
  return g;
}

/** The group an instance is a member of, if any (Nova's one group per instance). */
export async function groupOfInstance(db: Kysely<GroupsDB>, instanceUuid: string): Promise<ServerGroup | undefined> {
  const r = await db.selectFrom('compute_server_group_member as m').innerJoin('compute_server_group as g', 'g.id', 'm.group_id')
    .select('g.uuid').where('m.instance_uuid', '=', instanceUuid).executeTakeFirst();
  return r ? getGroup(db, r.uuid) : undefined;
}

/** What the scheduler needs of a group now: its policy, rules and the hosts of its members (one entry per member). */
export async function groupRequest(db: Kysely<GroupsDB>, g: ServerGroup, exclude: readonly string[] = []): Promise<ServerGroupRequest> {
  const skip = new Set(exclude);
  const memberHosts = (await memberPlacements(db, g.uuid)).filter((m) => m.host && !skip.has(m.uuid)).map((m) => m.host!);
  return { uuid: g.uuid, policy: g.policy, memberHosts, ...(Object.keys(g.rules).length ? { rules: { ...g.rules } } : {}) };
}

/**
 * Makes the new instances members of the group (after their records exist) and returns the
 * group as the request spec carries it.
 */
export async function joinGroup(db: unknown, g: ServerGroup, instanceUuids: readonly string[]): Promise<ServerGroupRequest> {
  const gdb = groupsDb(db);
  const now = nowIso();
  if (instanceUuids.length) {
    await gdb.insertInto('compute_server_group_member').values(instanceUuids.map((u) => ({ group_id: g.id, instance_uuid: u, created_at: now }))).execute();
  }
  return groupRequest(gdb, g, instanceUuids);
}

/** A deleted instance leaves its groups. */
export async function leaveGroups(db: unknown, instanceUuid: string): Promise<void> {
  await groupsDb(db).deleteFrom('compute_server_group_member').where('instance_uuid', '=', instanceUuid).execute();
}
