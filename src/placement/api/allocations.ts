/** /allocations, /usages and /reshaper. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlacementContext } from '../context.js';
import { badRequest, notFound } from '../faults.js';
import { consumerAllocations, deleteAllocations, INCOMPLETE_CONSUMER_ID, writeAllocations, type ConsumerWrite } from '../allocations.js';
import { reshape, type ReshapeInventory } from '../reshaper.js';
import { inventoryFrom, type Inventory } from '../inventories.js';
import { MAX_INT } from '../providers.js';
import { rules } from '../policy.js';
import { checkQuery, lastValue, type QueryValues } from '../query.js';
import { isUuidLike, normalizeUuid, type Schema } from '../schema.js';
import { projectUsages, projectUsagesByType } from '../usages.js';
import { want } from '../versions.js';
import { authorize, bodyOf, param, registerPath, requireAcceptJson, sendEmpty, sendJson } from './common.js';

const UUID_PATTERN = '^[0-9a-fA-F-]{36}$';
const RC_PATTERN = '^[A-Z0-9_]+$';
const resourcesSchema: Schema = { type: 'object', minProperties: 1, patternProperties: { [RC_PATTERN]: { type: 'integer', minimum: 1 } }, additionalProperties: false };
const idSchema: Schema = { type: 'string', minLength: 1, maxLength: 255 };
const consumerTypeSchema: Schema = { type: 'string', pattern: RC_PATTERN, minLength: 1, maxLength: 255 };
const mappingsSchema: Schema = {
  type: 'object', minProperties: 1,
  patternProperties: { '^[a-zA-Z0-9_-]{1,64}$': { type: 'array', minItems: 1, items: { type: 'string', format: 'uuid' } } },
};

/** The body of one consumer's allocations in dict form (1.12+), per microversion. */
function consumerSchema(minor: number, allowEmpty: boolean): Schema {
  const properties: Record<string, Schema> = {
    allocations: {
      type: 'object', minProperties: allowEmpty ? 0 : 1, additionalProperties: false,
      patternProperties: { [UUID_PATTERN]: { type: 'object', properties: { generation: { type: 'integer' }, resources: resourcesSchema }, required: ['resources'], additionalProperties: false } },
    },
    project_id: idSchema,
    user_id: idSchema,
  };
  const required = ['allocations', 'project_id', 'user_id'];
  if (minor >= 28) { properties.consumer_generation = { type: ['integer', 'null'] }; required.push('consumer_generation'); }
  if (minor >= 34) properties.mappings = mappingsSchema;
  if (minor >= 38) { properties.consumer_type = consumerTypeSchema; required.push('consumer_type'); }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** PUT /allocations/{c}'s body schema at a microversion. */
function putSchema(minor: number): Schema {
  if (minor >= 12) return consumerSchema(minor, minor >= 28);
  const properties: Record<string, Schema> = {
    allocations: {
      type: 'array', minItems: 1,
      items: {
        type: 'object',
        properties: {
          resource_provider: { type: 'object', properties: { uuid: { type: 'string', format: 'uuid' } }, additionalProperties: false, required: ['uuid'] },
          resources: resourcesSchema,
        },
        required: ['resource_provider', 'resources'], additionalProperties: false,
      },
    },
  };
  const required = ['allocations'];
  if (minor >= 8) { properties.project_id = idSchema; properties.user_id = idSchema; required.push('project_id', 'user_id'); }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** POST /allocations' (and /reshaper's `allocations`) schema: consumer uuid → consumer body. */
const manySchema = (minor: number, minProperties: number): Schema => ({
  type: 'object', minProperties, additionalProperties: false, patternProperties: { [UUID_PATTERN]: consumerSchema(minor, true) },
});

interface DictConsumer {
  allocations: Record<string, { resources: Record<string, number> }>;
  project_id: string;
  user_id: string;
  consumer_generation?: number | null;
  consumer_type?: string;
}

const toWrite = (consumer: string, c: DictConsumer, minor: number): ConsumerWrite => ({
  consumer,
  allocations: new Map(Object.entries(c.allocations).map(([rp, a]) => [rp, new Map(Object.entries(a.resources))])),
  projectId: c.project_id, userId: c.user_id,
  consumerGeneration: minor >= 28 ? c.consumer_generation ?? null : undefined,
  consumerType: minor >= 38 ? c.consumer_type : undefined,
});

const consumerKey = (k: string) => (isUuidLike(k) ? normalizeUuid(k) : k);

export function registerAllocationRoutes(app: FastifyInstance, ctx: PlacementContext): void {
  const minorOf = (req: FastifyRequest) => req.placementMinor ?? 0;

  registerPath(app, '/allocations/:consumer', {
    GET: {
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.allocList);
        const { allocations, consumer, lastModified } = await consumerAllocations(ctx.db, param(req, 'consumer'));
        const body: Record<string, unknown> = { allocations: Object.fromEntries(allocations) };
        if (allocations.size && want(req, 12) && consumer) {
          body.project_id = consumer.project_id;
          body.user_id = consumer.user_id;
          if (want(req, 28)) body.consumer_generation = Number(consumer.generation);
          if (want(req, 38)) body.consumer_type = consumer.consumer_type ?? 'unknown';
        }
        return sendJson(req, reply, body, { lastModified });
      },
    },
    PUT: {
      config: { json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.allocUpdate);
        const raw = param(req, 'consumer');
        if (!isUuidLike(raw)) throw badRequest(`Malformed consumer_uuid: ${raw}`);
        const consumer = normalizeUuid(raw);
        const minor = minorOf(req);
        let write: ConsumerWrite;
        if (minor >= 12) {
          write = toWrite(consumer, bodyOf<DictConsumer>(req, putSchema(minor)), minor);
        } else {
          const body = bodyOf<{ allocations: { resource_provider: { uuid: string }; resources: Record<string, number> }[]; project_id?: string; user_id?: string }>(req, putSchema(minor));
          write = {
            consumer,
            allocations: new Map(body.allocations.map((a) => [a.resource_provider.uuid, new Map(Object.entries(a.resources))])),
            projectId: body.project_id ?? INCOMPLETE_CONSUMER_ID, userId: body.user_id ?? INCOMPLETE_CONSUMER_ID,
          };
        }
        await writeAllocations(ctx, [write], { checkGeneration: minor >= 28 });
        return sendEmpty(reply);
      },
    },
    DELETE: {
      handler: async (req, reply) => {
        authorize(ctx, req, rules.allocDelete);
        const consumer = param(req, 'consumer');
        if (!await deleteAllocations(ctx, consumer)) throw notFound(`No allocations for consumer '${consumer}'`);
        return sendEmpty(reply);
      },
    },
  });

  registerPath(app, '/allocations', {
    POST: {
      config: { since: 13, json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.allocManage);
        const minor = minorOf(req);
        const body = bodyOf<Record<string, DictConsumer>>(req, manySchema(minor, 1));
        const writes = Object.entries(body).map(([c, d]) => toWrite(consumerKey(c), d, minor));
        await writeAllocations(ctx, writes, { checkGeneration: minor >= 28, unknownClass: (_c, rc) => `Unable to allocate inventory No such resource class ${rc}.` });
        return sendEmpty(reply);
      },
    },
  });

  registerPath(app, '/usages', {
    GET: {
      config: { since: 9 },
      handler: async (req, reply) => {
        const q = req.query as QueryValues;
        const projectId = lastValue(q, 'project_id');
        authorize(ctx, req, rules.usages, { project_id: projectId ?? null });
        requireAcceptJson(req);
        const properties: Record<string, Schema> = { project_id: idSchema, user_id: idSchema };
        const byType = want(req, 38);
        if (byType) properties.consumer_type = { type: 'string', pattern: `${RC_PATTERN}|^all|^unknown$`, minLength: 1, maxLength: 255 };
        checkQuery(q, { type: 'object', properties, required: ['project_id'], additionalProperties: false });
        const userId = lastValue(q, 'user_id');
        const usages = byType
          ? await projectUsagesByType(ctx.db, projectId!, userId, lastValue(q, 'consumer_type'))
          : await projectUsages(ctx.db, projectId!, userId);
        return sendJson(req, reply, { usages });
      },
    },
  });

  registerPath(app, '/reshaper', {
    POST: {
      config: { since: 30, json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.reshape);
        const minor = minorOf(req);
        const int = (minimum: number): Schema => ({ type: 'integer', minimum, maximum: MAX_INT });
        const invProps: Record<string, Schema> = {
          total: int(1), reserved: int(0), min_unit: int(1), max_unit: int(1), step_size: int(1),
          allocation_ratio: { type: 'number', maximum: 3.40282e+38 }, resource_provider_generation: { type: 'integer' },
        };
        const schema: Schema = {
          type: 'object',
          properties: {
            inventories: {
              type: 'object', minProperties: 1, additionalProperties: false,
              patternProperties: {
                [UUID_PATTERN]: {
                  type: 'object', additionalProperties: false, required: ['resource_provider_generation', 'inventories'],
                  properties: {
                    resource_provider_generation: { type: 'integer' },
                    inventories: { type: 'object', patternProperties: { [RC_PATTERN]: { type: 'object', properties: invProps, required: ['total'], additionalProperties: false } } },
                  },
                },
              },
            },
            allocations: manySchema(Math.max(minor, 28), 0),
          },
          required: ['inventories', 'allocations'], additionalProperties: false,
        };
        const body = bodyOf<{ inventories: Record<string, { resource_provider_generation: number; inventories: Record<string, Record<string, number>> }>; allocations: Record<string, DictConsumer> }>(req, schema);
        const inventories = new Map<string, ReshapeInventory>();
        for (const [rp, d] of Object.entries(body.inventories)) {
          const invs = new Map<string, Inventory>();
          for (const [rc, raw] of Object.entries(d.inventories)) invs.set(rc, inventoryFrom(raw));
          inventories.set(rp, { generation: d.resource_provider_generation, inventories: invs });
        }
        const writes = Object.entries(body.allocations).map(([c, d]) => toWrite(consumerKey(c), d, Math.max(minor, 28)));
        await reshape(ctx, inventories, writes, true);
        return sendEmpty(reply);
      },
    },
  });
}
