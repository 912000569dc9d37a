/** /resource_classes (1.2+) and /traits (1.6+). */
import type { FastifyInstance } from 'fastify';
import type { PlacementContext } from '../context.js';
import { badRequest, notFound } from '../faults.js';
import { rules } from '../policy.js';
import { checkQuery, lastValue, type QueryValues } from '../query.js';
import { check, type Schema } from '../schema.js';
import { createResourceClass, deleteResourceClass, ensureResourceClass, listResourceClasses, renameResourceClass, requireResourceClass } from '../resource-classes.js';
import { deleteTrait, ensureTrait, getTrait, listTraits, type TraitFilters } from '../traits.js';
import { want } from '../versions.js';
import { absoluteUrl, authorize, bodyOf, latest, param, registerPath, requireAcceptJson, sendEmpty, sendJson } from './common.js';

const CUSTOM = '^CUSTOM_[A-Z0-9_]+$';
const rcNameSchema: Schema = { type: 'object', properties: { name: { type: 'string', pattern: CUSTOM, maxLength: 255 } }, required: ['name'], additionalProperties: false };
const customTrait: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: CUSTOM };

const rcBody = (name: string) => ({ name, links: [{ rel: 'self', href: `/resource_classes/${name}` }] });

export function registerClassAndTraitRoutes(app: FastifyInstance, ctx: PlacementContext): void {
  registerPath(app, '/resource_classes', {
    GET: {
      config: { since: 2 },
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rcList);
        const rows = await listResourceClasses(ctx.db);
        return sendJson(req, reply, { resource_classes: rows.map((r) => rcBody(r.name)) }, { lastModified: latest(rows.map((r) => r.updated_at ?? r.created_at)) });
      },
    },
    POST: {
      config: { since: 2, json: true },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rcCreate);
        const { name } = bodyOf<{ name: string }>(req, rcNameSchema);
        await createResourceClass(ctx, name);
        reply.header('location', absoluteUrl(req, `/resource_classes/${name}`));
        return sendEmpty(reply, 201);
      },
    },
  });

  registerPath(app, '/resource_classes/:name', {
    GET: {
      config: { since: 2 },
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.rcShow);
        const rc = await requireResourceClass(ctx.db, param(req, 'name'));
        return sendJson(req, reply, rcBody(rc.name), { lastModified: rc.updated_at ?? rc.created_at });
      },
    },
    PUT: {
      config: { since: 2, json: (minor) => minor < 7 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rcUpdate);
        const name = param(req, 'name');
        if (!want(req, 7)) {
          // 1.2–1.6: rename a custom class.
          const body = bodyOf<{ name: string }>(req, rcNameSchema);
          await requireResourceClass(ctx.db, name);
          const rc = await renameResourceClass(ctx, name, body.name);
          return sendJson(req, reply, rcBody(rc.name), { lastModified: rc.updated_at ?? rc.created_at });
        }
        // 1.7+: create the custom class unless it exists (201 / 204).
        const problem = check({ name }, rcNameSchema);
        if (problem) throw badRequest(`JSON does not validate: ${problem}`);
        const { created } = await ensureResourceClass(ctx, name);
        reply.header('location', absoluteUrl(req, `/resource_classes/${name}`));
        return sendEmpty(reply, created ? 201 : 204);
      },
    },
    DELETE: {
      config: { since: 2 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.rcDelete);
        await deleteResourceClass(ctx, param(req, 'name'));
        return sendEmpty(reply);
      },
    },
  });

  registerPath(app, '/traits', {
    GET: {
      config: { since: 6 },
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.traitList);
        const q = req.query as QueryValues;
        checkQuery(q, { type: 'object', properties: { name: { type: 'string' }, associated: { type: 'string' } }, additionalProperties: false });
        const f: { -readonly [K in keyof TraitFilters]: TraitFilters[K] } = {};
        const name = lastValue(q, 'name');
        if (name !== undefined) {
          const i = name.indexOf(':');
          if (i < 0) throw badRequest(`Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`);
          const op = name.slice(0, i);
          const value = name.slice(i + 1);
          if (op === 'in') f.nameIn = value.split(',');
          else if (op === 'startswith') f.prefix = value;
        }
        const associated = lastValue(q, 'associated');
        if (associated !== undefined) {
          const a = associated.toLowerCase();
          if (a !== 'true' && a !== 'false') throw badRequest('The query parameter "associated" only accepts "true" or "false"');
          f.associated = a === 'true';
        }
        const rows = await listTraits(ctx.db, f);
        return sendJson(req, reply, { traits: rows.map((r) => r.name) }, { lastModified: latest(rows.map((r) => r.updated_at ?? r.created_at)) });
      },
    },
  });

  registerPath(app, '/traits/:name', {
    GET: {
      config: { since: 6 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.traitShow);
        const name = param(req, 'name');
        const t = await getTrait(ctx.db, name);
        if (!t) throw notFound(`No such trait(s): ${name}.`);
        if (want(req, 15)) { reply.header('cache-control', 'no-cache'); reply.header('last-modified', new Date(t.created_at).toUTCString()); }
        return sendEmpty(reply);
      },
    },
    PUT: {
      config: { since: 6 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.traitUpdate);
        const name = param(req, 'name');
        if (check(name, customTrait)) {
          throw badRequest('The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"');
        }
        const { row, created } = await ensureTrait(ctx, name);
        reply.header('location', absoluteUrl(req, `/traits/${name}`));
        if (want(req, 15)) { reply.header('cache-control', 'no-cache'); reply.header('last-modified', new Date(row.created_at).toUTCString()); }
        return sendEmpty(reply, created ? 201 : 204);
      },
    },
    DELETE: {
      config: { since: 6 },
      handler: async (req, reply) => {
        authorize(ctx, req, rules.traitDelete);
        await deleteTrait(ctx, param(req, 'name'));
        return sendEmpty(reply);
      },
    },
  });
}
