import type { Identity } from '../identity.js';
import type { ProjectRow } from '../store/schema.js';
import { userGroupIds } from '../assignments/effective.js';
import { subtreeOf } from './project-store.js';

/**
 * The projects on which a user has any effective role assignment (Keystone's
 * `list_projects_for_user`): direct and group assignments on the project, assignments
 * inherited from an ancestor project (to its subtree) or from the domain (to all its projects).
 * Disabled projects are included, as in Keystone.
 */
export async function projectsForUser(id: Identity, userId: string): Promise<ProjectRow[]> {
  const actors = [userId, ...(await userGroupIds(id, userId))];
  const rows = await id.db.selectFrom('assignment').select(['type', 'target_id', 'inherited'])
    .where('actor_id', 'in', actors).where('type', 'in', ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain']).execute();
  const ids = new Set<string>();
  const viaDomains = new Set<string>();
  for (const r of rows) {
    const onProject = r.type.endsWith('Project');
    if (onProject && !r.inherited) ids.add(r.target_id);
    else if (onProject) for (const p of await subtreeOf(id.db, r.target_id)) ids.add(p.id);
    else if (r.inherited) viaDomains.add(r.target_id);
  }
  const out = new Map<string, ProjectRow>();
  if (viaDomains.size) {
    const inDomains = await id.db.selectFrom('project').selectAll().where('domain_id', 'in', [...viaDomains]).where('is_domain', '=', 0).execute();
    for (const p of inDomains) out.set(p.id, p);
  }
  const missing = [...ids].filter((p) => !out.has(p));
  for (let i = 0; i < missing.length; i += 500) {
    const found = await id.db.selectFrom('project').selectAll().where('id', 'in', missing.slice(i, i + 500)).where('is_domain', '=', 0).execute();
    for (const p of found) out.set(p.id, p);
  }
  return [...out.values()];
}
