/**
 * Deleting users, groups, projects and domains with everything that hangs off them, as
 * Keystone's managers and their notification callbacks do. Every function runs inside the
 * caller's transaction and records revocations and notifications in `fx`.
 */
import type { Kysely } from 'kysely';
import type { IdentityDB, ProjectRow } from '../store/schema.js';
import { isoTime } from '../util.js';
import type { Effects } from './effects.js';

type Db = Kysely<IdentityDB>;

/** Soft-deletes trusts (Keystone keeps them with `deleted_at`) and revokes their tokens. */
async function deleteTrusts(db: Db, ids: string[], fx: Effects): Promise<void> {
  if (!ids.length) return;
  await db.updateTable('trust').set({ deleted_at: isoTime() }).where('id', 'in', ids).execute();
  for (const t of ids) fx.trusts.add(t);
}

/** A user: memberships, role assignments, credentials, application credentials, access rules, trusts, passwords. */
export async function deleteUserCascade(db: Db, userId: string, fx: Effects): Promise<void> {
  await db.deleteFrom('group_membership').where('user_id', '=', userId).execute();
  await db.deleteFrom('assignment').where('actor_id', '=', userId).where('type', 'in', ['UserProject', 'UserDomain', 'UserSystem']).execute();
  await db.deleteFrom('credential').where('user_id', '=', userId).execute();
  const appCreds = (await db.selectFrom('app_credential').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);
  if (appCreds.length) {
    await db.deleteFrom('app_credential_role').where('application_credential_id', 'in', appCreds).execute();
    await db.deleteFrom('app_credential_access_rule').where('application_credential_id', 'in', appCreds).execute();
    await db.deleteFrom('app_credential').where('id', 'in', appCreds).execute();
  }
  const rules = (await db.selectFrom('access_rule').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);
  if (rules.length) {
    await db.deleteFrom('app_credential_access_rule').where('access_rule_id', 'in', rules).execute();
    await db.deleteFrom('access_rule').where('id', 'in', rules).execute();
  }
  const trusts = await db.selectFrom('trust').select('id').where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('trustor_user_id', '=', userId), eb('trustee_user_id', '=', userId)])).execute();
  await deleteTrusts(db, trusts.map((t) => t.id), fx);
  await db.deleteFrom('user_password').where('user_id', '=', userId).execute();
  await db.deleteFrom('id_mapping').where('public_id', '=', userId).execute();
  await db.deleteFrom('user_account').where('id', '=', userId).execute();
  fx.users.add(userId);
  fx.notify('identity.user.deleted', userId);
}

/** A group: memberships and role assignments; members lose their tokens when the group had roles. */
export async function deleteGroupCascade(db: Db, groupId: string, fx: Effects): Promise<void> {
  const members = await db.selectFrom('group_membership').select('user_id').where('group_id', '=', groupId).execute();
  const hadRoles = await db.selectFrom('assignment').select('role_id').where('actor_id', '=', groupId)
    .where('type', 'in', ['GroupProject', 'GroupDomain', 'GroupSystem']).limit(1).executeTakeFirst();
  await db.deleteFrom('group_membership').where('group_id', '=', groupId).execute();
  await db.deleteFrom('assignment').where('actor_id', '=', groupId).where('type', 'in', ['GroupProject', 'GroupDomain', 'GroupSystem']).execute();
  await db.deleteFrom('id_mapping').where('public_id', '=', groupId).execute();
  await db.deleteFrom('user_group').where('id', '=', groupId).execute();
  if (hadRoles) for (const m of members) fx.users.add(m.user_id);
  fx.notify('identity.group.deleted', groupId);
}

/** A (leaf) project: assignments on it, its credentials, trusts, endpoint associations, users' default project. */
export async function deleteProjectCascade(db: Db, projectId: string, fx: Effects): Promise<void> {
  await db.deleteFrom('assignment').where('target_id', '=', projectId).where('type', 'in', ['UserProject', 'GroupProject']).execute();
  await db.deleteFrom('credential').where('project_id', '=', projectId).execute();
  const trusts = await db.selectFrom('trust').select('id').where('project_id', '=', projectId).where('deleted_at', 'is', null).execute();
  await deleteTrusts(db, trusts.map((t) => t.id), fx);
  await db.deleteFrom('project_endpoint').where('project_id', '=', projectId).execute();
  await db.deleteFrom('project_endpoint_group').where('project_id', '=', projectId).execute();
  await db.updateTable('user_account').set({ default_project_id: null }).where('default_project_id', '=', projectId).execute();
  await db.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  await db.deleteFrom('project').where('id', '=', projectId).execute();
  fx.projects.add(projectId);
  fx.notify('identity.project.deleted', projectId);
}

/** Orders projects so that children come before their parents (deepest first). */
function leavesFirst(projects: ProjectRow[]): ProjectRow[] {
  const byId = new Map(projects.map((p) => [p.id, p]));
  const depth = (p: ProjectRow): number => {
    let d = 0;
    const seen = new Set<string>();
    for (let cur = p; cur.parent_id && byId.has(cur.parent_id) && !seen.has(cur.id); cur = byId.get(cur.parent_id)!) {
      seen.add(cur.id);
      d++;
    }
    return d;
  };
  return [...projects].sort((a, b) => depth(b) - depth(a));
}

/**
 * A (disabled) domain: its projects (leaves first), groups, users, domain role assignments,
 * domain-specific roles, domain configuration and id mappings, then the domain itself.
 */
export async function deleteDomainCascade(db: Db, domainId: string, fx: Effects): Promise<void> {
  const projects = await db.selectFrom('project').selectAll().where('domain_id', '=', domainId).where('is_domain', '=', 0).execute();
  for (const p of leavesFirst(projects)) await deleteProjectCascade(db, p.id, fx);
  for (const g of await db.selectFrom('user_group').select('id').where('domain_id', '=', domainId).execute()) {
    await deleteGroupCascade(db, g.id, fx);
  }
  for (const u of await db.selectFrom('user_account').select('id').where('domain_id', '=', domainId).execute()) {
    await deleteUserCascade(db, u.id, fx);
  }
  await db.deleteFrom('assignment').where('target_id', '=', domainId).where('type', 'in', ['UserDomain', 'GroupDomain']).execute();
  const roles = (await db.selectFrom('role').select('id').where('domain_id', '=', domainId).execute()).map((r) => r.id);
  if (roles.length) {
    await db.deleteFrom('assignment').where('role_id', 'in', roles).execute();
    await db.deleteFrom('implied_role').where((eb) => eb.or([eb('prior_role_id', 'in', roles), eb('implied_role_id', 'in', roles)])).execute();
    await db.deleteFrom('app_credential_role').where('role_id', 'in', roles).execute();
    await db.deleteFrom('trust_role').where('role_id', 'in', roles).execute();
    await db.deleteFrom('role').where('id', 'in', roles).execute();
  }
  await db.deleteFrom('domain_config').where('domain_id', '=', domainId).execute();
  await db.deleteFrom('id_mapping').where('domain_id', '=', domainId).execute();
  await db.deleteFrom('project_tag').where('project_id', '=', domainId).execute();
  await db.deleteFrom('project').where('id', '=', domainId).execute();
  fx.domains.add(domainId);
  fx.notify('identity.domain.deleted', domainId);
}
