/**
 * Data access of the metadef catalogue: namespaces and their objects, properties, tags and
 * resource type associations. Lookups by name; visibility and policy are the routes' business.
 * Uniqueness is the database's (unique constraints → 409), except tag names, which are unique
 * regardless of case as in Glance, on every engine.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { conflict } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import type { AssociationRow, MetadefDB, NamespaceRow, ObjectRow, PropertyRow, ResourceTypeRow, TagRow } from './tables.js';
import { isoTime, newId } from './util.js';

export type Db = Kysely<MetadefDB> | Transaction<MetadefDB>;

/** Runs `insert`, turning a unique-constraint violation into a 409 with `message`. */
export async function unique<T>(message: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(message);
    throw err;
  }
}

// ---- namespaces

export const findNamespace = (db: Db, name: string): Promise<NamespaceRow | undefined> =>
  db.selectFrom('metadef_namespace').selectAll().where('namespace', '=', name).executeTakeFirst();

/** Namespaces that are public or owned by `project` (all of them for `admin`), optionally filtered. */
export async function listNamespaces(db: Db, who: { admin: boolean; project: string | null },
  filter: { visibility?: string; resourceTypes?: readonly string[] }): Promise<NamespaceRow[]> {
  let q = db.selectFrom('metadef_namespace').selectAll();
  if (!who.admin) {
    q = who.project === null
      ? q.where('visibility', '=', 'public')
      : q.where((eb) => eb.or([eb('owner', '=', who.project as string), eb('visibility', '=', 'public')]));
  }
  if (filter.visibility) q = q.where('visibility', '=', filter.visibility);
  if (filter.resourceTypes) {
    if (filter.resourceTypes.length === 0) return [];
    const types = [...filter.resourceTypes];
    q = q.where('id', 'in', (eb) => eb.selectFrom('metadef_association as a')
      .innerJoin('metadef_resource_type as t', 't.id', 'a.resource_type_id')
      .select('a.namespace_id').where('t.name', 'in', types));
  }
  return q.execute();
}

export interface NamespaceValues {
  namespace: string; display_name: string | null; description: string | null; visibility: string; protected: boolean; owner: string;
}

export async function insertNamespace(db: Db, v: NamespaceValues): Promise<NamespaceRow> {
  const now = isoTime();
  const row: NamespaceRow = { id: newId(), ...v, protected: v.protected ? 1 : 0, created_at: now, updated_at: now };
  await unique(`Namespace ${v.namespace} already exists.`, () => db.insertInto('metadef_namespace').values(row).execute());
  return row;
}

export async function updateNamespace(db: Db, ns: NamespaceRow, v: NamespaceValues): Promise<NamespaceRow> {
  const changes = { ...v, protected: v.protected ? 1 : 0, updated_at: isoTime() };
  await unique(`Invalid update: a namespace named ${v.namespace} already exists.`,
    () => db.updateTable('metadef_namespace').set(changes).where('id', '=', ns.id).execute());
  return { ...ns, ...changes };
}

/** Deletes a namespace and everything in it (children explicitly, whatever the engine's foreign keys do). */
export async function deleteNamespace(db: Db, ns: NamespaceRow): Promise<void> {
  for (const table of ['metadef_object', 'metadef_property', 'metadef_tag', 'metadef_association'] as const) {
    await db.deleteFrom(table).where('namespace_id', '=', ns.id).execute();
  }
  await db.deleteFrom('metadef_namespace').where('id', '=', ns.id).execute();
}

export async function deleteChildren(db: Db, ns: NamespaceRow, table: 'metadef_object' | 'metadef_property' | 'metadef_tag'): Promise<void> {
  await db.deleteFrom(table).where('namespace_id', '=', ns.id).execute();
}

// ---- objects

export const listObjects = (db: Db, ns: NamespaceRow): Promise<ObjectRow[]> =>
  db.selectFrom('metadef_object').selectAll().where('namespace_id', '=', ns.id).execute();

export const findObject = (db: Db, ns: NamespaceRow, name: string): Promise<ObjectRow | undefined> =>
  db.selectFrom('metadef_object').selectAll().where('namespace_id', '=', ns.id).where('name', '=', name).executeTakeFirst();

export interface ObjectValues { name: string; description: string | null; required: string[]; properties: Record<string, unknown> }

const objectDuplicate = (ns: NamespaceRow, name: string): string =>
  `A metadata definition object with name=${name} already exists in namespace=${ns.namespace}.`;

export async function insertObject(db: Db, ns: NamespaceRow, v: ObjectValues, now = isoTime()): Promise<ObjectRow> {
  const row: ObjectRow = {
    id: newId(), namespace_id: ns.id, name: v.name, description: v.description, required: JSON.stringify(v.required),
    json_schema: JSON.stringify(v.properties), created_at: now, updated_at: now,
  };
  await unique(objectDuplicate(ns, v.name), () => db.insertInto('metadef_object').values(row).execute());
  return row;
}

export async function updateObject(db: Db, ns: NamespaceRow, obj: ObjectRow, v: ObjectValues): Promise<ObjectRow> {
  const changes = {
    name: v.name, description: v.description, required: JSON.stringify(v.required), json_schema: JSON.stringify(v.properties), updated_at: isoTime(),
  };
  await unique(objectDuplicate(ns, v.name), () => db.updateTable('metadef_object').set(changes).where('id', '=', obj.id).execute());
  return { ...obj, ...changes };
}

export async function deleteObject(db: Db, obj: ObjectRow): Promise<void> {
  await db.deleteFrom('metadef_object').where('id', '=', obj.id).execute();
}

// ---- properties

export const listProperties = (db: Db, ns: NamespaceRow): Promise<PropertyRow[]> =>
  db.selectFrom('metadef_property').selectAll().where('namespace_id', '=', ns.id).orderBy('created_at').orderBy('name').execute();

export const findProperty = (db: Db, ns: NamespaceRow, name: string): Promise<PropertyRow | undefined> =>
  db.selectFrom('metadef_property').selectAll().where('namespace_id', '=', ns.id).where('name', '=', name).executeTakeFirst();

const propertyDuplicate = (ns: NamespaceRow, name: string): string =>
  `A metadata definition property with name=${name} already exists in namespace=${ns.namespace}.`;

export async function insertProperty(db: Db, ns: NamespaceRow, name: string, definition: Record<string, unknown>, now = isoTime()): Promise<PropertyRow> {
  const row: PropertyRow = { id: newId(), namespace_id: ns.id, name, json_schema: JSON.stringify(definition), created_at: now, updated_at: now };
  await unique(propertyDuplicate(ns, name), () => db.insertInto('metadef_property').values(row).execute());
  return row;
}

export async function updateProperty(db: Db, ns: NamespaceRow, prop: PropertyRow, name: string, definition: Record<string, unknown>): Promise<PropertyRow> {
  const changes = { name, json_schema: JSON.stringify(definition), updated_at: isoTime() };
  await unique(propertyDuplicate(ns, name), () => db.updateTable('metadef_property').set(changes).where('id', '=', prop.id).execute());
  return { ...prop, ...changes };
}

export async function deleteProperty(db: Db, prop: PropertyRow): Promise<void> {
  await db.deleteFrom('metadef_property').where('id', '=', prop.id).execute();
}

// ---- tags

export const listTags = (db: Db, ns: NamespaceRow): Promise<TagRow[]> =>
  db.selectFrom('metadef_tag').selectAll().where('namespace_id', '=', ns.id).execute();

export const findTag = (db: Db, ns: NamespaceRow, name: string): Promise<TagRow | undefined> =>
  db.selectFrom('metadef_tag').selectAll().where('namespace_id', '=', ns.id).where('name', '=', name).executeTakeFirst();

const tagDuplicate = (ns: NamespaceRow, name: string): string =>
  `A metadata tag with name=${name} already exists in namespace=${ns.namespace}. (Please note that metadata tag names are case insensitive).`;

/** Adds a tag (409 when the namespace has it already, in any case). */
export async function insertTag(db: Db, ns: NamespaceRow, name: string, now = isoTime()): Promise<TagRow> {
  await refuseTagClash(db, ns, name);
  const row: TagRow = { id: newId(), namespace_id: ns.id, name, created_at: now, updated_at: now };
  await unique(tagDuplicate(ns, name), () => db.insertInto('metadef_tag').values(row).execute());
  return row;
}

/** 409 when the namespace has a tag of that name in any case; `except` is a tag being renamed. */
async function refuseTagClash(db: Db, ns: NamespaceRow, name: string, except?: string): Promise<void> {
  let q = db.selectFrom('metadef_tag').select('id').where('namespace_id', '=', ns.id).where(sql`lower(name)`, '=', name.toLowerCase());
  if (except) q = q.where('id', '!=', except);
  if (await q.executeTakeFirst()) throw conflict(tagDuplicate(ns, name));
}

export async function renameTag(db: Db, ns: NamespaceRow, tag: TagRow, name: string): Promise<TagRow> {
  await refuseTagClash(db, ns, name, tag.id);
  const changes = { name, updated_at: isoTime() };
  await unique(tagDuplicate(ns, name), () => db.updateTable('metadef_tag').set(changes).where('id', '=', tag.id).execute());
  return { ...tag, ...changes };
}

export async function deleteTag(db: Db, tag: TagRow): Promise<void> {
  await db.deleteFrom('metadef_tag').where('id', '=', tag.id).execute();
}

// ---- resource types and associations

export const listResourceTypes = (db: Db): Promise<ResourceTypeRow[]> =>
  db.selectFrom('metadef_resource_type').selectAll().orderBy('created_at').orderBy('name').execute();

/** The resource type called `name`, created (unprotected) when it does not exist yet, as Glance does. */
export async function ensureResourceType(db: Db, name: string): Promise<ResourceTypeRow> {
  const found = await db.selectFrom('metadef_resource_type').selectAll().where('name', '=', name).executeTakeFirst();
  if (found) return found;
  const now = isoTime();
  const row: ResourceTypeRow = { id: newId(), name, protected: 0, created_at: now, updated_at: now };
  await unique(`A metadata definition resource-type with name=${name} already exists.`,
    () => db.insertInto('metadef_resource_type').values(row).execute());
  return row;
}

export type Association = AssociationRow & { name: string };

export const listAssociations = (db: Db, ns: NamespaceRow): Promise<Association[]> =>
  db.selectFrom('metadef_association as a').innerJoin('metadef_resource_type as t', 't.id', 'a.resource_type_id')
    .selectAll('a').select('t.name').where('a.namespace_id', '=', ns.id).orderBy('a.created_at').orderBy('t.name').execute();

export async function findAssociation(db: Db, ns: NamespaceRow, typeName: string): Promise<Association | undefined> {
  return (await listAssociations(db, ns)).find((a) => a.name === typeName);
}

export interface AssociationValues { name: string; prefix: string | null; properties_target: string | null }

export async function insertAssociation(db: Db, ns: NamespaceRow, v: AssociationValues, now = isoTime()): Promise<Association> {
  const type = await ensureResourceType(db, v.name);
  const row: AssociationRow = {
    namespace_id: ns.id, resource_type_id: type.id, prefix: v.prefix, properties_target: v.properties_target, created_at: now, updated_at: now,
  };
  await unique(`The metadata definition resource-type association of resource-type=${v.name} to namespace=${ns.namespace}, already exists.`,
    () => db.insertInto('metadef_association').values(row).execute());
  return { ...row, name: type.name };
}

export async function deleteAssociation(db: Db, a: Association): Promise<void> {
  await db.deleteFrom('metadef_association').where('namespace_id', '=', a.namespace_id).where('resource_type_id', '=', a.resource_type_id).execute();
}
