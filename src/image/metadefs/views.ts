/**
 * The JSON Glance returns for metadef entities. Absent optional attributes are left out (Glance's
 * models drop nulls); timestamps are shown with seconds precision.
 */
import type { NamespaceRow, ObjectRow, PropertyRow, TagRow, ResourceTypeRow } from './tables.js';
import type { Association } from './store.js';
import { apiTime, parseJson } from './util.js';

export const namespaceHref = (name: string): string => `/v2/metadefs/namespaces/${name}`;

type Json = Record<string, unknown>;

const stamps = (r: { created_at: string; updated_at: string }): Json => ({ created_at: apiTime(r.created_at), updated_at: apiTime(r.updated_at) });
const withoutNulls = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

export function namespaceView(ns: NamespaceRow): Json {
  return withoutNulls({
    namespace: ns.namespace, display_name: ns.display_name, description: ns.description, visibility: ns.visibility,
    protected: ns.protected === 1, owner: ns.owner, ...stamps(ns), self: namespaceHref(ns.namespace), schema: '/v2/schemas/metadefs/namespace',
  });
}

export function associationView(a: Association): Json {
  return withoutNulls({ name: a.name, prefix: a.prefix, properties_target: a.properties_target, ...stamps(a) });
}

export const resourceTypeView = (t: ResourceTypeRow): Json => ({ name: t.name, ...stamps(t) });

/** A property definition as stored (no name: it is the key in lists, or added by `propertyView`). */
export const propertyDefinition = (p: PropertyRow): Json => parseJson<Json>(p.json_schema, {});

export const propertyView = (p: PropertyRow): Json => ({ name: p.name, ...propertyDefinition(p) });

/** Properties keyed by name, optionally with a resource type's prefix put before each name. */
export function propertiesByName(props: readonly PropertyRow[], prefix = ''): Json {
  return Object.fromEntries(props.map((p) => [prefix + p.name, propertyDefinition(p)]));
}

export function objectView(ns: NamespaceRow, o: ObjectRow, prefix = ''): Json {
  const properties = parseJson<Json>(o.json_schema, {});
  return withoutNulls({
    name: o.name, description: o.description,
    required: parseJson<string[]>(o.required, []).map((r) => prefix + r),
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [prefix + k, v])),
    ...stamps(o), self: `${namespaceHref(ns.namespace)}/objects/${o.name}`, schema: '/v2/schemas/metadefs/object',
  });
}

export const tagView = (t: TagRow): Json => ({ name: t.name, ...stamps(t) });
