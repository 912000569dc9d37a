import type { Identity } from '../identity.js';
import { badRequest, forbidden, notFound } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import type { RoleRow } from '../store/schema.js';
import { requireDomain, requireProject, requireRole, roleDomainId } from './refs.js';

/** Who holds a grant. */
export type GrantActor = { user: string } | { group: string };
/** Where a grant applies. */
export type GrantTarget = { project: string } | { domain: string };

const actorId = (a: GrantActor): string => ('user' in a ? a.user : a.group);
const targetId = (t: GrantTarget): string => ('project' in t ? t.project : t.domain);
/** The stored assignment type, e.g. UserProject or GroupDomain. */
export const grantType = (a: GrantActor, t: GrantTarget): string => `${'user' in a ? 'User' : 'Group'}${'project' in t ? 'Project' : 'Domain'}`;

/** Keystone's 404 for a grant that does not exist. */
export const assignmentNotFound = (roleId: string, actor: string, target: string) =>
  notFound(`Could not find role assignment with role: ${roleId}, user or group: ${actor}, project, domain, or system: ${target}.`);

async function requireTarget(id: Identity, t: GrantTarget) {
  if ('domain' in t) return requireDomain(id, t.domain);
  return requireProject(id, t.project);
}

async function insertAssignment(id: Identity, row: { type: string; actor_id: string; target_id: string; role_id: string; inherited: number }): Promise<void> {
  const has = await id.db.selectFrom('assignment').select('role_id')
    .where('type', '=', row.type).where('actor_id', '=', row.actor_id).where('target_id', '=', row.target_id)
    .where('role_id', '=', row.role_id).where('inherited', '=', row.inherited).executeTakeFirst();
  if (has) return;
  try {
    await id.db.insertInto('assignment').values(row).execute();
  } catch (err) {
    // Granting twice is silent in Keystone.
    if (!isUniqueViolation(err)) throw err;
  }
}

/**
 * Grants a role on a project or domain (Keystone's create_grant): the role and target must exist,
 * and a domain-specific role can only be granted on projects of its own domain (403).
 * Granting an existing assignment again succeeds silently.
 */
export async function createGrant(id: Identity, roleId: string, actor: GrantActor, target: GrantTarget, inherited: boolean): Promise<void> {
  const role = await requireRole(id, roleId);
  const t = await requireTarget(id, target);
  const roleDomain = roleDomainId(role);
  if ('project' in target && roleDomain && (t as { domain_id: string }).domain_id !== roleDomain) {
    throw forbidden(`Project ${targetId(target)} must be in the same domain as the role ${roleId} being assigned.`);
  }
  await insertAssignment(id, { type: grantType(actor, target), actor_id: actorId(actor), target_id: targetId(target), role_id: roleId, inherited: inherited ? 1 : 0 });
  id.changed();
}

async function grantExists(id: Identity, roleId: string, actor: GrantActor, target: GrantTarget, inherited: boolean): Promise<boolean> {
  const row = await id.db.selectFrom('assignment').select('role_id')
    .where('type', '=', grantType(actor, target)).where('actor_id', '=', actorId(actor)).where('target_id', '=', targetId(target))
    .where('role_id', '=', roleId).where('inherited', '=', inherited ? 1 : 0).executeTakeFirst();
  return !!row;
}

/** Checks a grant (Keystone's get_grant): 404 when the role, target or assignment is missing. */
export async function checkGrant(id: Identity, roleId: string, actor: GrantActor, target: GrantTarget, inherited: boolean): Promise<RoleRow> {
  const role = await requireRole(id, roleId);
  await requireTarget(id, target);
  if (!(await grantExists(id, roleId, actor, target, inherited))) throw assignmentNotFound(roleId, actorId(actor), targetId(target));
  return role;
}

/** The roles granted to an actor on a target (Keystone's list_grants). */
export async function listGrants(id: Identity, actor: GrantActor, target: GrantTarget, inherited: boolean): Promise<RoleRow[]> {
  await requireTarget(id, target);
  const rows = await id.db.selectFrom('assignment').select('role_id')
    .where('actor_id', '=', actorId(actor)).where('target_id', '=', targetId(target)).where('inherited', '=', inherited ? 1 : 0)
    .where('type', 'in', ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain']).execute();
  return rolesFromIds(id, rows.map((r) => r.role_id));
}

/**
 * Revokes a grant (Keystone's delete_grant): 404 when the role, assignment or target is missing.
 * Tokens are not revoked by event: they carry no roles and re-derive them on validation, so the
 * change (signalled by `id.changed()`) takes effect at once, as in Keystone.
 */
export async function deleteGrant(id: Identity, roleId: string, actor: GrantActor, target: GrantTarget, inherited: boolean): Promise<void> {
  await requireRole(id, roleId);
  if (!(await grantExists(id, roleId, actor, target, inherited))) throw assignmentNotFound(roleId, actorId(actor), targetId(target));
  await requireTarget(id, target);
  await id.db.deleteFrom('assignment')
    .where('type', '=', grantType(actor, target)).where('actor_id', '=', actorId(actor)).where('target_id', '=', targetId(target))
    .where('role_id', '=', roleId).where('inherited', '=', inherited ? 1 : 0).execute();
  id.changed();
}

/** Role rows for ids, skipping ids whose role no longer exists. */
export async function rolesFromIds(id: Identity, ids: string[]): Promise<RoleRow[]> {
  if (!ids.length) return [];
  return id.db.selectFrom('role').selectAll().where('id', 'in', [...new Set(ids)]).execute();
}

const systemType = (a: GrantActor): string => ('user' in a ? 'UserSystem' : 'GroupSystem');

/** Roles an actor holds on the system. */
export async function listSystemGrants(id: Identity, actor: GrantActor): Promise<RoleRow[]> {
  const rows = await id.db.selectFrom('assignment').select('role_id')
    .where('type', '=', systemType(actor)).where('actor_id', '=', actorId(actor)).where('target_id', '=', 'system').execute();
  return rolesFromIds(id, rows.map((r) => r.role_id));
}

async function systemGrantExists(id: Identity, actor: GrantActor, roleId: string): Promise<boolean> {
  const row = await id.db.selectFrom('assignment').select('role_id')
    .where('type', '=', systemType(actor)).where('actor_id', '=', actorId(actor)).where('target_id', '=', 'system')
    .where('role_id', '=', roleId).where('inherited', '=', 0).executeTakeFirst();
  return !!row;
}

/** 404 unless the actor holds the role on the system. */
export async function checkSystemGrant(id: Identity, actor: GrantActor, roleId: string): Promise<void> {
  if (!(await systemGrantExists(id, actor, roleId))) throw assignmentNotFound(roleId, actorId(actor), 'system');
}

/** Grants a role on the system; domain-specific roles are refused (400) as in Keystone. */
export async function createSystemGrant(id: Identity, actor: GrantActor, roleId: string): Promise<void> {
  const role = await requireRole(id, roleId);
  if (roleDomainId(role)) {
    throw badRequest(`Role ${roleId} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`);
  }
  await insertAssignment(id, { type: systemType(actor), actor_id: actorId(actor), target_id: 'system', role_id: roleId, inherited: 0 });
  id.changed();
}

/** Removes a system grant; 404 when it does not exist. */
export async function deleteSystemGrant(id: Identity, actor: GrantActor, roleId: string): Promise<void> {
  if (!(await systemGrantExists(id, actor, roleId))) throw assignmentNotFound(roleId, actorId(actor), 'system');
  await id.db.deleteFrom('assignment')
    .where('type', '=', systemType(actor)).where('actor_id', '=', actorId(actor)).where('target_id', '=', 'system')
    .where('role_id', '=', roleId).where('inherited', '=', 0).execute();
  id.changed();
}
