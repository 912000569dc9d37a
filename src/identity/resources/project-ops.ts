/**
 * Creating, updating and deleting projects with Keystone's hierarchy rules (keystone/resource/core.py):
 * the parent must be in the same domain, the whole branch enabled and within the depth limit;
 * `parent_id` and `is_domain` never change; only leaves can be deleted.
 */
import { badRequest, forbidden } from '../../platform/http/faults.js';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import type { ProjectRow } from '../store/schema.js';
import { bool, int, isoTime, newId } from '../util.js';
import { deleteProjectCascade } from './cascade.js';
import { storeOrConflict } from './conflict.js';
import { assertMutable, assertNotFederated, createDomain, deleteDomain } from './domain-ops.js';
import { Effects } from './effects.js';
import { projectExtra, projectExtraText, projectOptions } from './entity.js';
import { ancestorsOf, isLeaf, loadDomain, loadProject, replaceTags, subtreeOf } from './project-store.js';
import { defaultDomainFor } from './query.js';
import { mergeOptions } from './schema.js';

/** Keystone's default `max_project_tree_depth` (projects below the domain). */
export const DEFAULT_MAX_PROJECT_TREE_DEPTH = 5;

/** The configured maximum project depth (`[identity] max_project_tree_depth` when the config has it). */
export function maxProjectDepth(id: Identity): number {
  const v = (id.config.identity as Record<string, unknown>).max_project_tree_depth;
  return typeof v === 'number' && v > 0 ? v : DEFAULT_MAX_PROJECT_TREE_DEPTH;
}

/** Validated attributes of a new project. */
export interface NewProject {
  name: string; description: string | null | undefined; enabled: boolean | undefined; isDomain: boolean;
  domainId: string | null | undefined; parentId: string | null | undefined; tags: string[] | undefined;
  options: Record<string, unknown> | undefined; extra: Record<string, unknown>;
}

const conflictDetail = (name: string, projectId: string) =>
  `it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id ${projectId}`;

/** Creates a project (or, with is_domain, a domain) as POST /v3/projects does. */
export async function createProject(id: Identity, ctx: TokenContext, p: NewProject): Promise<ProjectRow> {
  const projectId = newId();
  if (p.isDomain) {
    if (p.parentId || p.domainId) throw badRequest('only root projects are allowed to act as domains.');
    assertNotFederated(projectId, p.name);
    return createDomain(id, {
      id: projectId, name: p.name, description: p.description, enabled: p.enabled, tags: p.tags, options: p.options, extra: p.extra,
    });
  }
  const domainId = p.domainId || defaultDomainFor(ctx);
  const parentId = p.parentId || domainId;
  const domain = await loadDomain(id.db, domainId);
  if (!domain) throw badRequest(`Could not find domain: ${domainId}.`);
  const parent = await loadProject(id.db, parentId);
  if (!parent) throw badRequest(`Could not find project: ${parentId}.`);
  if (bool(parent.is_domain) && parent.id !== domain.id) {
    throw badRequest(`Cannot create project, the parent (${parent.id}) is acting as a domain, but this project's domain id (${domain.id}) does not match the parent's id.`);
  }
  if (!bool(parent.is_domain) && parent.domain_id !== domain.id) {
    throw badRequest(`Cannot create project, since it specifies its domain_id ${domain.id}, but specifies a parent in a different domain (${parent.domain_id}).`);
  }
  const branch = [...(await ancestorsOf(id.db, parent)), parent];
  const disabled = branch.find((r) => !bool(r.enabled));
  if (disabled) throw badRequest(`cannot create a project in a branch containing a disabled project: ${disabled.id}`);
  // Keystone counts the domain as a level and allows one more for it.
  if (branch.length + 1 > maxProjectDepth(id) + 1) throw forbidden(`Max hierarchy depth reached for ${parent.id} branch.`);
  const row: ProjectRow = {
    id: projectId, name: p.name.trim(), domain_id: domain.id, description: p.description ?? '', enabled: int(p.enabled ?? true),
    parent_id: parent.id, is_domain: 0, extra: projectExtraText(p.extra, mergeOptions({}, p.options ?? {})), created_at: isoTime(),
  };
  await storeOrConflict('project', conflictDetail(row.name, row.id), () => id.db.transaction().execute(async (trx) => {
    await trx.insertInto('project').values(row).execute();
    if (p.tags?.length) await replaceTags(trx, row.id, p.tags.map((t) => t.trim()));
  }));
  const fx = new Effects();
  fx.notify('identity.project.created', row.id);
  await fx.apply(id);
  return row;
}

/** The validated changes of PATCH /v3/projects/{id}; `raw` is the request's project object. */
export interface ProjectChanges {
  name?: string; description?: string | null; enabled?: boolean; isDomain?: boolean; domainId?: string | null;
  parentId?: string | null; tags?: string[]; options?: Record<string, unknown>; extra: Record<string, unknown>;
  raw: Record<string, unknown>;
}

/** Updates a project (or a domain through the projects API) with Keystone's rules. */
export async function updateProject(id: Identity, row: ProjectRow, c: ProjectChanges): Promise<ProjectRow> {
  const isDomain = bool(row.is_domain);
  const originalDomainId = isDomain ? null : row.domain_id;
  if ('domain_id' in c.raw && c.domainId !== originalDomainId) throw badRequest('Cannot change Domain ID');
  assertMutable(row, c.raw, isDomain ? 'domain' : 'project');
  if (isDomain) assertNotFederated(row.id, c.name);
  if ('parent_id' in c.raw && c.parentId !== row.parent_id) throw forbidden('Update of `parent_id` is not allowed.');
  if ('is_domain' in c.raw && c.isDomain !== isDomain) throw badRequest('Update of `is_domain` is not allowed.');
  const wasEnabled = bool(row.enabled);
  // Keystone reads a missing `enabled` as true for these checks.
  const willBeEnabled = c.enabled ?? true;
  if (!wasEnabled && willBeEnabled) {
    const parents = await ancestorsOf(id.db, row);
    if (parents.some((p) => !bool(p.enabled))) throw forbidden(`Cannot enable project ${row.id} since it has disabled parents`);
  }
  const disabling = wasEnabled && c.enabled === false;
  if (disabling && !isDomain && (await subtreeOf(id.db, row.id)).some((p) => bool(p.enabled))) {
    throw forbidden(`Cannot disable project ${row.id} since its subtree contains enabled projects.`);
  }
  const name = c.name !== undefined ? c.name.trim() : row.name;
  const extra = { ...projectExtra(row), ...c.extra };
  const options = c.options ? mergeOptions(projectOptions(row), c.options) : projectOptions(row);
  const detail = isDomain ? `it is not permitted to have two projects acting as domains with the same name: ${name}` : conflictDetail(name, row.id);
  await storeOrConflict('project', detail, () => id.db.transaction().execute(async (trx) => {
    await trx.updateTable('project').set({
      name, description: c.description === undefined ? row.description : c.description ?? '',
      enabled: int(c.enabled ?? wasEnabled), extra: projectExtraText(extra, options),
    }).where('id', '=', row.id).execute();
    if (c.tags) await replaceTags(trx, row.id, c.tags.map((t) => t.trim()));
  }));
  const fx = new Effects();
  fx.notify('identity.project.updated', row.id);
  if (isDomain) fx.notify('identity.domain.updated', row.id);
  if (disabling) {
    if (isDomain) fx.domains.add(row.id);
    else fx.projects.add(row.id);
    fx.notify(isDomain ? 'identity.domain.disabled' : 'identity.project.disabled', row.id);
  }
  await fx.apply(id);
  return (await loadProject(id.db, row.id))!;
}

/** Deletes a project as DELETE /v3/projects/{id} does (a domain when it acts as one). */
export async function deleteProject(id: Identity, row: ProjectRow): Promise<void> {
  if (bool(row.is_domain)) return deleteDomain(id, row);
  if (projectOptions(row).immutable === true) {
    throw forbidden(`Unable to delete immutable project resource: \`${row.id}. Set resource option "immutable" to false first.`);
  }
  if (!(await isLeaf(id.db, row.id))) {
    throw forbidden(`Cannot delete the project ${row.id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
  }
  const fx = new Effects();
  await id.db.transaction().execute((trx) => deleteProjectCascade(trx, row.id, fx));
  await fx.apply(id);
}
