/**
 * `/os-keypairs`: create/import (200 until 2.1, 201 from 2.2 with `type`), list (paged from
 * 2.35), show, delete (202 until 2.1, 204 from 2.2); admins act for any user with `user_id`
 * from 2.10.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../context.js';
import { createKeypair, deleteKeypair, getKeypair, listKeypairs, type Keypair, type KeypairType } from '../keypairs.js';
import type { KeypairRow } from '../store/schema.js';
import { firstQueryValue } from './actions.js';
import { atLeast, isLegacy, limitAndMarker, nextLinks, params, type ComputeRoutes } from './http.js';
import { multiParams, name, nameWithSpaces, nonNegativeInteger, queryLists, validateBody, validateQuery, type Schema } from './schema.js';

const keypairName: Schema = { allOf: [name, { type: 'string', pattern: '^[_\\- a-zA-Z0-9]+$', minLength: 1, maxLength: 255 }] };

function createSchema(req: FastifyRequest): Schema {
  const props: Record<string, Schema> = {
    name: isLegacy(req) ? nameWithSpaces : keypairName,
    public_key: { type: 'string' },
  };
  if (atLeast(req, '2.2')) props.type = { type: 'string', enum: ['ssh', 'x509'] };
  if (atLeast(req, '2.10')) props.user_id = { type: 'string' };
  return {
    type: 'object',
    properties: { keypair: { type: 'object', properties: props, required: ['name'], additionalProperties: false } },
    required: ['keypair'],
    additionalProperties: false,
  };
}

function querySchema(req: FastifyRequest, paged: boolean): Schema {
  const props: Record<string, Schema> = {};
  if (atLeast(req, '2.10')) props.user_id = multiParams({ type: 'string' });
  if (paged && atLeast(req, '2.35')) {
    props.limit = multiParams(nonNegativeInteger);
    props.marker = multiParams({ type: 'string' });
  }
  return { type: 'object', properties: props, additionalProperties: !atLeast(req, '2.75') };
}

/** The user a request acts for: `user_id` (admins, 2.10+) or the caller. */
function userOf(req: FastifyRequest, caller: Caller): string {
  const asked = atLeast(req, '2.10') ? firstQueryValue(req, 'user_id') : undefined;
  return asked || caller.userId;
}

const withType = (req: FastifyRequest) => atLeast(req, '2.2');

function createView(req: FastifyRequest, k: Keypair): Record<string, unknown> {
  const body: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, user_id: k.user_id };
  if (k.private_key !== undefined) body.private_key = k.private_key;
  if (withType(req)) body.type = k.type;
  return body;
}

function showView(req: FastifyRequest, k: KeypairRow): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, user_id: k.user_id,
    created_at: k.created_at, deleted: false, deleted_at: null, id: k.id, updated_at: null,
  };
  if (withType(req)) body.type = k.type;
  return body;
}

function indexView(req: FastifyRequest, k: KeypairRow): Record<string, unknown> {
  const body: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
  if (withType(req)) body.type = k.type;
  return body;
}

export function registerKeypairs(r: ComputeRoutes): void {
  const ctx = r.ctx;

  r.post('/os-keypairs', async (req, reply: FastifyReply) => {
    validateBody(createSchema(req), req.body);
    const caller = r.caller(req);
    const p = (req.body as { keypair: Record<string, unknown> }).keypair;
    const keyName = isLegacy(req) ? String(p.name).trim() : String(p.name);
    const userId = (atLeast(req, '2.10') ? (p.user_id as string | undefined) : undefined) || caller.userId;
    ctx.authorize(caller, 'os_compute_api:os-keypairs:create', { user_id: userId });
    const k = await createKeypair(ctx, {
      userId, projectId: caller.projectId, name: keyName, type: ((p.type as KeypairType | undefined) ?? 'ssh'),
      publicKey: p.public_key as string | undefined,
    });
    reply.status(atLeast(req, '2.2') ? 201 : 200);
    return { keypair: createView(req, k) };
  });

  r.get('/os-keypairs', async (req) => {
    validateQuery(querySchema(req, true), queryLists(req.query));
    const caller = r.caller(req);
    const userId = userOf(req, caller);
    ctx.authorize(caller, 'os_compute_api:os-keypairs:index', { user_id: userId });
    const paged = atLeast(req, '2.35');
    const page = paged ? limitAndMarker(req, ctx.maxLimit) : {};
    const keys = await listKeypairs(ctx, userId, page);
    const links = paged ? nextLinks(req, 'os-keypairs', keys.length, keys.at(-1)?.name, ctx.maxLimit) : [];
    return { keypairs: keys.map((k) => ({ keypair: indexView(req, k) })), ...(links.length ? { keypairs_links: links } : {}) };
  });

  r.get('/os-keypairs/:id', async (req) => {
    validateQuery(querySchema(req, false), queryLists(req.query));
    const caller = r.caller(req);
    const userId = userOf(req, caller);
    ctx.authorize(caller, 'os_compute_api:os-keypairs:show', { user_id: userId });
    return { keypair: showView(req, await getKeypair(ctx, userId, params<{ id: string }>(req).id)) };
  });

  r.delete('/os-keypairs/:id', async (req, reply: FastifyReply) => {
    validateQuery(querySchema(req, false), queryLists(req.query));
    const caller = r.caller(req);
    const userId = userOf(req, caller);
    ctx.authorize(caller, 'os_compute_api:os-keypairs:delete', { user_id: userId });
    await deleteKeypair(ctx, userId, params<{ id: string }>(req).id);
    reply.status(atLeast(req, '2.2') ? 204 : 202).send();
  });
}
