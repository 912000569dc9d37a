import type { Kysely, Migration } from 'kysely';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TS = 'varchar(32)';

async function initial(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('image')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME)
    .addColumn('status', 'varchar(30)', (c) => c.notNull())
    .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('os_hidden', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('checksum', 'varchar(32)')
    .addColumn('os_hash_algo', 'varchar(64)')
    .addColumn('os_hash_value', 'varchar(128)')
    .addColumn('owner', NAME)
    .addColumn('size', 'bigint')
    .addColumn('virtual_size', 'bigint')
    .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('container_format', 'varchar(32)')
    .addColumn('disk_format', 'varchar(32)')
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addColumn('location', 'text')
    .addColumn('stage_location', 'text')
    .addColumn('stage_info', 'text')
    .execute();
  await s.createIndex('image_owner').on('image').column('owner').execute();
  await s.createIndex('image_visibility').on('image').column('visibility').execute();
  await s.createIndex('image_created').on('image').columns(['created_at', 'id']).execute();
  await s.createTable('image_property')
    .addColumn('image_id', ID, (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_property_pk', ['image_id', 'name'])
    .execute();
  await s.createIndex('image_property_name').on('image_property').column('name').execute();
  await s.createTable('image_tag')
    .addColumn('image_id', ID, (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('value', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('image_tag_pk', ['image_id', 'value'])
    .execute();
  await s.createIndex('image_tag_value').on('image_tag').column('value').execute();
  await s.createTable('image_member')
    .addColumn('image_id', ID, (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('member', NAME, (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addPrimaryKeyConstraint('image_member_pk', ['image_id', 'member'])
    .execute();
  await s.createIndex('image_member_member').on('image_member').column('member').execute();
  // Import tasks (Glance's `api_image_import` tasks, shown by GET /v2/images/{id}/tasks).
  await s.createTable('image_task')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('image_id', ID, (c) => c.notNull())
    .addColumn('type', 'varchar(30)', (c) => c.notNull())
    .addColumn('status', 'varchar(30)', (c) => c.notNull())
    .addColumn('owner', NAME)
    .addColumn('user_id', NAME)
    .addColumn('request_id', NAME)
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull())
    .addColumn('expires_at', TS)
    .execute();
  await s.createIndex('image_task_image').on('image_task').column('image_id').execute();
}

/** The image service's migrations, applied in name order. */
export const imageMigrations: Record<string, Migration> = {
  '0001_initial': { up: initial },
};
