/**
 * Tables of the metadata-definition catalogue. Portable conventions (as the identity tables):
 * string ids, booleans as integers 0/1, ISO-8601 UTC timestamps with microseconds (they sort as
 * text), JSON documents as text. Children reference their namespace by id, so a namespace can be
 * renamed without touching them.
 */
import type { Kysely, Migration } from 'kysely';
import { isoTime } from './util.js';

export interface NamespaceRow {
  id: string; namespace: string; display_name: string | null; description: string | null;
  visibility: string; protected: number; owner: string; created_at: string; updated_at: string;
}
/** `required` is a JSON array of names, `json_schema` a JSON object of property definitions. */
export interface ObjectRow {
  id: string; namespace_id: string; name: string; description: string | null; required: string;
  json_schema: string; created_at: string; updated_at: string;
}
/** `json_schema` is the property definition (JSON object, without its name). */
export interface PropertyRow { id: string; namespace_id: string; name: string; json_schema: string; created_at: string; updated_at: string }
export interface TagRow { id: string; namespace_id: string; name: string; created_at: string; updated_at: string }
/** `protected`: a seeded system type. */
export interface ResourceTypeRow { id: string; name: string; protected: number; created_at: string; updated_at: string }
export interface AssociationRow {
  namespace_id: string; resource_type_id: string; prefix: string | null; properties_target: string | null;
  created_at: string; updated_at: string;
}

export interface MetadefDB {
  metadef_namespace: NamespaceRow;
  metadef_object: ObjectRow;
  metadef_property: PropertyRow;
  metadef_tag: TagRow;
  metadef_resource_type: ResourceTypeRow;
  metadef_association: AssociationRow;
}

const ID = 'varchar(64)';
const NAME = 'varchar(80)';
const TS = 'varchar(32)';

/**
 * The resource types Glance's database starts with (its original metadef migration; Nova's
 * instance type was later renamed OS::Nova::Server). Others appear when a namespace is associated
 * with a new name, as in Glance.
 */
export const SEEDED_RESOURCE_TYPES = ['OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server'];

async function initial(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('metadef_namespace')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('namespace', NAME, (c) => c.notNull())
    .addColumn('display_name', NAME)
    .addColumn('description', 'text')
    .addColumn('visibility', 'varchar(32)', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addUniqueConstraint('metadef_namespace_name', ['namespace'])
    .execute();
  await s.createIndex('metadef_namespace_owner').on('metadef_namespace').column('owner').execute();
  const child = (table: string) => s.createTable(table)
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('namespace_id', ID, (c) => c.notNull().references('metadef_namespace.id').onDelete('cascade'))
    .addColumn('name', NAME, (c) => c.notNull());
  await child('metadef_object')
    .addColumn('description', 'text')
    .addColumn('required', 'text', (c) => c.notNull())
    .addColumn('json_schema', 'text', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addUniqueConstraint('metadef_object_ns_name', ['namespace_id', 'name'])
    .execute();
  await child('metadef_property')
    .addColumn('json_schema', 'text', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addUniqueConstraint('metadef_property_ns_name', ['namespace_id', 'name'])
    .execute();
  await child('metadef_tag')
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addUniqueConstraint('metadef_tag_ns_name', ['namespace_id', 'name'])
    .execute();
  await s.createTable('metadef_resource_type')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addUniqueConstraint('metadef_resource_type_name', ['name'])
    .execute();
  await s.createTable('metadef_association')
    .addColumn('namespace_id', ID, (c) => c.notNull().references('metadef_namespace.id').onDelete('cascade'))
    .addColumn('resource_type_id', ID, (c) => c.notNull().references('metadef_resource_type.id'))
    .addColumn('prefix', NAME)
    .addColumn('properties_target', NAME)
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addPrimaryKeyConstraint('metadef_association_pk', ['namespace_id', 'resource_type_id'])
    .execute();
  await s.createIndex('metadef_association_type').on('metadef_association').column('resource_type_id').execute();

  // Seeded in Glance's order: timestamps one microsecond apart keep that order when listed.
  const now = new Date();
  await db.insertInto('metadef_resource_type').values(SEEDED_RESOURCE_TYPES.map((name, i) => {
    const ts = isoTime(now, i);
    return { id: `seed${i + 1}`, name, protected: 1, created_at: ts, updated_at: ts };
  })).execute();
}

export const metadefMigrations: Record<string, Migration> = {
  '0001_initial': { up: initial },
};
