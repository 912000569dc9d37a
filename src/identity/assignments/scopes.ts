import type { Identity } from '../identity.js';
import type { ProjectRow } from '../store/schema.js';
import { bool } from '../util.js';
import { domainRef, projectRef } from '../resources/entity.js';
import { listRoleAssignments } from './list.js';
import { listSystemGrants } from './grants.js';

/** Project rows by id with their tags. */
async function projectsWithTags(id: Identity, ids: string[]): Promise<{ row: ProjectRow; tags: string[] }[]> {
  if (!ids.length) return [];
  const rows = await id.db.selectFrom('project').selectAll().where('id', 'in', ids).execute();
  const tags = await id.db.selectFrom('project_tag').selectAll().where('project_id', 'in', ids).execute();
  return rows.map((row) => ({ row, tags: tags.filter((t) => t.project_id === row.id).map((t) => t.name) }));
}

/** A project as the project API shows it. */
const renderProject = (row: ProjectRow, tags: string[], base: string) => ({ ...projectRef(row, tags), links: { self: `${base}/projects/${row.id}` } });
/** A domain as the domain API shows it. */
const renderDomain = (row: ProjectRow, tags: string[], base: string) => ({ ...domainRef(row, tags), links: { self: `${base}/domains/${row.id}` } });

/**
 * The projects a user may scope a token to (GET /v3/auth/projects): those of its effective role
 * assignments — direct, through groups or inherited — whatever their state, as in Keystone.
 */
export async function projectsForUser(id: Identity, userId: string, base: string): Promise<Record<string, unknown>[]> {
  const refs = await listRoleAssignments(id, { user_id: userId, effective: true });
  const ids = [...new Set(refs.map((r) => r.project_id).filter((p): p is string => !!p))];
  return (await projectsWithTags(id, ids)).map(({ row, tags }) => renderProject(row, tags, base));
}

/** The domains a user may scope a token to (GET /v3/auth/domains). */
export async function domainsForUser(id: Identity, userId: string, base: string): Promise<Record<string, unknown>[]> {
  const refs = await listRoleAssignments(id, { user_id: userId, effective: true });
  const ids = [...new Set(refs.map((r) => r.domain_id).filter((d): d is string => !!d))];
  return (await projectsWithTags(id, ids)).filter(({ row }) => bool(row.is_domain)).map(({ row, tags }) => renderDomain(row, tags, base));
}

/** True when the user holds a role on the system directly (Keystone's GET /v3/auth/system ignores groups). */
export async function hasSystemRole(id: Identity, userId: string): Promise<boolean> {
  return (await listSystemGrants(id, { user: userId })).length > 0;
}
