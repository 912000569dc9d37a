import type { Kysely, Migration } from 'kysely';

const UUID = 'varchar(36)';
const NAME = 'varchar(255)';
const TIME = 'varchar(32)';

/**
 * Placement's tables. Providers, classes, traits and aggregates are keyed by their public names
 * (uuid or name), so rows read straight into API documents without id caches. Each provider's
 * `generation` is the optimistic lock every change that depends on its state ends with
 * (`UPDATE … WHERE generation = <read>`): a writer that lost a race sees zero rows and retries
 * or answers 409, on every engine.
 */
async function initial(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('placement_resource_class')
    .addColumn('name', NAME, (c) => c.primaryKey())
    .addColumn('standard', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createTable('placement_trait')
    .addColumn('name', NAME, (c) => c.primaryKey())
    .addColumn('standard', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createTable('placement_provider')
    .addColumn('uuid', UUID, (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('generation', 'integer', (c) => c.notNull())
    // A parent cannot disappear under its children (deleting it is a 409), whatever races.
    .addColumn('parent_uuid', UUID)
    .addColumn('root_uuid', UUID, (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .addForeignKeyConstraint('placement_provider_parent_fk', ['parent_uuid'], 'placement_provider', ['uuid'])
    .execute();
  await db.schema.createIndex('placement_provider_root').on('placement_provider').column('root_uuid').execute();
  await db.schema.createIndex('placement_provider_parent').on('placement_provider').column('parent_uuid').execute();
  await db.schema.createTable('placement_inventory')
    .addColumn('provider_uuid', UUID, (c) => c.notNull())
    .addColumn('resource_class', NAME, (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('reserved', 'integer', (c) => c.notNull())
    .addColumn('min_unit', 'integer', (c) => c.notNull())
    .addColumn('max_unit', 'integer', (c) => c.notNull())
    .addColumn('step_size', 'integer', (c) => c.notNull())
    .addColumn('allocation_ratio', 'double precision', (c) => c.notNull())
    // The sum of the allocations against this inventory, kept by the allocation writes
    // (increments under the row's lock), so capacity checks read one row instead of summing.
    .addColumn('used', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .addPrimaryKeyConstraint('placement_inventory_pk', ['provider_uuid', 'resource_class'])
    .execute();
  await db.schema.createIndex('placement_inventory_class').on('placement_inventory').column('resource_class').execute();
  await db.schema.createTable('placement_provider_trait')
    .addColumn('provider_uuid', UUID, (c) => c.notNull())
    .addColumn('trait', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('placement_provider_trait_pk', ['provider_uuid', 'trait'])
    .execute();
  await db.schema.createIndex('placement_provider_trait_trait').on('placement_provider_trait').column('trait').execute();
  await db.schema.createTable('placement_provider_aggregate')
    .addColumn('provider_uuid', UUID, (c) => c.notNull())
    .addColumn('aggregate_uuid', UUID, (c) => c.notNull())
    .addPrimaryKeyConstraint('placement_provider_aggregate_pk', ['provider_uuid', 'aggregate_uuid'])
    .execute();
  await db.schema.createIndex('placement_provider_aggregate_agg').on('placement_provider_aggregate').column('aggregate_uuid').execute();
  await db.schema.createTable('placement_consumer')
    .addColumn('uuid', UUID, (c) => c.primaryKey())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('consumer_type', NAME)
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createIndex('placement_consumer_project').on('placement_consumer').columns(['project_id', 'user_id']).execute();
  await db.schema.createTable('placement_allocation')
    .addColumn('consumer_uuid', UUID, (c) => c.notNull())
    .addColumn('provider_uuid', UUID, (c) => c.notNull())
    .addColumn('resource_class', NAME, (c) => c.notNull())
    .addColumn('used', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .addPrimaryKeyConstraint('placement_allocation_pk', ['consumer_uuid', 'provider_uuid', 'resource_class'])
    .execute();
  await db.schema.createIndex('placement_allocation_provider').on('placement_allocation').columns(['provider_uuid', 'resource_class']).execute();
}

/** The placement service's migrations, applied in name order. */
export const placementMigrations: Record<string, Migration> = {
  '0001_initial': { up: initial },
};
