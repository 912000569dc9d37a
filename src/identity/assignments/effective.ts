import type { Identity } from '../identity.js';
import { NULL_DOMAIN } from '../store/schema.js';
import { ldapGroupIdsOf } from '../ldap/auth.js';

/** A token's scope target for role computation. */
export type RoleScope = { project: string } | { domain: string } | { system: 'all' };

interface Cached { gen: number; at: number; value: unknown }
const cache = new WeakMap<Identity, Map<string, Cached>>();

/** Memoises `compute` per identity instance until the next write (generation) or the cache TTL. */
export async function memo<T>(id: Identity, key: string, compute: () => Promise<T>): Promise<T> {
  let m = cache.get(id);
  if (!m) { m = new Map(); cache.set(id, m); }
  const hit = m.get(key);
  const now = Date.now();
  if (hit && hit.gen === id.generation && now - hit.at < id.config.identity.cache_ttl_ms) return hit.value as T;
  const value = await compute();
  if (m.size > 50_000) m.clear();
  m.set(key, { gen: id.generation, at: now, value });
  return value;
}

/** The ids of a project's ancestors, nearest first (domains excluded). */
export async function projectAncestors(id: Identity, projectId: string): Promise<string[]> {
  const out: string[] = [];
  let cur = await id.db.selectFrom('project').select(['parent_id', 'is_domain']).where('id', '=', projectId).executeTakeFirst();
  for (let depth = 0; cur?.parent_id && depth < 64; depth++) {
    const parent = await id.db.selectFrom('project').select(['id', 'parent_id', 'is_domain']).where('id', '=', cur.parent_id).executeTakeFirst();
    if (!parent || parent.is_domain) break;
    out.push(parent.id);
    cur = parent;
  }
  return out;
}

/** Group ids a user belongs to: SQL memberships, and directory groups for a user of an LDAP-backed domain. */
export async function userGroupIds(id: Identity, userId: string): Promise<string[]> {
  const rows = await id.db.selectFrom('group_membership').select('group_id').where('user_id', '=', userId).execute();
  return [...rows.map((r) => r.group_id), ...(await ldapGroupIdsOf(id, userId))];
}

/**
 * Expands role ids through implied-role rules (transitively, cycle-safe). Keystone leaves
 * domain-specific roles out of tokens — only the global roles they imply — so `forToken` drops them.
 */
export async function expandImplied(id: Identity, roleIds: Iterable<string>, forToken: boolean): Promise<{ id: string; name: string; domain_id: string }[]> {
  const rules = await memo(id, 'implied-rules', async () => {
    const rows = await id.db.selectFrom('implied_role').selectAll().execute();
    const m = new Map<string, string[]>();
    for (const r of rows) m.set(r.prior_role_id, [...(m.get(r.prior_role_id) ?? []), r.implied_role_id]);
    return m;
  });
  const seen = new Set<string>();
  const stack = [...roleIds];
  while (stack.length) {
    const r = stack.pop()!;
    if (seen.has(r)) continue;
    seen.add(r);
    for (const next of rules.get(r) ?? []) stack.push(next);
  }
  if (seen.size === 0) return [];
  const roles = await id.db.selectFrom('role').select(['id', 'name', 'domain_id']).where('id', 'in', [...seen]).execute();
  return roles.filter((r) => !forToken || r.domain_id === NULL_DOMAIN).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Role ids directly or indirectly assigned to a user on a scope, before implied-role expansion:
 * user and group assignments, inherited assignments from the project's domain and ancestors.
 */
export async function assignedRoleIds(id: Identity, userId: string, scope: RoleScope): Promise<Set<string>> {
  const actors = [userId, ...(await userGroupIds(id, userId))];
  const ids = new Set<string>();
  const add = (rows: { role_id: string }[]) => rows.forEach((r) => ids.add(r.role_id));
  if ('system' in scope) {
    add(await id.db.selectFrom('assignment').select('role_id')
      .where('type', 'in', ['UserSystem', 'GroupSystem']).where('actor_id', 'in', actors).execute());
  } else if ('domain' in scope) {
    add(await id.db.selectFrom('assignment').select('role_id')
      .where('type', 'in', ['UserDomain', 'GroupDomain']).where('actor_id', 'in', actors)
      .where('target_id', '=', scope.domain).where('inherited', '=', 0).execute());
  } else {
    const project = await id.db.selectFrom('project').select(['domain_id']).where('id', '=', scope.project).executeTakeFirst();
    if (!project) return ids;
    add(await id.db.selectFrom('assignment').select('role_id')
      .where('type', 'in', ['UserProject', 'GroupProject']).where('actor_id', 'in', actors)
      .where('target_id', '=', scope.project).where('inherited', '=', 0).execute());
    const ancestors = await projectAncestors(id, scope.project);
    if (ancestors.length) {
      add(await id.db.selectFrom('assignment').select('role_id')
        .where('type', 'in', ['UserProject', 'GroupProject']).where('actor_id', 'in', actors)
        .where('target_id', 'in', ancestors).where('inherited', '=', 1).execute());
    }
    add(await id.db.selectFrom('assignment').select('role_id')
      .where('type', 'in', ['UserDomain', 'GroupDomain']).where('actor_id', 'in', actors)
      .where('target_id', '=', project.domain_id).where('inherited', '=', 1).execute());
  }
  return ids;
}

/** The effective roles a token for this user and scope carries (cached until the next write). */
export function effectiveRoles(id: Identity, userId: string, scope: RoleScope): Promise<{ id: string; name: string }[]> {
  const key = `roles:${userId}:${JSON.stringify(scope)}`;
  return memo(id, key, async () => (await expandImplied(id, await assignedRoleIds(id, userId, scope), true)).map(({ id: rid, name }) => ({ id: rid, name })));
}
