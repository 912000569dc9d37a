/** Reading projects and domains (rows of `project`) and their tags and hierarchy. */
import type { Kysely } from 'kysely';
import { DOMAIN_ROOT, type IdentityDB, type ProjectRow } from '../store/schema.js';
import { bool } from '../util.js';

type Db = Kysely<IdentityDB>;

/** A project or domain row by id (never the hidden root). */
export async function loadProject(db: Db, projectId: string): Promise<ProjectRow | undefined> {
  if (projectId === DOMAIN_ROOT) return undefined;
  return db.selectFrom('project').selectAll().where('id', '=', projectId).executeTakeFirst();
}

/** A domain row by id: undefined when absent or a regular project. */
export async function loadDomain(db: Db, domainId: string): Promise<ProjectRow | undefined> {
  const row = await loadProject(db, domainId);
  return row && bool(row.is_domain) ? row : undefined;
}

/** Tags of each given project, in insertion order as stored. */
export async function tagsOf(db: Db, projectIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < projectIds.length; i += 500) {
    const chunk = projectIds.slice(i, i + 500);
    if (!chunk.length) continue;
    const rows = await db.selectFrom('project_tag').select(['project_id', 'name']).where('project_id', 'in', chunk).execute();
    for (const r of rows) out.set(r.project_id, [...(out.get(r.project_id) ?? []), r.name]);
  }
  return out;
}

/** Tags of one project. */
export async function projectTags(db: Db, projectId: string): Promise<string[]> {
  return (await tagsOf(db, [projectId])).get(projectId) ?? [];
}

/** Replaces a project's tags (duplicates collapse, as whitespace-stripping can create them). */
export async function replaceTags(db: Db, projectId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  const unique = [...new Set(tags)];
  if (unique.length) await db.insertInto('project_tag').values(unique.map((name) => ({ project_id: projectId, name }))).execute();
}

/** The ancestors of a project, nearest first, up to and including its domain (Keystone's `list_project_parents`). */
export async function ancestorsOf(db: Db, row: ProjectRow): Promise<ProjectRow[]> {
  const out: ProjectRow[] = [];
  const seen = new Set([row.id]);
  let parentId = row.parent_id;
  while (parentId && !seen.has(parentId)) {
    const parent = await loadProject(db, parentId);
    if (!parent) break;
    out.push(parent);
    seen.add(parent.id);
    parentId = parent.parent_id;
  }
  return out;
}

/** All descendants of a project, breadth first (Keystone's `list_projects_in_subtree`). */
export async function subtreeOf(db: Db, projectId: string): Promise<ProjectRow[]> {
  const out: ProjectRow[] = [];
  const seen = new Set([projectId]);
  let frontier = [projectId];
  while (frontier.length) {
    const children: ProjectRow[] = [];
    for (let i = 0; i < frontier.length; i += 500) {
      const rows = await db.selectFrom('project').selectAll().where('parent_id', 'in', frontier.slice(i, i + 500)).execute();
      for (const r of rows) if (!seen.has(r.id)) { seen.add(r.id); children.push(r); }
    }
    out.push(...children);
    frontier = children.map((c) => c.id);
  }
  return out;
}

/** True when no project has this one as parent. */
export async function isLeaf(db: Db, projectId: string): Promise<boolean> {
  const child = await db.selectFrom('project').select('id').where('parent_id', '=', projectId).limit(1).executeTakeFirst();
  return !child;
}
