/**
 * The tags extension on every taggable collection: `/v2.0/<collection>/<id>/tags` (GET, PUT to
 * replace, DELETE all) and `/tags/<tag>` (GET to check, PUT to add, DELETE to remove).
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, forbidden } from '../../platform/http/faults.js';
import type { NetworkContext } from '../context.js';
import { tagsCheck } from '../resource/body.js';
import { callerOf, collectionPath, loadVisible, type ResourceBehaviour } from '../resource/routes.js';
import { saveObj } from '../resource/store.js';
import { transact } from '../resource/tx.js';
import { notFoundOf } from '../faults.js';
import type { Obj } from '../resource/types.js';

const MAX_TAGS = 50;

export function registerTags(app: FastifyInstance, ctx: NetworkContext, b: ResourceBehaviour): void {
  const base = `/v2.0/${collectionPath(b.def)}/:id/tags`;
  const load = async (req: Parameters<typeof callerOf>[1], write: boolean): Promise<Obj> => {
    const caller = callerOf(ctx, req);
    const obj = await loadVisible(ctx, b, (req.params as { id: string }).id, caller);
    if (write && !caller.isAdmin && obj.project_id !== caller.projectId) throw forbidden(`(rule:update_${b.def.member}:tags) is disallowed by policy`);
    return obj;
  };
  const save = async (obj: Obj, tags: string[]): Promise<void> => {
    if (tags.length > MAX_TAGS) throw badRequest(`Invalid input for operation: The number of tags exceeds the maximum ${MAX_TAGS}.`);
    await transact(ctx, (tx) => saveObj(tx, b.def, { ...obj, tags: [...tags].sort() }));
  };
  app.get(base, async (req) => ({ tags: ((await load(req, false)).tags as string[]) ?? [] }));
  app.put(base, async (req) => {
    const obj = await load(req, true);
    const body = req.body as { tags?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !('tags' in body)) throw badRequest('Invalid input for tags. Reason: tags must be given.');
    const tags = [...new Set(tagsCheck(body.tags, 'tags'))];
    await save(obj, tags);
    return { tags: tags.sort() };
  });
  app.delete(base, async (req, reply) => {
    const obj = await load(req, true);
    await save(obj, []);
    reply.status(204).send();
  });
  app.get(`${base}/:tag`, async (req, reply) => {
    const obj = await load(req, false);
    const tag = (req.params as { tag: string }).tag;
    if (!((obj.tags as string[]) ?? []).includes(tag)) throw notFoundOf('TagNotFound', `Tag ${tag} could not be found for ${b.def.member} ${obj.id}.`);
    reply.status(204).send();
  });
  app.put(`${base}/:tag`, async (req, reply) => {
    const obj = await load(req, true);
    const tag = tagsCheck([(req.params as { tag: string }).tag], 'tags')[0]!;
    const tags = (obj.tags as string[]) ?? [];
    if (!tags.includes(tag)) await save(obj, [...tags, tag]);
    reply.status(201).send();
  });
  app.delete(`${base}/:tag`, async (req, reply) => {
    const obj = await load(req, true);
    const tag = (req.params as { tag: string }).tag;
    const tags = (obj.tags as string[]) ?? [];
    if (!tags.includes(tag)) throw notFoundOf('TagNotFound', `Tag ${tag} could not be found for ${b.def.member} ${obj.id}.`);
    await save(obj, tags.filter((t) => t !== tag));
    reply.status(204).send();
  });
}
