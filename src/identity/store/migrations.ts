import type { Kysely, Migration } from 'kysely';

// Column shapes shared by every table (see schema.ts for the conventions).
const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TS = 'varchar(32)';

async function initial(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('project')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('parent_id', ID)
    .addColumn('is_domain', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addUniqueConstraint('project_domain_name', ['domain_id', 'name'])
    .execute();
  await s.createIndex('project_parent').on('project').column('parent_id').execute();
  await s.createTable('project_tag')
    .addColumn('project_id', ID, (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('name', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('project_tag_pk', ['project_id', 'name'])
    .execute();
  await s.createTable('user_account')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('default_project_id', ID)
    .addColumn('description', 'text')
    .addColumn('email', NAME)
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('last_active_at', TS)
    .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_auth_at', TS)
    .addUniqueConstraint('user_domain_name', ['domain_id', 'name'])
    .execute();
  await s.createTable('user_password')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('user_id', ID, (c) => c.notNull().references('user_account.id').onDelete('cascade'))
    .addColumn('hash', NAME, (c) => c.notNull())
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('expires_at', TS)
    .addColumn('self_service', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await s.createIndex('user_password_user').on('user_password').columns(['user_id', 'created_at']).execute();
  await s.createTable('user_group')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('group_domain_name', ['domain_id', 'name'])
    .execute();
  await s.createTable('group_membership')
    .addColumn('user_id', ID, (c) => c.notNull())
    .addColumn('group_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('group_membership_pk', ['user_id', 'group_id'])
    .execute();
  await s.createIndex('group_membership_group').on('group_membership').column('group_id').execute();
  await s.createTable('role')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('role_name_domain', ['name', 'domain_id'])
    .execute();
  await s.createTable('implied_role')
    .addColumn('prior_role_id', ID, (c) => c.notNull().references('role.id').onDelete('cascade'))
    .addColumn('implied_role_id', ID, (c) => c.notNull().references('role.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('implied_role_pk', ['prior_role_id', 'implied_role_id'])
    .execute();
  await s.createTable('assignment')
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_id', ID, (c) => c.notNull())
    .addColumn('target_id', ID, (c) => c.notNull())
    .addColumn('role_id', ID, (c) => c.notNull())
    .addColumn('inherited', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('assignment_pk', ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
    .execute();
  await s.createIndex('assignment_actor').on('assignment').column('actor_id').execute();
  await s.createIndex('assignment_target').on('assignment').column('target_id').execute();
  await s.createIndex('assignment_role').on('assignment').column('role_id').execute();
  await s.createTable('region')
    .addColumn('id', NAME, (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('parent_region_id', NAME)
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await s.createTable('catalog_service')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('type', NAME, (c) => c.notNull())
    .addColumn('name', NAME)
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await s.createTable('endpoint')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('interface', 'varchar(16)', (c) => c.notNull())
    .addColumn('service_id', ID, (c) => c.notNull().references('catalog_service.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('region_id', NAME)
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await s.createTable('endpoint_group')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('filters', 'text', (c) => c.notNull())
    .execute();
  await s.createTable('project_endpoint_group')
    .addColumn('endpoint_group_id', ID, (c) => c.notNull().references('endpoint_group.id').onDelete('cascade'))
    .addColumn('project_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('project_endpoint_group_pk', ['endpoint_group_id', 'project_id'])
    .execute();
  await s.createTable('project_endpoint')
    .addColumn('endpoint_id', ID, (c) => c.notNull())
    .addColumn('project_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('project_endpoint_pk', ['endpoint_id', 'project_id'])
    .execute();
  await s.createTable('policy_blob')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('type', NAME, (c) => c.notNull())
    .addColumn('blob', 'text', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await s.createTable('credential')
    .addColumn('id', NAME, (c) => c.primaryKey())
    .addColumn('user_id', ID, (c) => c.notNull())
    .addColumn('project_id', ID)
    .addColumn('type', NAME, (c) => c.notNull())
    .addColumn('blob', 'text', (c) => c.notNull())
    .addColumn('key_hash', NAME)
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('credential_user').on('credential').column('user_id').execute();
  await s.createTable('app_credential')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('secret_hash', NAME, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('user_id', ID, (c) => c.notNull())
    .addColumn('project_id', ID)
    .addColumn('system', NAME)
    .addColumn('expires_at', TS)
    .addColumn('unrestricted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', TS, (c) => c.notNull())
    .addUniqueConstraint('app_credential_user_name', ['user_id', 'name'])
    .execute();
  await s.createTable('app_credential_role')
    .addColumn('application_credential_id', ID, (c) => c.notNull().references('app_credential.id').onDelete('cascade'))
    .addColumn('role_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('app_credential_role_pk', ['application_credential_id', 'role_id'])
    .execute();
  await s.createTable('access_rule')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('user_id', ID, (c) => c.notNull())
    .addColumn('service', NAME, (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('method', 'varchar(16)', (c) => c.notNull())
    .execute();
  await s.createTable('app_credential_access_rule')
    .addColumn('application_credential_id', ID, (c) => c.notNull().references('app_credential.id').onDelete('cascade'))
    .addColumn('access_rule_id', ID, (c) => c.notNull().references('access_rule.id'))
    .addPrimaryKeyConstraint('app_credential_access_rule_pk', ['application_credential_id', 'access_rule_id'])
    .execute();
  await s.createTable('trust')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('trustor_user_id', ID, (c) => c.notNull())
    .addColumn('trustee_user_id', ID, (c) => c.notNull())
    .addColumn('project_id', ID)
    .addColumn('impersonation', 'integer', (c) => c.notNull())
    .addColumn('deleted_at', TS)
    .addColumn('expires_at', TS)
    .addColumn('remaining_uses', 'integer')
    .addColumn('redelegated_trust_id', ID)
    .addColumn('redelegation_count', 'integer')
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await s.createTable('trust_role')
    .addColumn('trust_id', ID, (c) => c.notNull().references('trust.id').onDelete('cascade'))
    .addColumn('role_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('trust_role_pk', ['trust_id', 'role_id'])
    .execute();
  await s.createTable('revocation_event')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('domain_id', ID)
    .addColumn('project_id', ID)
    .addColumn('user_id', ID)
    .addColumn('role_id', ID)
    .addColumn('trust_id', ID)
    .addColumn('consumer_id', ID)
    .addColumn('access_token_id', ID)
    .addColumn('audit_id', ID)
    .addColumn('audit_chain_id', ID)
    .addColumn('expires_at', TS)
    .addColumn('issued_before', TS, (c) => c.notNull())
    .addColumn('revoked_at', TS, (c) => c.notNull())
    .execute();
  await s.createIndex('revocation_event_revoked_at').on('revocation_event').column('revoked_at').execute();
  await s.createTable('domain_config')
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('group_name', NAME, (c) => c.notNull())
    .addColumn('option_name', NAME, (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('sensitive', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('domain_config_pk', ['domain_id', 'group_name', 'option_name'])
    .execute();
  await s.createTable('id_mapping')
    .addColumn('public_id', ID, (c) => c.primaryKey())
    .addColumn('domain_id', ID, (c) => c.notNull())
    .addColumn('local_id', NAME, (c) => c.notNull())
    .addColumn('entity_type', 'varchar(16)', (c) => c.notNull())
    .addUniqueConstraint('id_mapping_local', ['domain_id', 'local_id', 'entity_type'])
    .execute();
  await s.createTable('oauth_consumer')
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('description', 'text')
    .addColumn('secret_hash', NAME, (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
}

/** Identity migrations, applied in name order on start and by `nephos db sync`. */
export const identityMigrations: Record<string, Migration> = {
  '0001_initial': { up: initial },
};
