import type { Identity } from '../identity.js';
import { ldapMemberIdsOf } from '../ldap/auth.js';

/** Ids of every project below `projectId` (children, grandchildren, …), domains excluded. */
export async function projectSubtree(id: Identity, projectId: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>([projectId]);
  let frontier = [projectId];
  while (frontier.length) {
    const rows = await id.db.selectFrom('project').select('id').where('parent_id', 'in', frontier).where('is_domain', '=', 0).execute();
    frontier = [];
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(r.id);
      frontier.push(r.id);
    }
  }
  return out;
}

/** Ids of every project of a domain (the domain itself excluded). */
export async function projectsInDomain(id: Identity, domainId: string): Promise<string[]> {
  const rows = await id.db.selectFrom('project').select('id').where('domain_id', '=', domainId).where('is_domain', '=', 0).execute();
  return rows.map((r) => r.id);
}

/** Ids of a group's members (an LDAP group's from the directory). */
export async function groupMemberIds(id: Identity, groupId: string): Promise<string[]> {
  const rows = await id.db.selectFrom('group_membership').select('user_id').where('group_id', '=', groupId).execute();
  return rows.length ? rows.map((r) => r.user_id) : ldapMemberIdsOf(id, groupId);
}
