import type { FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { memo } from '../assignments/effective.js';
import type { ProjectRow } from '../store/schema.js';
import { projectRef, withLink } from './entity.js';
import { policyTarget } from './policy-target.js';
import { loadProject, projectTags, tagsOf } from './project-store.js';

/** Renders project rows (with their tags and self links) for a response. */
export async function renderProjects(id: Identity, req: FastifyRequest, rows: ProjectRow[]): Promise<Record<string, unknown>[]> {
  const ids = rows.map((r) => r.id);
  const tags = await memo(id, `project-tags:${ids.join(',')}`, () => tagsOf(id.db, ids));
  return rows.map((r) => withLink(req, 'projects', projectRef(r, tags.get(r.id) ?? [])));
}

/**
 * The policy target of a /v3/projects/{project_id}… route: the project when it exists (Keystone
 * defers the 404 until after enforcement) and the view argument.
 */
export async function projectPolicyTarget(id: Identity, projectId: string): Promise<{ row?: ProjectRow; target: Record<string, unknown> }> {
  const row = await loadProject(id.db, projectId);
  const target = row ? { project: projectRef(row, await projectTags(id.db, row.id)) } : {};
  return { row, target: policyTarget({ view: { project_id: projectId }, target }) };
}
