import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { forbidden, notFound } from '../../platform/http/faults.js';
import type { ProjectRow } from '../store/schema.js';
import { selfUrl } from './listing.js';
import { Effects } from '../resources/effects.js';
import { entityUrl, projectOptions } from '../resources/entity.js';
import { projectTags, replaceTags } from '../resources/project-store.js';
import { projectPolicyTarget } from '../resources/render.js';
import { checkTag, checkTags } from '../resources/schema.js';

type Params = { project_id: string };
type TagParams = { project_id: string; tag: string };

/** Authorizes a tag route on its project; the 404 comes after enforcement, as in Keystone. */
async function authorized(id: Identity, req: FastifyRequest<{ Params: Params }>, rule: string): Promise<ProjectRow> {
  const { row, target } = await projectPolicyTarget(id, req.params.project_id);
  await id.authorize(req, rule, target);
  if (!row) throw notFound(`Could not find project: ${req.params.project_id}.`);
  return row;
}

function assertTagsMutable(row: ProjectRow, verb: string): void {
  if (projectOptions(row).immutable === true) {
    throw forbidden(`Cannot ${verb} project tags for ${row.id}, project is immutable. Set "immutable" option to false before creating project tags.`);
  }
}

async function saveTags(id: Identity, projectId: string, tags: string[], event?: [string, string]): Promise<void> {
  await id.db.transaction().execute((trx) => replaceTags(trx, projectId, tags));
  const fx = new Effects();
  fx.notify('identity.project.updated', projectId);
  if (event) fx.notify(event[0], event[1]);
  await fx.apply(id);
}

const tagsBody = (req: FastifyRequest, tags: string[]) => ({ links: { self: selfUrl(req) }, tags });

/** /v3/projects/{project_id}/tags and /v3/projects/{project_id}/tags/{tag}. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get<{ Params: Params }>('/v3/projects/:project_id/tags', async (req) => {
    const row = await authorized(id, req, 'identity:list_project_tags');
    return tagsBody(req, await projectTags(id.db, row.id));
  });

  app.put<{ Params: Params }>('/v3/projects/:project_id/tags', async (req) => {
    const row = await authorized(id, req, 'identity:update_project_tags');
    const raw = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>).tags ?? {} : {};
    const tags = checkTags(raw).map((t) => t.trim());
    assertTagsMutable(row, 'update');
    await saveTags(id, row.id, [...new Set(tags)]);
    return tagsBody(req, await projectTags(id.db, row.id));
  });

  app.delete<{ Params: Params }>('/v3/projects/:project_id/tags', async (req, reply: FastifyReply) => {
    const row = await authorized(id, req, 'identity:delete_project_tags');
    assertTagsMutable(row, 'update');
    await saveTags(id, row.id, []);
    reply.status(204).send();
  });

  app.get<{ Params: TagParams }>('/v3/projects/:project_id/tags/:tag', async (req, reply) => {
    const row = await authorized(id, req, 'identity:get_project_tag');
    if (!(await projectTags(id.db, row.id)).includes(req.params.tag)) throw notFound(`Could not find project tag: ${req.params.tag}.`);
    reply.status(204).send();
  });

  app.put<{ Params: TagParams }>('/v3/projects/:project_id/tags/:tag', async (req, reply) => {
    const row = await authorized(id, req, 'identity:create_project_tag');
    const tag = checkTag(req.params.tag);
    const tags = [...(await projectTags(id.db, row.id)), tag];
    checkTags(tags);
    assertTagsMutable(row, 'create');
    await saveTags(id, row.id, tags.map((t) => t.trim()), ['identity.project_tag.created', tag.trim()]);
    reply.status(201).header('location', `${entityUrl(req, 'projects', row.id)}/tags/${encodeURIComponent(tag)}`).send();
  });

  app.delete<{ Params: TagParams }>('/v3/projects/:project_id/tags/:tag', async (req, reply) => {
    const row = await authorized(id, req, 'identity:delete_project_tag');
    assertTagsMutable(row, 'delete');
    const tags = await projectTags(id.db, row.id);
    if (!tags.includes(req.params.tag)) throw notFound(`Could not find project tag: ${req.params.tag}.`);
    await saveTags(id, row.id, tags.filter((t) => t !== req.params.tag), ['identity.project_tag.deleted', req.params.tag]);
    reply.status(204).send();
  });
}
