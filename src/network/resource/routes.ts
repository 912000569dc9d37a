/**
 * The five routes of a Neutron collection (list, show, create incl. bulk, update, delete) wired
 * generically; a resource supplies its attribute map and the behaviour that is its own.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../platform/auth/index.js';
import type { Caller, NetworkContext } from '../context.js';
import { createBodies, ensureVisible, render, updateAttrs } from './body.js';
import { applyFilters, fieldsOf, filtersOf, sortAndPage, type CustomFilter, type Query } from './list.js';
import { findObjs, getObj, type Db } from './store.js';
import type { Obj, ResourceDef } from './types.js';
import { listVerbatim } from './verbatim.js';

/** What a resource adds to the generic routes. */
export interface ResourceBehaviour {
  readonly def: ResourceDef;
  /** Objects a non-admin caller sees besides their own (e.g. shared networks); default none. */
  readonly alsoVisible?: (db: Db, caller: Caller, sqlWhere: Record<string, unknown>) => Promise<Obj[]>;
  /** Whether a non-owner may see this object (show/update/delete of shared objects). */
  readonly visibleTo?: (obj: Obj, caller: Caller) => boolean | Promise<boolean>;
  /** Adds computed attributes before rendering (in place). */
  readonly decorate?: (objs: Obj[], caller: Caller) => Promise<void>;
  readonly customFilters?: Readonly<Record<string, CustomFilter>>;
  /** Runs before a list query (Neutron creates a project's default security group on its first list). */
  readonly beforeList?: (query: Query, caller: Caller) => Promise<void>;
  /** Creates several objects atomically (one item for the non-bulk form). */
  readonly create?: (items: Record<string, unknown>[], caller: Caller) => Promise<Obj[]>;
  readonly update?: (obj: Obj, attrs: Record<string, unknown>, caller: Caller) => Promise<Obj>;
  readonly remove?: (obj: Obj, caller: Caller) => Promise<void>;
}

/** The caller of a request. */
export const callerOf = (ctx: NetworkContext, req: FastifyRequest): Caller => ctx.callerOf(authOf(req));

/** Whether `caller` sees `obj` (admin, owner, or the resource's own rule). */
export async function canSee(b: ResourceBehaviour, obj: Obj, caller: Caller): Promise<boolean> {
  if (caller.isAdmin || obj.project_id === caller.projectId) return true;
  return b.visibleTo ? b.visibleTo(obj, caller) : false;
}

/** Loads one object the caller can see, or throws the resource's 404. */
export async function loadVisible(ctx: NetworkContext, b: ResourceBehaviour, id: string, caller: Caller): Promise<Obj> {
  const obj = await getObj(ctx.db, b.def, id);
  return ensureVisible(b.def, obj, id, caller, obj ? await canSee(b, obj, caller) : false);
}

/** Every object matching a list query that the caller may see, sorted and paged. */
export async function listFor(ctx: NetworkContext, b: ResourceBehaviour, query: Query, caller: Caller, baseUrl: string) {
  const { def } = b;
  if (b.beforeList) await b.beforeList(query, caller);
  const filters = filtersOf(def, query, caller.isAdmin, b.customFilters);
  const sqlWhere: Record<string, unknown> = {};
  for (const attr of [...(def.sqlFilters ?? []), 'id', 'name']) {
    const v = filters.get(attr);
    if (v && !b.customFilters?.[attr]) sqlWhere[attr] = v;
  }
  let objs: Obj[];
  if (caller.isAdmin) objs = await findObjs(ctx.db, def, sqlWhere);
  else {
    const own = filters.has('project_id') || filters.has('tenant_id') ? [] : await findObjs(ctx.db, def, { ...sqlWhere, project_id: caller.projectId });
    const projectFilter = [...(filters.get('project_id') ?? []), ...(filters.get('tenant_id') ?? [])];
    const named = projectFilter.length ? (await findObjs(ctx.db, def, { ...sqlWhere, project_id: projectFilter })).filter((o) => o.project_id === caller.projectId) : [];
    const extra = b.alsoVisible ? await b.alsoVisible(ctx.db, caller, sqlWhere) : [];
    const seen = new Set<string>();
    objs = [...own, ...named, ...extra].filter((o) => (seen.has(o.id) ? false : (seen.add(o.id), true)));
  }
  if (b.decorate) await b.decorate(objs, caller);
  const page = sortAndPage(def, applyFilters(objs, filters, query, b.customFilters), query, baseUrl);
  const fields = fieldsOf(query);
  return { [def.collection]: page.items.map((o) => render(def, o, caller, fields)), ...(page.links.length ? { [`${def.collection}_links`]: page.links } : {}) };
}

/** URL segment of a collection: Neutron hyphenates body keys (`security_groups` → `/v2.0/security-groups`). */
export const collectionPath = (def: ResourceDef): string => def.collection.replace(/_/g, '-');

const baseUrlOf = (req: FastifyRequest): string => `${req.protocol}://${req.headers.host ?? 'localhost'}${req.url.split('?')[0]}`;

/** Registers GET/POST on /v2.0/<collection> and GET/PUT/DELETE on /v2.0/<collection>/:id. */
export function registerResource(app: FastifyInstance, ctx: NetworkContext, b: ResourceBehaviour, prefix = '/v2.0'): void {
  const { def } = b;
  const path = `${prefix}/${collectionPath(def)}`;
  app.get(path, async (req, reply) => {
    const caller = callerOf(ctx, req);
    const query = req.query as Query;
    // Whole collections for an admin go out as the stored JSON (the big lists; same answer). As a
    // Buffer: encoded once, where a string would be measured for Content-Length, then encoded.
    const text = await listVerbatim(ctx, b, query, caller);
    if (text !== undefined) return reply.type('application/json; charset=utf-8').send(Buffer.from(text));
    return listFor(ctx, b, query, caller, baseUrlOf(req));
  });
  app.get(`${path}/:id`, async (req) => {
    const caller = callerOf(ctx, req);
    const obj = await loadVisible(ctx, b, (req.params as { id: string }).id, caller);
    if (b.decorate) await b.decorate([obj], caller);
    return { [def.member]: render(def, obj, caller, fieldsOf(req.query as Query)) };
  });
  if (b.create) {
    const create = b.create;
    app.post(path, async (req, reply) => {
      const caller = callerOf(ctx, req);
      const { bulk, items } = createBodies(def, req.body, caller);
      const made = await create(items, caller);
      if (b.decorate) await b.decorate(made, caller);
      reply.status(201);
      return bulk ? { [def.collection]: made.map((o) => render(def, o, caller)) } : { [def.member]: render(def, made[0]!, caller) };
    });
  }
  if (b.update) {
    const update = b.update;
    app.put(`${path}/:id`, async (req) => {
      const caller = callerOf(ctx, req);
      const obj = await loadVisible(ctx, b, (req.params as { id: string }).id, caller);
      const attrs = updateAttrs(def, req.body, caller);
      const next = await update(obj, attrs, caller);
      if (b.decorate) await b.decorate([next], caller);
      return { [def.member]: render(def, next, caller) };
    });
  }
  if (b.remove) {
    const remove = b.remove;
    app.delete(`${path}/:id`, async (req, reply) => {
      const caller = callerOf(ctx, req);
      const obj = await loadVisible(ctx, b, (req.params as { id: string }).id, caller);
      await remove(obj, caller);
      reply.status(204).send();
    });
  }
}
