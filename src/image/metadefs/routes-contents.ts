/**
 * What a namespace contains: objects, properties, tags and resource type associations, plus the
 * resource type list and the metadef schema documents.
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../platform/http/faults.js';
import {
  type Ctx, authorize, listOptions, page, queryParam, refuseIfProtected, rejectOtherMethods, visibleNamespace,
} from './context.js';
import { associationValuesOf, bodyOf, conform, definitionOf, objectValuesOf, tagNameOf } from './input.js';
import { metadefSchemaDocuments, objectSchema, propertySchema, resourceTypeAssociationSchema, tagListBodySchema, tagSchema } from './schemas.js';
import * as store from './store.js';
import { isoTime } from './util.js';
import { associationView, objectView, propertiesByName, propertyView, resourceTypeView, tagView } from './views.js';

const NS = '/v2/metadefs/namespaces/:namespace';
const STAMPS = ['created_at', 'updated_at'];
const OBJECT_READ_ONLY = ['self', 'schema', ...STAMPS];
const SORT_KEYS = ['name', 'created_at', 'updated_at'];

type P<K extends string> = { Params: { namespace: string } & Record<K, string> };
type NsP = { Params: { namespace: string } };

/** Appending to a namespace's tags instead of replacing them (X-Openstack-Append, oslo's bool_from_string). */
const truthy = (v: unknown): boolean => typeof v === 'string' && ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());

export function registerObjectRoutes(app: FastifyInstance, ctx: Ctx): void {
  const missing = (ns: string, name: string) => notFound(`The metadata definition object with name=${name} was not found in namespace=${ns}.`);

  app.get<NsP>(`${NS}/objects`, async (req) => {
    const o = listOptions(req, SORT_KEYS, { zeroLimitOk: false });
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_objects', req, ns);
    const rows = page(await store.listObjects(ctx.db, ns), o, (r) => r.name, (m) => missing(ns.namespace, m));
    return { objects: rows.map((r) => objectView(ns, r)), schema: '/v2/schemas/metadefs/objects' };
  });

  app.post<NsP>(`${NS}/objects`, async (req, reply) => {
    const values = objectValuesOf(bodyOf(req.body, objectSchema(), OBJECT_READ_ONLY));
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'add_metadef_object', req, ns);
    const row = await store.insertObject(ctx.db, ns, values);
    reply.code(201);
    return objectView(ns, row);
  });

  const one = `${NS}/objects/:object`;
  app.get<P<'object'>>(one, async (req) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_object', req, ns);
    const row = await store.findObject(ctx.db, ns, req.params.object);
    if (!row) throw missing(ns.namespace, req.params.object);
    return objectView(ns, row);
  });

  app.put<P<'object'>>(one, async (req) => {
    const values = objectValuesOf(bodyOf(req.body, objectSchema(), OBJECT_READ_ONLY));
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'modify_metadef_object', req, ns);
    const row = await store.findObject(ctx.db, ns, req.params.object);
    if (!row) throw missing(ns.namespace, req.params.object);
    return objectView(ns, await store.updateObject(ctx.db, ns, row, values));
  });

  app.delete<P<'object'>>(one, async (req, reply) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'delete_metadef_object', req, ns);
    const row = await store.findObject(ctx.db, ns, req.params.object);
    if (!row) throw missing(ns.namespace, req.params.object);
    refuseIfProtected(ns, `Metadata definition object ${row.name}`);
    await store.deleteObject(ctx.db, row);
    reply.code(204);
  });
  rejectOtherMethods(app, `${NS}/objects`, ['GET', 'POST', 'DELETE']);
  rejectOtherMethods(app, one, ['GET', 'PUT', 'DELETE']);
}

export function registerPropertyRoutes(app: FastifyInstance, ctx: Ctx): void {
  const missing = (ns: string, name: string) => notFound(`The metadata definition property with name=${name} was not found in namespace=${ns}.`);

  app.get<NsP>(`${NS}/properties`, async (req) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_properties', req, ns);
    return { properties: propertiesByName(await store.listProperties(ctx.db, ns)) };
  });

  app.post<NsP>(`${NS}/properties`, async (req, reply) => {
    const body = bodyOf(req.body, propertySchema(true), STAMPS);
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'add_metadef_property', req, ns);
    const row = await store.insertProperty(ctx.db, ns, body.name as string, definitionOf(body));
    reply.code(201);
    return propertyView(row);
  });

  const one = `${NS}/properties/:property`;
  app.get<P<'property'>>(one, async (req) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_property', req, ns);
    let name = req.params.property;
    // With ?resource_type=…, the name carries that association's prefix, which is stripped.
    const resourceType = queryParam(req, 'resource_type');
    if (resourceType) {
      authorize(ctx, 'get_metadef_resource_type', req, ns);
      const association = await store.findAssociation(ctx.db, ns, resourceType);
      if (!association) {
        throw notFound(`The metadata definition resource-type association of resource-type=${resourceType} to namespace=${ns.namespace}, was not found.`);
      }
      const prefix = association.prefix ?? '';
      if (!prefix || !name.startsWith(prefix)) {
        throw notFound(`Property ${name} does not start with the expected resource type association prefix of '${prefix}'.`);
      }
      name = name.slice(prefix.length);
    }
    const row = await store.findProperty(ctx.db, ns, name);
    if (!row) throw missing(ns.namespace, name);
    return propertyView(row);
  });

  app.put<P<'property'>>(one, async (req) => {
    const body = bodyOf(req.body, propertySchema(true), STAMPS);
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'modify_metadef_property', req, ns);
    const row = await store.findProperty(ctx.db, ns, req.params.property);
    if (!row) throw missing(ns.namespace, req.params.property);
    return propertyView(await store.updateProperty(ctx.db, ns, row, body.name as string, definitionOf(body)));
  });

  app.delete<P<'property'>>(one, async (req, reply) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'remove_metadef_property', req, ns);
    const row = await store.findProperty(ctx.db, ns, req.params.property);
    if (!row) throw missing(ns.namespace, req.params.property);
    refuseIfProtected(ns, `Metadata definition property ${row.name}`);
    await store.deleteProperty(ctx.db, row);
    reply.code(204);
  });
  rejectOtherMethods(app, `${NS}/properties`, ['GET', 'POST', 'DELETE']);
  rejectOtherMethods(app, one, ['GET', 'PUT', 'DELETE']);
}

export function registerTagRoutes(app: FastifyInstance, ctx: Ctx): void {
  const missing = (ns: string, name: string) => notFound(`The metadata definition tag with name=${name} was not found in namespace=${ns}.`);

  app.get<NsP>(`${NS}/tags`, async (req) => {
    const o = listOptions(req, SORT_KEYS);
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_tags', req, ns);
    const rows = page(await store.listTags(ctx.db, ns), o, (r) => r.name, (m) => missing(ns.namespace, m));
    return { tags: rows.map(tagView) };
  });

  app.post<NsP>(`${NS}/tags`, async (req, reply) => {
    const body = bodyOf(req.body, tagListBodySchema(), STAMPS);
    const names = ((body.tags as Record<string, unknown>[] | undefined) ?? []).map(tagNameOf);
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'add_metadef_tags', req, ns);
    const append = truthy(req.headers['x-openstack-append']);
    // Without X-Openstack-Append the list replaces the namespace's tags; all or nothing.
    const rows = await ctx.db.transaction().execute(async (trx) => {
      if (!append && names.length) await store.deleteChildren(trx, ns, 'metadef_tag');
      const now = new Date();
      const out = [];
      for (const [i, name] of names.entries()) out.push(await store.insertTag(trx, ns, name, isoTime(now, i)));
      return out;
    });
    reply.code(201);
    return { tags: rows.map((t) => ({ name: t.name })) };
  });

  const one = `${NS}/tags/:tag`;
  app.post<P<'tag'>>(one, async (req, reply) => {
    const name = req.params.tag;
    conform({ name }, tagSchema());
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'add_metadef_tag', req, ns);
    const row = await store.insertTag(ctx.db, ns, tagNameOf({ name }));
    reply.code(201);
    return tagView(row);
  });

  app.get<P<'tag'>>(one, async (req) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'get_metadef_tag', req, ns);
    const row = await store.findTag(ctx.db, ns, req.params.tag);
    if (!row) throw missing(ns.namespace, req.params.tag);
    return tagView(row);
  });

  app.put<P<'tag'>>(one, async (req) => {
    const body = bodyOf(req.body, tagSchema(), STAMPS);
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'modify_metadef_tag', req, ns);
    const row = await store.findTag(ctx.db, ns, req.params.tag);
    if (!row) throw missing(ns.namespace, req.params.tag);
    return tagView(await store.renameTag(ctx.db, ns, row, tagNameOf(body)));
  });

  app.delete<P<'tag'>>(one, async (req, reply) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'delete_metadef_tag', req, ns);
    const row = await store.findTag(ctx.db, ns, req.params.tag);
    if (!row) throw missing(ns.namespace, req.params.tag);
    refuseIfProtected(ns, `Metadata definition tag ${row.name}`);
    await store.deleteTag(ctx.db, row);
    reply.code(204);
  });
  rejectOtherMethods(app, `${NS}/tags`, ['GET', 'POST', 'DELETE']);
  rejectOtherMethods(app, one, ['GET', 'POST', 'PUT', 'DELETE']);
}

export function registerResourceTypeRoutes(app: FastifyInstance, ctx: Ctx): void {
  app.get('/v2/metadefs/resource_types', async (req) => {
    authorize(ctx, 'list_metadef_resource_types', req);
    return { resource_types: (await store.listResourceTypes(ctx.db)).map(resourceTypeView) };
  });
  rejectOtherMethods(app, '/v2/metadefs/resource_types', ['GET']);

  app.get<NsP>(`${NS}/resource_types`, async (req) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'list_metadef_resource_types', req, ns);
    return { resource_type_associations: (await store.listAssociations(ctx.db, ns)).map(associationView) };
  });

  app.post<NsP>(`${NS}/resource_types`, async (req, reply) => {
    const values = associationValuesOf(bodyOf(req.body, resourceTypeAssociationSchema(), STAMPS));
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'add_metadef_resource_type_association', req, ns);
    const row = await ctx.db.transaction().execute((trx) => store.insertAssociation(trx, ns, values));
    reply.code(201);
    return associationView(row);
  });
  rejectOtherMethods(app, `${NS}/resource_types`, ['GET', 'POST']);

  const one = `${NS}/resource_types/:resourceType`;
  app.delete<P<'resourceType'>>(one, async (req, reply) => {
    const ns = await visibleNamespace(ctx, req, req.params.namespace);
    authorize(ctx, 'remove_metadef_resource_type_association', req, ns);
    const association = await store.findAssociation(ctx.db, ns, req.params.resourceType);
    if (!association) throw notFound(`Failed to find resource type ${req.params.resourceType} to delete`);
    refuseIfProtected(ns, `Metadata definition resource-type-association ${association.name}`);
    await store.deleteAssociation(ctx.db, association);
    reply.code(204);
  });
  rejectOtherMethods(app, one, ['DELETE']);
}

/** `/v2/schemas/metadefs/{namespace,namespaces,object,…}`: readable by any authenticated caller, as Glance's. */
export function registerSchemaRoutes(app: FastifyInstance): void {
  for (const [name, doc] of Object.entries(metadefSchemaDocuments)) {
    const url = `/v2/schemas/metadefs/${name}`;
    app.get(url, async () => doc());
    rejectOtherMethods(app, url, ['GET']);
  }
}
