/**
 * `/os-aggregates`: CRUD, and the `add_host`, `remove_host` and `set_metadata` actions; the
 * `uuid` is shown from 2.41. Nova answers 200 for create and delete (backwards compatibility).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  addAggregateHost, createAggregate, deleteAggregate, getAggregate, listAggregates, removeAggregateHost, setAggregateMetadata,
  updateAggregate, type Aggregate,
} from '../aggregates.js';
import { novaFault } from '../faults.js';
import { actionOf, integerId } from './actions.js';
import { atLeast, isLegacy, params, type ComputeRoutes } from './http.js';
import { azName, fqdn, metadataWithNull, name, nameWithSpaces, validateBody, type Schema } from './schema.js';

const zone: Schema = { oneOf: [azName, { type: 'null' }] };
const zoneWithSpaces: Schema = { oneOf: [{ type: 'string', format: 'az_name', minLength: 1, maxLength: 255 }, { type: 'null' }] };

const createSchema = (req: FastifyRequest): Schema => ({
  type: 'object',
  properties: {
    aggregate: {
      type: 'object',
      properties: { name: isLegacy(req) ? nameWithSpaces : name, availability_zone: isLegacy(req) ? zoneWithSpaces : zone },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['aggregate'],
  additionalProperties: false,
});

const updateSchema: Schema = {
  type: 'object',
  properties: {
    aggregate: {
      type: 'object',
      properties: { name: nameWithSpaces, availability_zone: zone },
      additionalProperties: false,
      anyOf: [{ required: ['name'] }, { required: ['availability_zone'] }],
    },
  },
  required: ['aggregate'],
  additionalProperties: false,
};

const hostAction = (action: string): Schema => ({
  type: 'object',
  properties: { [action]: { type: 'object', properties: { host: fqdn }, required: ['host'], additionalProperties: false } },
  required: [action],
  additionalProperties: false,
});

const setMetadataSchema: Schema = {
  type: 'object',
  properties: { set_metadata: { type: 'object', properties: { metadata: metadataWithNull }, required: ['metadata'], additionalProperties: false } },
  required: ['set_metadata'],
  additionalProperties: false,
};

const imagesSchema: Schema = {
  type: 'object',
  properties: {
    cache: {
      type: 'array', minItems: 1,
      items: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'], additionalProperties: false },
    },
  },
  required: ['cache'],
  additionalProperties: false,
};

/** Nova's aggregate view (create leaves out hosts and metadata). */
function aggregateView(req: FastifyRequest, a: Aggregate, full = true): Record<string, unknown> {
  const view: Record<string, unknown> = {
    availability_zone: a.metadata.availability_zone ?? null,
    created_at: a.created_at,
    deleted: false,
    deleted_at: null,
    id: a.id,
    name: a.name,
    updated_at: a.updated_at,
  };
  if (full) {
    view.hosts = a.hosts;
    view.metadata = a.metadata;
  }
  if (atLeast(req, '2.41')) view.uuid = a.uuid;
  return view;
}

export function registerAggregates(r: ComputeRoutes): void {
  const ctx = r.ctx;
  const idOf = (req: FastifyRequest) => integerId(params<{ id: string }>(req).id);

  r.get('/os-aggregates', async (req) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-aggregates:index');
    return { aggregates: (await listAggregates(ctx)).map((a) => aggregateView(req, a)) };
  });

  r.post('/os-aggregates', async (req) => {
    validateBody(createSchema(req), req.body);
    ctx.authorize(r.caller(req), 'os_compute_api:os-aggregates:create');
    const body = (req.body as { aggregate: { name: string; availability_zone?: string | null } }).aggregate;
    const az = body.availability_zone ? body.availability_zone.trim() : body.availability_zone;
    return { aggregate: aggregateView(req, await createAggregate(ctx, body.name.trim(), az), false) };
  });

  r.get('/os-aggregates/:id', async (req) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-aggregates:show');
    return { aggregate: aggregateView(req, await getAggregate(ctx, idOf(req))) };
  });

  r.put('/os-aggregates/:id', async (req) => {
    validateBody(updateSchema, req.body);
    ctx.authorize(r.caller(req), 'os_compute_api:os-aggregates:update');
    const updates = (req.body as { aggregate: { name?: string; availability_zone?: string | null } }).aggregate;
    const changes: { name?: string; availability_zone?: string | null } = { ...updates };
    if (updates.name !== undefined) changes.name = updates.name.trim();
    return { aggregate: aggregateView(req, await updateAggregate(ctx, idOf(req), changes)) };
  });

  r.delete('/os-aggregates/:id', async (req, reply: FastifyReply) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-aggregates:delete');
    await deleteAggregate(ctx, idOf(req));
    reply.status(200).send();
  });

  r.post('/os-aggregates/:id/action', async (req) => {
    const action = actionOf(req.body, ['add_host', 'remove_host', 'set_metadata']);
    if (action === 'set_metadata') {
      validateBody(setMetadataSchema, req.body);
      ctx.authorize(r.caller(req), 'os_compute_api:os-aggregates:set_metadata');
      const metadata = (req.body as { set_metadata: { metadata: Record<string, string | null> } }).set_metadata.metadata;
      return { aggregate: aggregateView(req, await setAggregateMetadata(ctx, idOf(req), metadata)) };
    }
    validateBody(hostAction(action), req.body);
    ctx.authorize(r.caller(req), `os_compute_api:os-aggregates:${action}`);
    const host = (req.body as Record<string, { host: string }>)[action].host;
    const agg = action === 'add_host' ? await addAggregateHost(ctx, idOf(req), host) : await removeAggregateHost(ctx, idOf(req), host);
    return { aggregate: aggregateView(req, agg) };
  });

  r.post('/os-aggregates/:id/images', async (req) => {
    if (!atLeast(req, '2.81')) throw novaFault(404, 'The resource could not be found.');
    validateBody(imagesSchema, req.body);
    ctx.authorize(r.caller(req), 'compute:aggregates:images');
    await getAggregate(ctx, idOf(req));
    throw novaFault(501, 'Pre-caching images on the hosts of an aggregate is not supported by this cloud.');
  });
}
