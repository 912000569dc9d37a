/**
 * `/os-services` (list, enable/disable with reason, forced down from 2.11, uuid ids and
 * `PUT /os-services/{uuid}` from 2.53, delete) and `/os-availability-zone[/detail]`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../faults.js';
import { zoneDetail, zoneSummary, zonedServices, type ZonedService } from '../availability-zones.js';
import { deleteService, getService, getServiceByHostBinary, isUp, updateService } from '../services.js';
import { integerId, isUuidLike, queryValue, strictBool } from './actions.js';
import { atLeast, params, type ComputeRoutes } from './http.js';
import { booleanParam, commonQueryParam, fqdn, queryLists, validateBody, validateQuery, type Schema } from './schema.js';
import type { ComputeContext } from '../context.js';

const reason: Schema = { type: 'string', minLength: 1, maxLength: 255 };

function legacyUpdateSchema(req: FastifyRequest): Schema {
  const props: Record<string, Schema> = { host: fqdn, binary: { type: 'string', minLength: 1, maxLength: 255 }, disabled_reason: reason };
  if (atLeast(req, '2.11')) props.forced_down = booleanParam;
  return { type: 'object', properties: props, required: ['host', 'binary'], additionalProperties: false };
}

const updateSchemaV253: Schema = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['enabled', 'disabled'] }, disabled_reason: reason, forced_down: booleanParam },
  additionalProperties: false,
};

/** Nova's service view at the request's microversion. */
function serviceView(ctx: ComputeContext, req: FastifyRequest, s: ZonedService, now: number, withForcedDown: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    id: atLeast(req, '2.53') ? s.uuid : s.id,
    zone: s.zone,
    status: s.disabled === 1 ? 'disabled' : 'enabled',
    state: isUp(ctx, s, now) ? 'up' : 'down',
    updated_at: s.updated_at,
    disabled_reason: s.disabled_reason,
  };
  if (withForcedDown) body.forced_down = s.forced_down === 1;
  return body;
}

async function zoned(ctx: ComputeContext, host: string, binary: string): Promise<ZonedService> {
  const found = (await zonedServices(ctx, { host, binary }))[0];
  if (!found) throw notFound(`Could not find binary ${binary} on host ${host}.`);
  return found;
}

export function registerServices(r: ComputeRoutes): void {
  const ctx = r.ctx;

  r.get('/os-services', async (req) => {
    validateQuery({ type: 'object', properties: { host: commonQueryParam, binary: commonQueryParam }, additionalProperties: !atLeast(req, '2.75') }, queryLists(req.query));
    ctx.authorize(r.caller(req), 'os_compute_api:os-services:list');
    const services = await zonedServices(ctx, { host: queryValue(req, 'host') || undefined, binary: queryValue(req, 'binary') || undefined });
    const now = Date.now();
    return { services: services.map((s) => serviceView(ctx, req, s, now, atLeast(req, '2.11'))) };
  });

  r.put('/os-services/:id', async (req) => {
    const id = params<{ id: string }>(req).id;
    if (atLeast(req, '2.53')) {
      validateBody(updateSchemaV253, req.body);
      ctx.authorize(r.caller(req), 'os_compute_api:os-services:update');
      if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
      const s = await getService(ctx, id);
      const body = (req.body ?? {}) as { status?: string; disabled_reason?: string; forced_down?: unknown };
      const changes: { disabled?: boolean; disabled_reason?: string | null; forced_down?: boolean } = {};
      if (body.status === 'enabled') {
        if (body.disabled_reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
        changes.disabled = false;
        changes.disabled_reason = null;
      } else if (body.status === 'disabled') {
        changes.disabled = true;
        changes.disabled_reason = body.disabled_reason ?? null;
      }
      if (body.forced_down !== undefined) changes.forced_down = strictBool(String(body.forced_down)) === true;
      if (!Object.keys(changes).length) throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
      const updated = await updateService(ctx, s, changes);
      return { service: serviceView(ctx, req, await zoned(ctx, updated.host, updated.binary), Date.now(), true) };
    }
    validateBody(legacyUpdateSchema(req), req.body);
    ctx.authorize(r.caller(req), 'os_compute_api:os-services:update');
    const body = req.body as { host: string; binary: string; disabled_reason?: string; forced_down?: unknown };
    const actions = ['enable', 'disable', 'disable-log-reason', ...(atLeast(req, '2.11') ? ['force-down'] : [])];
    if (!actions.includes(id)) throw notFound('Unknown action');
    const { host, binary } = body;
    const target = async () => {
      if (binary !== 'nova-compute') throw badRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);
      return getServiceByHostBinary(ctx, host, binary);
    };
    if (id === 'force-down') {
      if (body.forced_down === undefined) throw badRequest('Missing forced_down field');
      const forcedDown = strictBool(String(body.forced_down)) === true;
      await updateService(ctx, await target(), { forced_down: forcedDown });
      return { service: { host, binary, forced_down: forcedDown } };
    }
    if (id === 'enable') {
      await updateService(ctx, await target(), { disabled: false, disabled_reason: null });
      return { service: { host, binary, status: 'enabled' } };
    }
    if (id === 'disable-log-reason' && body.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
    const why = id === 'disable-log-reason' ? body.disabled_reason! : null;
    await updateService(ctx, await target(), { disabled: true, disabled_reason: why });
    return { service: { host, binary, status: 'disabled', ...(why ? { disabled_reason: why } : {}) } };
  });

  r.delete('/os-services/:id', async (req, reply: FastifyReply) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-services:delete');
    const id = params<{ id: string }>(req).id;
    let key: number | string;
    if (atLeast(req, '2.53')) {
      if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
      key = id;
    } else {
      key = integerId(id);
    }
    let s;
    try {
      s = await getService(ctx, key);
    } catch {
      throw notFound(`Service ${id} not found.`);
    }
    await deleteService(ctx, s);
    reply.status(204).send();
  });

  r.get('/os-availability-zone', async (req) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-availability-zone:list');
    return { availabilityZoneInfo: await zoneSummary(ctx) };
  });

  r.get('/os-availability-zone/detail', async (req) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-availability-zone:detail');
    return { availabilityZoneInfo: await zoneDetail(ctx) };
  });
}
