/**
 * /resource_providers and what hangs under a provider: inventories, aggregates, traits, usages
 * and allocations.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlacementContext } from '../context.js';
import { badRequest, concurrentUpdate, notFound } from '../faults.js';
import { createProvider, deleteProvider, listProviders, MAX_INT, requireProvider, toProvider, updateProvider, type Provider, type ProviderFilters } from '../providers.js';
import { addInventory, deleteAllInventories, deleteInventory, inventoryFrom, listInventories, setInventories, toInventory, updateInventory } from '../inventories.js';
import { providerAggregates, setProviderAggregates } from '../aggregates.js';
import { providerTraits, setProviderTraits, traitOrder, unknownTraits } from '../traits.js';
import { providerUsages } from '../usages.js';
import { providerAllocations } from '../allocations.js';
import { unknownResourceClasses } from '../resource-classes.js';
import { rules } from '../policy.js';
import { checkQuery, lastValue, parseMemberOfParams, parseResources, parseTraitsParams, type QueryValues } from '../query.js';
import { normalizeUuid, type Schema } from '../schema.js';
import { want } from '../versions.js';
import { absoluteUrl, authorize, bodyOf, latest, param, registerPath, requireAcceptJson, sendEmpty, sendJson } from './common.js';

const uuidSchema: Schema = { type: 'string', format: 'uuid' };
const parentSchema: Schema = { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] };
const RC_PATTERN = '^[A-Z0-9_]+$';
const int = (minimum: number): Schema => ({ type: 'integer', minimum, maximum: MAX_INT });
const inventoryProps: Record<string, Schema> = {
  resource_provider_generation: { type: 'integer' },
  total: int(1), reserved: int(0), min_unit: int(1), max_unit: int(1), step_size: int(1),
  allocation_ratio: { type: 'number', maximum: 3.40282e+38 },
};
const inventorySchema: Schema = { type: 'object', properties: inventoryProps, required: ['total', 'resource_provider_generation'], additionalProperties: false };
const postInventorySchema: Schema = {
  type: 'object', properties: { ...inventoryProps, resource_class: { type: 'string', pattern: RC_PATTERN } }, required: ['total', 'resource_class'], additionalProperties: false,
};
const putInventoriesSchema: Schema = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    inventories: { type: 'object', patternProperties: { [RC_PATTERN]: { type: 'object', properties: inventoryProps, required: ['total'], additionalProperties: false } } },
  },
  required: ['resource_provider_generation', 'inventories'], additionalProperties: false,
};
const aggregateList: Schema = { type: 'array', items: { type: 'string', format: 'uuid' }, uniqueItems: true };
const traitsSchema: Schema = {
  type: 'object',
  properties: { traits: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 } }, resource_provider_generation: { type: 'integer' } },
  required: ['traits', 'resource_provider_generation'], additionalProperties: false,
};

/** A provider document: links grow with the microversion, tree fields from 1.14. */
export function providerBody(req: FastifyRequest, p: Provider): Record<string, unknown> {
  const url = `/resource_providers/${p.uuid}`;
  const rels = ['inventories', 'usages'];
  if (want(req, 1)) rels.push('aggregates');
  if (want(req, 6)) rels.push('traits');
  if (want(req, 11)) rels.push('allocations');
  const body: Record<string, unknown> = {
    uuid: p.uuid, name: p.name, generation: p.generation,
    links: [{ rel: 'self', href: url }, ...rels.map((rel) => ({ rel, href: `${url}/${rel}` }))],
  };
  if (want(req, 14)) { body.parent_provider_uuid = p.parent_provider_uuid; body.root_provider_uuid = p.root_provider_uuid; }
  return body;
}


async function providerFilters(ctx: PlacementContext, req: FastifyRequest): Promise<ProviderFilters> {
  const q = req.query as QueryValues;
  const properties: Record<string, Schema> = { name: { type: 'string' }, uuid: uuidSchema };
  if (want(req, 3)) properties.member_of = { type: 'string' };
  if (want(req, 4)) properties.resources = { type: 'string' };
  if (want(req, 14)) properties.in_tree = uuidSchema;
  if (want(req, 18)) properties.required = { type: 'string' };
  checkQuery(q, { type: 'object', properties, additionalProperties: false });
  const minor = req.placementMinor ?? 0;
  const f: { -readonly [K in keyof ProviderFilters]: ProviderFilters[K] } = {};
  if (q.member_of !== undefined) {
    const e = parseMemberOfParams(q, 'member_of', minor);
    f.memberOf = e.memberOf;
    f.forbiddenAggs = e.forbidden;
  }
  if (q.required !== undefined) {
    const e = parseTraitsParams(q, 'required', minor);
    const missing = await unknownTraits(ctx.db, [...e.required.flatMap((s) => [...s]), ...e.forbidden]);
    if (missing.length) throw badRequest(`Invalid trait(s) in "required" parameter: No such trait(s): ${missing.join(', ')}.`);
    f.requiredTraits = e.required;
    f.forbiddenTraits = e.forbidden;
  }
  const name = lastValue(q, 'name');
  if (name !== undefined) f.name = name;
  const uuid = lastValue(q, 'uuid');
  if (uuid !== undefined) f.uuid = normalizeUuid(uuid);
  const inTree = lastValue(q, 'in_tree');
  if (inTree !== undefined) f.inTree = normalizeUuid(inTree);
  const resources = lastValue(q, 'resources');
  if (resources !== undefined) {
    const r = parseResources(resources);
    const missing = await unknownResourceClasses(ctx.db, r.keys());
    if (missing.length) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${missing[0]}.`);
    f.resources = r;
  }
  return f;
}

export function registerProviderRoutes(app: FastifyInstance, ctx: PlacementContext): void {
  const rp = async (req: FastifyRequest, message?: string) => requireProvider(ctx.db, param(req, 'uuid'), message);

  registerPath(app, '/resource_providers', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rpList);
        const rows = await listProviders(ctx.db, await providerFilters(ctx, req));
        const providers = rows.map(toProvider);
        return sendJson(req, reply, { resource_providers: providers.map((p) => providerBody(req, p)) }, { lastModified: latest(providers.map((p) => p.updated_at)) });
      },
    },
    POST: {
      config: { json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rpCreate);
        const properties: Record<string, Schema> = { name: { type: 'string', maxLength: 200 }, uuid: uuidSchema };
        if (want(req, 14)) properties.parent_provider_uuid = parentSchema;
        const body = bodyOf<{ name: string; uuid?: string; parent_provider_uuid?: string | null }>(req, { type: 'object', properties, required: ['name'], additionalProperties: false });
        const p = await createProvider(ctx, {
          name: body.name, uuid: body.uuid ? normalizeUuid(body.uuid) : undefined,
          parentUuid: body.parent_provider_uuid ? normalizeUuid(body.parent_provider_uuid) : null,
        });
        reply.header('location', absoluteUrl(req, `/resource_providers/${p.uuid}`));
        if (want(req, 20)) return sendJson(req, reply, providerBody(req, p), { lastModified: p.updated_at });
        return sendEmpty(reply, 201);
      },
    },
  });

  registerPath(app, '/resource_providers/:uuid', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rpShow);
        const p = toProvider(await rp(req));
        return sendJson(req, reply, providerBody(req, p), { lastModified: p.updated_at });
      },
    },
    PUT: {
      config: { json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rpUpdate);
        const current = await rp(req);
        const properties: Record<string, Schema> = { name: { type: 'string', maxLength: 200 } };
        if (want(req, 14)) properties.parent_provider_uuid = parentSchema;
        const body = bodyOf<{ name: string; parent_provider_uuid?: string | null }>(req, { type: 'object', properties, required: ['name'], additionalProperties: false });
        const parent = body.parent_provider_uuid === undefined ? undefined : body.parent_provider_uuid === null ? null : normalizeUuid(body.parent_provider_uuid);
        const p = await updateProvider(ctx, current, { name: body.name, parentUuid: parent }, want(req, 37));
        return sendJson(req, reply, providerBody(req, p), { lastModified: p.updated_at });
      },
    },
    DELETE: {
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rpDelete);
        await deleteProvider(ctx, param(req, 'uuid'));
        return sendEmpty(reply);
      },
    },
  });

  const inventoriesBody = async (uuid: string) => {
    const p = await requireProvider(ctx.db, uuid);
    const rows = await listInventories(ctx.db, uuid);
    return {
      body: { resource_provider_generation: Number(p.generation), inventories: Object.fromEntries(rows.map((r) => [r.resource_class, toInventory(r)])) },
      lastModified: latest(rows.map((r) => r.updated_at ?? r.created_at)),
    };
  };
  const inventoryBody = async (uuid: string, rc: string) => {
    const p = await requireProvider(ctx.db, uuid);
    const row = (await listInventories(ctx.db, uuid)).find((r) => r.resource_class === rc);
    return row ? { body: { ...toInventory(row), resource_provider_generation: Number(p.generation) }, lastModified: row.updated_at ?? row.created_at } : undefined;
  };

  registerPath(app, '/resource_providers/:uuid/inventories', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.invList);
        const uuid = param(req, 'uuid');
        await rp(req, `No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`);
        const r = await inventoriesBody(uuid);
        return sendJson(req, reply, r.body, { lastModified: r.lastModified });
      },
    },
    POST: {
      config: { json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.invCreate);
        const p = await rp(req);
        const body = bodyOf<Record<string, unknown>>(req, postInventorySchema);
        const rc = String(body.resource_class);
        await addInventory(ctx, p.uuid, rc, inventoryFrom(body), req.placementMinor ?? 0);
        reply.header('location', absoluteUrl(req, `/resource_providers/${p.uuid}/inventories/${rc}`));
        const r = (await inventoryBody(p.uuid, rc))!;
        return sendJson(req, reply, r.body, { status: 201, lastModified: r.lastModified });
      },
    },
    PUT: {
      config: { json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.invUpdate);
        const p = await rp(req);
        const body = bodyOf<{ resource_provider_generation: number; inventories: Record<string, Record<string, unknown>> }>(req, putInventoriesSchema);
        if (body.resource_provider_generation !== Number(p.generation)) throw conflictGeneration();
        const invs = new Map(Object.entries(body.inventories).map(([rc, raw]) => [rc, inventoryFrom(raw)]));
        await setInventories(ctx, p.uuid, invs, { generation: body.resource_provider_generation, minor: req.placementMinor ?? 0 });
        const r = await inventoriesBody(p.uuid);
        return sendJson(req, reply, r.body, { lastModified: r.lastModified });
      },
    },
    DELETE: {
      config: { since: 5, belowStatus: 405 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.invDelete);
        const p = await rp(req);
        await deleteAllInventories(ctx, p.uuid);
        return sendEmpty(reply);
      },
    },
  });

  registerPath(app, '/resource_providers/:uuid/inventories/:rc', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.invShow);
        const uuid = param(req, 'uuid');
        const rc = param(req, 'rc');
        await rp(req, `No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`);
        const r = await inventoryBody(uuid, rc);
        if (!r) throw notFound(`No inventory of class ${rc} for ${uuid}`);
        return sendJson(req, reply, r.body, { lastModified: r.lastModified });
      },
    },
    PUT: {
      config: { json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.invUpdate);
        const p = await rp(req);
        const rc = param(req, 'rc');
        const body = bodyOf<Record<string, unknown>>(req, inventorySchema);
        const gen = Number(body.resource_provider_generation);
        if (gen !== Number(p.generation)) throw conflictGeneration();
        await updateInventory(ctx, p.uuid, rc, inventoryFrom(body), gen, req.placementMinor ?? 0);
        const r = (await inventoryBody(p.uuid, rc))!;
        return sendJson(req, reply, r.body, { lastModified: r.lastModified });
      },
    },
    DELETE: {
      handler: async (req, reply) => {
        authorize(ctx, req, rules.invDelete);
        const p = await rp(req);
        await deleteInventory(ctx, p.uuid, param(req, 'rc'));
        return sendEmpty(reply);
      },
    },
  });

  registerPath(app, '/resource_providers/:uuid/aggregates', {
    GET: {
      config: { since: 1 },
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.aggList);
        const p = await rp(req);
        const body: Record<string, unknown> = { aggregates: await providerAggregates(ctx.db, p.uuid) };
        if (want(req, 19)) body.resource_provider_generation = Number(p.generation);
        return sendJson(req, reply, body);
      },
    },
    PUT: {
      config: { since: 1, json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.aggUpdate);
        const withGeneration = want(req, 19);
        const p = await rp(req);
        let aggregates: string[];
        let generation: number | undefined;
        if (withGeneration) {
          const body = bodyOf<{ aggregates: string[]; resource_provider_generation: number }>(req, {
            type: 'object', properties: { aggregates: aggregateList, resource_provider_generation: { type: 'integer' } },
            required: ['aggregates', 'resource_provider_generation'], additionalProperties: false,
          });
          aggregates = body.aggregates;
          generation = body.resource_provider_generation;
          if (generation !== Number(p.generation)) {
            throw conflictGeneration("Resource provider's generation already changed. Please update the generation and try again.");
          }
        } else {
          aggregates = bodyOf<string[]>(req, aggregateList);
        }
        const normalized = aggregates.map(normalizeUuid);
        const gen = await setProviderAggregates(ctx, p.uuid, normalized, { generation, bump: withGeneration });
        const body: Record<string, unknown> = { aggregates: [...new Set(normalized)] };
        if (withGeneration) body.resource_provider_generation = gen;
        return sendJson(req, reply, body);
      },
    },
  });

  registerPath(app, '/resource_providers/:uuid/traits', {
    GET: {
      config: { since: 6 },
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rpTraitList);
        const uuid = param(req, 'uuid');
        const p = await rp(req, `No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`);
        return sendJson(req, reply, { traits: await providerTraits(ctx.db, p.uuid), resource_provider_generation: Number(p.generation) });
      },
    },
    PUT: {
      config: { since: 6, json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rpTraitUpdate);
        const body = bodyOf<{ traits: string[]; resource_provider_generation: number }>(req, traitsSchema);
        const p = await rp(req);
        if (body.resource_provider_generation !== Number(p.generation)) {
          throw conflictGeneration("Resource provider's generation already changed. Please update the generation and try again.");
        }
        const gen = await setProviderTraits(ctx, p.uuid, body.traits, body.resource_provider_generation);
        return sendJson(req, reply, { traits: [...new Set(body.traits)].sort(traitOrder), resource_provider_generation: gen });
      },
    },
    DELETE: {
      config: { since: 6 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rpTraitDelete);
        const p = await rp(req);
        await setProviderTraits(ctx, p.uuid, []);
        return sendEmpty(reply);
      },
    },
  });

  registerPath(app, '/resource_providers/:uuid/usages', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rpUsages);
        const uuid = param(req, 'uuid');
        const p = await rp(req, `No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`);
        return sendJson(req, reply, { resource_provider_generation: Number(p.generation), usages: await providerUsages(ctx.db, p.uuid) });
      },
    },
  });

  registerPath(app, '/resource_providers/:uuid/allocations', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rpAllocList);
        const uuid = param(req, 'uuid');
        const p = await rp(req, `Resource provider '${uuid}' not found: No resource provider with uuid ${uuid} found`);
        const { allocations, lastModified } = await providerAllocations(ctx.db, p.uuid);
        const withGen = want(req, 28);
        const body = Object.fromEntries([...allocations].map(([c, a]) => [c, withGen ? a : { resources: a.resources }]));
        return sendJson(req, reply, { allocations: body, resource_provider_generation: Number(p.generation) }, { lastModified });
      },
    },
  });
}

/** 409 placement.concurrent_update for a stale provider generation in the body. */
const conflictGeneration = (message = 'resource provider generation conflict') => concurrentUpdate(message);
