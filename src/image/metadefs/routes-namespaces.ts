/**
 * `/v2/metadefs/namespaces[/{namespace}]`: list, create (with nested contents), show (optionally
 * with a resource type's prefix applied), update, delete; and the bulk deletes of a namespace's
 * objects, properties and tags.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../platform/http/faults.js';
import { authOf } from '../../platform/auth/index.js';
import {
  type Ctx, allowed, authorize, callerOf, listOptions, namespaceNotFound, page, queryParam, refuseIfProtected, rejectOtherMethods, visibleNamespace,
} from './context.js';
import { associationValuesOf, bodyOf, objectValuesOf, propertiesOf, tagNameOf } from './input.js';
import { namespaceSchema } from './schemas.js';
import * as store from './store.js';
import type { NamespaceRow } from './tables.js';
import { isoTime } from './util.js';
import { associationView, namespaceView, objectView, propertiesByName } from './views.js';

const BASE = '/v2/metadefs/namespaces';
const READ_ONLY = ['self', 'schema', 'created_at', 'updated_at'];
const SORT_KEYS = ['namespace', 'display_name', 'description', 'visibility', 'protected', 'owner', 'created_at', 'updated_at'];

type NsParams = { Params: { namespace: string } };

/** The stored attributes of a namespace from a create/update body; absent ones take Glance's defaults. */
function namespaceValues(body: Record<string, unknown>, req: FastifyRequest): store.NamespaceValues {
  return {
    namespace: body.namespace as string,
    display_name: (body.display_name as string | undefined) ?? null,
    description: (body.description as string | undefined) ?? null,
    visibility: (body.visibility as string | undefined) || 'private',
    protected: body.protected === true,
    owner: (body.owner as string | undefined) || (authOf(req).projectId ?? ''),
  };
}

/** A namespace with all its contents, property names prefixed for `resourceType` if it names an association with a prefix. */
async function namespaceDetail(ctx: Ctx, ns: NamespaceRow, resourceType?: string): Promise<Record<string, unknown>> {
  const view = namespaceView(ns);
  const [associations, objects, properties, tags] = await Promise.all([
    store.listAssociations(ctx.db, ns), store.listObjects(ctx.db, ns), store.listProperties(ctx.db, ns), store.listTags(ctx.db, ns),
  ]);
  const prefix = (resourceType && associations.find((a) => a.name === resourceType)?.prefix) || '';
  if (associations.length) view.resource_type_associations = associations.map(associationView);
  if (objects.length) view.objects = [...objects].sort((a, b) => a.created_at.localeCompare(b.created_at)).map((o) => objectView(ns, o, prefix));
  if (properties.length) view.properties = propertiesByName(properties, prefix);
  if (tags.length) view.tags = [...tags].sort((a, b) => a.created_at.localeCompare(b.created_at)).map((t) => ({ name: t.name }));
  return view;
}

export function registerNamespaceRoutes(app: FastifyInstance, ctx: Ctx): void {
  app.get(BASE, async (req) => {
    const o = listOptions(req, SORT_KEYS, { limitDefault: ctx.deps.limitDefault ?? 25, limitMax: ctx.deps.limitMax ?? 1000 });
    const visibility = queryParam(req, 'visibility');
    if (visibility && visibility !== 'public' && visibility !== 'private') throw badRequest(`Invalid visibility value: ${visibility}`);
    const typesParam = queryParam(req, 'resource_types');
    authorize(ctx, 'get_metadef_namespaces', req);
    authorize(ctx, 'list_metadef_resource_types', req);
    const rows = await store.listNamespaces(ctx.db, callerOf(req), {
      visibility: visibility || undefined,
      resourceTypes: typesParam === undefined ? undefined : typesParam.split(',').map((s) => s.trim()).filter(Boolean),
    });
    const shown = page(rows, o, (r) => r.namespace, namespaceNotFound)
      .filter((ns) => allowed(ctx, 'get_metadef_namespace', req, ns)); // per namespace, as Glance filters
    const namespaces = await Promise.all(shown.map(async (ns) => {
      const view = namespaceView(ns);
      const associations = await store.listAssociations(ctx.db, ns);
      if (associations.length) view.resource_type_associations = associations.map(associationView);
      return view;
    }));
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
      if (k === 'marker') continue;
      for (const item of Array.isArray(v) ? v : [v]) query.append(k, String(item));
    }
    const result: Record<string, unknown> = {
      namespaces, first: query.size ? `${BASE}?${query}` : BASE, schema: '/v2/schemas/metadefs/namespaces',
    };
    if (shown.length !== 0 && shown.length === o.limit) {
      query.set('marker', shown[shown.length - 1].namespace);
      result.next = `${BASE}?${query}`;
    }
    return result;
  });

  app.post(BASE, async (req, reply) => {
    const body = bodyOf(req.body, namespaceSchema(), READ_ONLY);
    const associations = ((body.resource_type_associations as Record<string, unknown>[] | undefined) ?? []).map(associationValuesOf);
    const objects = ((body.objects as Record<string, unknown>[] | undefined) ?? []).map(objectValuesOf);
    const properties = propertiesOf(body.properties);
    const tags = ((body.tags as Record<string, unknown>[] | undefined) ?? []).map(tagNameOf);
    authorize(ctx, 'add_metadef_namespace', req);
    if (associations.length) authorize(ctx, 'add_metadef_resource_type_association', req);
    if (objects.length) authorize(ctx, 'add_metadef_object', req);
    if (Object.keys(properties).length) authorize(ctx, 'add_metadef_property', req);
    if (tags.length) authorize(ctx, 'add_metadef_tag', req);
    // One transaction: a clash anywhere (two objects of one name, …) leaves no namespace behind.
    const ns = await ctx.db.transaction().execute(async (trx) => {
      const created = await store.insertNamespace(trx, namespaceValues(body, req));
      const now = new Date();
      let n = 0;
      for (const a of associations) await store.insertAssociation(trx, created, a, isoTime(now, n++));
      for (const o of objects) await store.insertObject(trx, created, o, isoTime(now, n++));
      for (const t of tags) await store.insertTag(trx, created, t, isoTime(now, n++));
      for (const [name, def] of Object.entries(properties)) await store.insertProperty(trx, created, name, def, isoTime(now, n++));
      return created;
    });
    reply.code(201).header('location', namespaceView(ns).self as string);
    return namespaceDetail(ctx, ns);
  });

  const one = `${BASE}/:namespace`;
  app.get<NsParams>(one, async (req) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_namespace', req, ns);
    for (const rule of ['list_metadef_resource_types', 'get_metadef_objects', 'get_metadef_properties', 'get_metadef_tags']) {
      authorize(ctx, rule, req, ns);
    }
    return namespaceDetail(ctx, ns, queryParam(req, 'resource_type'));
  });

  app.put<NsParams>(one, async (req) => {
    const body = bodyOf(req.body, namespaceSchema(), READ_ONLY);
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'modify_metadef_namespace', req, ns);
    // Like Glance, attributes missing from the body go back to their defaults (see the API reference).
    const updated = await store.updateNamespace(ctx.db, ns, namespaceValues(body, req));
    return namespaceView(updated);
  });

  app.delete<NsParams>(one, async (req, reply) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'delete_metadef_namespace', req, ns);
    refuseIfProtected(ns, `Metadata definition namespace ${ns.namespace}`);
    await ctx.db.transaction().execute((trx) => store.deleteNamespace(trx, ns));
    reply.code(204);
  });
  rejectOtherMethods(app, BASE, ['GET', 'POST']);
  rejectOtherMethods(app, one, ['GET', 'PUT', 'DELETE']);

  // Bulk deletes of a namespace's contents need the right to delete the namespace itself (Glance).
  const bulk = (suffix: string, table: 'metadef_object' | 'metadef_property' | 'metadef_tag', extraRule?: string) => {
    app.delete<NsParams>(`${one}/${suffix}`, async (req, reply) => {
      const ns = await visibleNamespace(ctx, req, req.params.namespace);
      authorize(ctx, 'delete_metadef_namespace', req, ns);
      if (extraRule) authorize(ctx, extraRule, req, ns);
      refuseIfProtected(ns, `Metadata definition namespace ${ns.namespace}`);
      await store.deleteChildren(ctx.db, ns, table);
      reply.code(204);
    });
  };
  bulk('objects', 'metadef_object');
  bulk('properties', 'metadef_property');
  bulk('tags', 'metadef_tag', 'delete_metadef_tags');
}
