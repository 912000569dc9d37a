import type { Identity } from '../identity.js';
import { notFound } from '../../platform/http/faults.js';
import { NULL_DOMAIN, type RoleRow } from '../store/schema.js';
import { bool, parseJsonObject } from '../util.js';
import { findLdapGroup, findLdapUser } from '../ldap/api.js';

/** The attributes of a user, group, project or domain that policy targets and names need. */
export interface EntityRef {
  readonly id: string;
  readonly name: string;
  readonly domain_id: string;
  readonly [key: string]: unknown;
}

/** A user by id (SQL users, then users of LDAP-backed domains by their public id); undefined when absent. */
export async function findUser(id: Identity, userId: string): Promise<EntityRef | undefined> {
  const u = await id.db.selectFrom('user_account').select(['id', 'name', 'domain_id', 'enabled', 'default_project_id'])
    .where('id', '=', userId).executeTakeFirst();
  if (u) return { id: u.id, name: u.name, domain_id: u.domain_id, enabled: bool(u.enabled), default_project_id: u.default_project_id };
  return findLdapUser(id, userId) as Promise<EntityRef | undefined>;
}

/** A group by id (SQL groups, then groups of LDAP-backed domains); undefined when absent. */
export async function findGroup(id: Identity, groupId: string): Promise<EntityRef | undefined> {
  const g = await id.db.selectFrom('user_group').select(['id', 'name', 'domain_id', 'description'])
    .where('id', '=', groupId).executeTakeFirst();
  if (g) return { id: g.id, name: g.name, domain_id: g.domain_id, description: g.description };
  return findLdapGroup(id, groupId) as Promise<EntityRef | undefined>;
}

/**
 * A project by id. As Keystone's get_project, a domain's row is found too (domains are projects
 * acting as domains); `is_domain` tells them apart.
 */
export async function findProject(id: Identity, projectId: string): Promise<(EntityRef & { is_domain: boolean; parent_id: string | null; enabled: boolean }) | undefined> {
  const p = await id.db.selectFrom('project').select(['id', 'name', 'domain_id', 'parent_id', 'is_domain', 'enabled'])
    .where('id', '=', projectId).executeTakeFirst();
  if (!p) return undefined;
  return { id: p.id, name: p.name, domain_id: p.domain_id, parent_id: p.parent_id, is_domain: bool(p.is_domain), enabled: bool(p.enabled) };
}

/** A domain by id; undefined when absent (or when the id is a plain project's). */
export async function findDomain(id: Identity, domainId: string): Promise<{ id: string; name: string; enabled: boolean } | undefined> {
  const d = await id.db.selectFrom('project').select(['id', 'name', 'enabled'])
    .where('id', '=', domainId).where('is_domain', '=', 1).executeTakeFirst();
  return d ? { id: d.id, name: d.name, enabled: bool(d.enabled) } : undefined;
}

/** A role row by id; undefined when absent. */
export async function findRole(id: Identity, roleId: string): Promise<RoleRow | undefined> {
  return id.db.selectFrom('role').selectAll().where('id', '=', roleId).executeTakeFirst();
}

/** Keystone's 404 messages for missing entities. */
export const userNotFound = (userId: string) => notFound(`Could not find user: ${userId}.`);
export const groupNotFound = (groupId: string) => notFound(`Could not find group: ${groupId}.`);
export const projectNotFound = (projectId: string) => notFound(`Could not find project: ${projectId}.`);
export const domainNotFound = (domainId: string) => notFound(`Could not find domain: ${domainId}.`);
export const roleNotFound = (roleId: string) => notFound(`Could not find role: ${roleId}.`);

export async function requireUser(id: Identity, userId: string): Promise<EntityRef> {
  const u = await findUser(id, userId);
  if (!u) throw userNotFound(userId);
  return u;
}
export async function requireGroup(id: Identity, groupId: string): Promise<EntityRef> {
  const g = await findGroup(id, groupId);
  if (!g) throw groupNotFound(groupId);
  return g;
}
export async function requireProject(id: Identity, projectId: string): Promise<NonNullable<Awaited<ReturnType<typeof findProject>>>> {
  const p = await findProject(id, projectId);
  if (!p) throw projectNotFound(projectId);
  return p;
}
export async function requireDomain(id: Identity, domainId: string): Promise<{ id: string; name: string; enabled: boolean }> {
  const d = await findDomain(id, domainId);
  if (!d) throw domainNotFound(domainId);
  return d;
}
export async function requireRole(id: Identity, roleId: string): Promise<RoleRow> {
  const r = await findRole(id, roleId);
  if (!r) throw roleNotFound(roleId);
  return r;
}

/** A role's domain as the API shows it: null for global roles. */
export const roleDomainId = (row: Pick<RoleRow, 'domain_id'>): string | null => (row.domain_id === NULL_DOMAIN ? null : row.domain_id);

/** The role as Keystone's role API returns it (`links.self` under `base`, e.g. http://host/v3). */
export function renderRole(row: RoleRow, base: string): Record<string, unknown> {
  return {
    ...parseJsonObject(row.extra),
    id: row.id,
    name: row.name,
    domain_id: roleDomainId(row),
    description: row.description,
    options: parseJsonObject(row.options),
    links: { self: `${base}/roles/${row.id}` },
  };
}

/** The role as policy targets see it (Keystone's role dict: domain_id null for global roles). */
export function roleTarget(row: RoleRow): Record<string, unknown> {
  return { id: row.id, name: row.name, domain_id: roleDomainId(row), description: row.description, options: parseJsonObject(row.options) };
}
