/**
 * Server tags (2.26): `/servers/{id}/tags` — list, replace all, delete all — and
 * `/servers/{id}/tags/{tag}` — add one (201, or 204 when present), check (204/404), delete one.
 * A tag is 1–60 characters without ',' or '/'; a server has at most 50. Changes need the server
 * ACTIVE, PAUSED, SUSPENDED or SHUTOFF (Nova's 409 otherwise). Tags live in the instance body.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { ComputeRoutes } from '../api/http.js';
import { atLeast, params, selfLinks } from '../api/http.js';
import { badRequest, conflict, notFound } from '../faults.js';
import { validateBody, type Schema } from '../api/schema.js';
import { nowIso } from '../store/db.js';
import type { ComputeContext } from '../context.js';
import type { ServersDB } from './schema.js';
import { getInstance, InstanceGone, type Instance, type InstanceBody } from './store.js';
import { serversDb, visibleInstance } from './api.js';
import { VM } from './states.js';

export const MAX_TAGS = 50;
const TAG: Schema = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
const UPDATE_ALL: Schema = {
  type: 'object', properties: { tags: { type: 'array', items: TAG, maxItems: MAX_TAGS } }, required: ['tags'], additionalProperties: false,
};
/** States in which a server's tags may change (Nova's _check_instance_in_valid_state). */
const TAGGABLE: readonly string[] = [VM.active, VM.paused, VM.suspended, VM.stopped];

/** Nova's 400 for a tag in the URL that is not a valid tag. */
function checkTag(tag: string): void {
  try {
    validateBody(TAG, tag);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw badRequest(`Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${why}`);
  }
}

/**
 * Changes an instance's tags with `change` (given the current ones; undefined: no write),
 * retried when another write to the instance came in between. Returns the tags written, or
 * the current ones when nothing changed.
 */
async function changeTags(db: Kysely<ServersDB>, uuid: string, action: string, change: (tags: readonly string[]) => string[] | undefined): Promise<string[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const inst = await getInstance(db, uuid);
    if (!inst) throw new InstanceGone(uuid);
    if (!TAGGABLE.includes(inst.vm_state)) throw conflict(`Cannot '${action}' instance ${uuid} while it is in vm_state ${inst.vm_state}`);
    const next = change(inst.body.tags);
    if (!next) return [...inst.body.tags];
    const cur = await db.selectFrom('compute_instance').select(['id', 'body', 'updated_at']).where('uuid', '=', uuid).where('deleted', '=', 0).executeTakeFirst();
    if (!cur) throw new InstanceGone(uuid);
    if (cur.updated_at !== inst.updated_at) continue;
    const body: InstanceBody = { ...(JSON.parse(cur.body) as InstanceBody), tags: next };
    let q = db.updateTable('compute_instance').set({ body: JSON.stringify(body), updated_at: nowIso() }).where('id', '=', cur.id).where('deleted', '=', 0);
    q = cur.updated_at === null ? q.where('updated_at', 'is', null) : q.where('updated_at', '=', cur.updated_at);
    if (Number((await q.executeTakeFirst()).numUpdatedRows) === 1) return next;
  }
  throw new Error(`instance ${uuid}: too many concurrent updates`);
}

export function registerServerTags(routes: ComputeRoutes, ctx: ComputeContext): void {
  const db = serversDb(ctx);
  const ids = (req: FastifyRequest) => params<{ server_id: string; tag?: string }>(req);
  /** The server, once the microversion has tags and the caller may use `rule` on it. */
  const server = async (req: FastifyRequest, rule: string): Promise<Instance> => {
    if (!atLeast(req, '2.26')) throw notFound('The resource could not be found.');
    return visibleInstance(ctx, routes.caller(req), ids(req).server_id, `os_compute_api:os-server-tags:${rule}`);
  };
  const gone = (err: unknown, uuid: string): never => {
    if (err instanceof InstanceGone) throw notFound(`Instance ${uuid} could not be found.`);
    throw err;
  };

  routes.get('/servers/:server_id/tags', async (req) => ({ tags: [...(await server(req, 'index')).body.tags] }));

  routes.put('/servers/:server_id/tags', async (req) => {
    if (!atLeast(req, '2.26')) throw notFound('The resource could not be found.');
    validateBody(UPDATE_ALL, req.body);
    const inst = await server(req, 'update_all');
    const wanted = [...new Set((req.body as { tags: string[] }).tags)];
    const tags = await changeTags(db, inst.uuid, 'update tags', () => wanted).catch((err: unknown) => gone(err, inst.uuid));
    return { tags };
  });

  routes.delete('/servers/:server_id/tags', async (req, reply: FastifyReply) => {
    const inst = await server(req, 'delete_all');
    await changeTags(db, inst.uuid, 'delete tags', (tags) => (tags.length ? [] : undefined)).catch((err: unknown) => gone(err, inst.uuid));
    reply.status(204);
    return reply.send();
  });

  routes.get('/servers/:server_id/tags/:tag', async (req, reply: FastifyReply) => {
    const inst = await server(req, 'show');
    const tag = ids(req).tag!;
    if (!inst.body.tags.includes(tag)) throw notFound(`Server ${inst.uuid} has no tag '${tag}'`);
    reply.status(204);
    return reply.send();
  });

  routes.put('/servers/:server_id/tags/:tag', async (req, reply: FastifyReply) => {
    if (!atLeast(req, '2.26')) throw notFound('The resource could not be found.');
    validateBody({ type: 'null' }, req.body ?? null);
    const inst = await server(req, 'update');
    const tag = ids(req).tag!;
    if (!TAGGABLE.includes(inst.vm_state)) throw conflict(`Cannot 'update tag' instance ${inst.uuid} while it is in vm_state ${inst.vm_state}`);
    checkTag(tag);
    let added = false;
    await changeTags(db, inst.uuid, 'update tag', (tags) => {
      if (tags.length >= MAX_TAGS) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
      if (tags.includes(tag)) return undefined;
      added = true;
      return [...tags, tag];
    }).catch((err: unknown) => gone(err, inst.uuid));
    if (!added) {
      reply.status(204);
      return reply.send();
    }
    reply.status(201);
    reply.header('location', `${selfLinks(req, 'servers', inst.uuid)[0]!.href}/tags/${encodeURIComponent(tag)}`);
    return reply.send();
  });

  routes.delete('/servers/:server_id/tags/:tag', async (req, reply: FastifyReply) => {
    const inst = await server(req, 'delete');
    const tag = ids(req).tag!;
    await changeTags(db, inst.uuid, 'delete tag', (tags) => {
      if (!tags.includes(tag)) throw notFound(`Instance ${inst.uuid} has no tag '${tag}'`);
      return tags.filter((t) => t !== tag);
    }).catch((err: unknown) => gone(err, inst.uuid));
    reply.status(204);
    return reply.send();
  });
}
