import type { IdentityHarness } from '../lib/identity-harness.js';
import { NULL_DOMAIN } from '../../src/identity/store/schema.js';
import { isoTime, newId } from '../../src/identity/util.js';

/**
 * Test fixtures for the delegation tests (credentials, application credentials, trusts), written
 * straight into the identity database so that these tests do not depend on the users, projects
 * and roles APIs.
 */

/** Creates an enabled user in the Default domain with a password; returns its id. */
export async function makeUser(h: IdentityHarness, name: string, password: string, opts: { enabled?: boolean } = {}): Promise<string> {
  const uid = newId();
  await h.id.db.insertInto('user_account').values({
    id: uid, domain_id: 'default', name, enabled: opts.enabled === false ? 0 : 1, default_project_id: null, description: null, email: null,
    extra: '{}', options: '{}', created_at: isoTime(), last_active_at: null, failed_auth_count: 0, failed_auth_at: null,
  }).execute();
  await h.id.db.insertInto('user_password').values({
    id: newId(), user_id: uid, hash: await h.id.hashPassword(password), created_at: isoTime(), expires_at: null, self_service: 0,
  }).execute();
  h.id.changed();
  return uid;
}

/** Creates a project in the Default domain; returns its id. */
export async function makeProject(h: IdentityHarness, name: string): Promise<string> {
  const pid = newId();
  await h.id.db.insertInto('project').values({
    id: pid, name, domain_id: 'default', description: '', enabled: 1, parent_id: 'default', is_domain: 0, extra: '{}', created_at: isoTime(),
  }).execute();
  h.id.changed();
  return pid;
}

/** Creates a global role; returns its id. */
export async function makeRole(h: IdentityHarness, name: string): Promise<string> {
  const rid = newId();
  await h.id.db.insertInto('role').values({ id: rid, name, domain_id: NULL_DOMAIN, description: null, options: '{}', extra: '{}' }).execute();
  h.id.changed();
  return rid;
}

/** The id of a global role by name (e.g. the bootstrap's admin/member/reader). */
export async function roleId(h: IdentityHarness, name: string): Promise<string> {
  const r = await h.id.db.selectFrom('role').select('id').where('name', '=', name).where('domain_id', '=', NULL_DOMAIN).executeTakeFirstOrThrow();
  return r.id;
}

/** Grants a role to a user on a project. */
export async function grant(h: IdentityHarness, userId: string, projectId: string, role: string): Promise<void> {
  await h.id.db.insertInto('assignment').values({ type: 'UserProject', actor_id: userId, target_id: projectId, role_id: role, inherited: 0 }).execute();
  h.id.changed();
}

/** Removes a role assignment of a user on a project. */
export async function revokeGrant(h: IdentityHarness, userId: string, projectId: string, role: string): Promise<void> {
  await h.id.db.deleteFrom('assignment').where('type', '=', 'UserProject').where('actor_id', '=', userId)
    .where('target_id', '=', projectId).where('role_id', '=', role).execute();
  h.id.changed();
}

/** Marks a role as implying another. */
export async function imply(h: IdentityHarness, prior: string, implied: string): Promise<void> {
  await h.id.db.insertInto('implied_role').values({ prior_role_id: prior, implied_role_id: implied }).execute();
  h.id.changed();
}

/** A user with a member role on a fresh project, and a project-scoped token for them. */
export async function memberOnProject(h: IdentityHarness, name: string): Promise<{ userId: string; projectId: string; password: string; token: string }> {
  const password = `${name}-pw`;
  const userId = await makeUser(h, name, password);
  const projectId = await makeProject(h, `${name}-project`);
  await grant(h, userId, projectId, await roleId(h, 'member'));
  const token = await h.tokenFor(name, password, { projectId });
  return { userId, projectId, password, token };
}
