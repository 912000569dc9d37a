import type { Kysely, Migration } from 'kysely';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';

/**
 * A resource table: id, project, name, the JSON body, and indexed mirror columns.
 * Adding a resource kind is one call here plus its ResourceDef.
 */
export async function createResourceTable(db: Kysely<any>, table: string, columns: Readonly<Record<string, string>> = {}): Promise<void> {
  let t = db.schema.createTable(table)
    .addColumn('id', ID, (c) => c.primaryKey())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull());
  for (const [col, type] of Object.entries(columns)) t = t.addColumn(col, type as 'text');
  await t.execute();
  await db.schema.createIndex(`${table}_project`).on(table).column('project_id').execute();
  for (const col of Object.keys(columns)) await db.schema.createIndex(`${table}_${col}`).on(table).column(col).execute();
}

async function initial(db: Kysely<any>): Promise<void> {
  await createResourceTable(db, 'net_network', { shared: 'integer', external: 'integer' });
  await createResourceTable(db, 'net_subnet', { network_id: ID, subnetpool_id: ID });
  await createResourceTable(db, 'net_port', { network_id: ID, device_id: NAME, device_owner: NAME, mac_address: 'varchar(32)', host: NAME });
  // A MAC is unique on its network (Neutron's MacAddressInUse).
  await db.schema.createIndex('net_port_network_mac').unique().on('net_port').columns(['network_id', 'mac_address']).execute();
  await createResourceTable(db, 'net_security_group', {});
  // One default group per project: the primary key settles a race between two first requests.
  await db.schema.createTable('net_default_security_group')
    .addColumn('project_id', NAME, (c) => c.primaryKey())
    .addColumn('security_group_id', ID, (c) => c.notNull())
    .execute();
  await createResourceTable(db, 'net_security_group_rule', { security_group_id: ID, remote_group_id: ID });
  await createResourceTable(db, 'net_router', {});
  await createResourceTable(db, 'net_floating_ip', { floating_network_id: ID, port_id: ID, floating_ip_address: 'varchar(64)' });
  await db.schema.createIndex('net_floating_ip_address').unique().on('net_floating_ip').columns(['floating_network_id', 'floating_ip_address']).execute();
  await createResourceTable(db, 'net_agent', { host: NAME, agent_type: NAME });
  // IPAM: one row per allocated address; the primary key makes concurrent allocations of one
  // address impossible on every engine (the loser retries with the next free address).
  await db.schema.createTable('net_ip_allocation')
    .addColumn('subnet_id', ID, (c) => c.notNull())
    .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('network_id', ID, (c) => c.notNull())
    .addColumn('port_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('net_ip_allocation_pk', ['subnet_id', 'ip_address'])
    .execute();
  await db.schema.createIndex('net_ip_allocation_port').on('net_ip_allocation').column('port_id').execute();
  await db.schema.createIndex('net_ip_allocation_network').on('net_ip_allocation').column('network_id').execute();
  // Segmentation ids (VXLAN VNIs) taken, unique per type.
  await db.schema.createTable('net_segment_allocation')
    .addColumn('network_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('segmentation_id', 'integer', (c) => c.notNull())
    .addColumn('network_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('net_segment_allocation_pk', ['network_type', 'segmentation_id'])
    .execute();
  await db.schema.createTable('net_quota')
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('resource', 'varchar(64)', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('net_quota_pk', ['project_id', 'resource'])
    .execute();
}

/**
 * Agent scheduling: which DHCP agent serves a network (Neutron's networkdhcpagentbindings),
 * and one agent row per (type, host) so two first heartbeats racing cannot register an agent twice.
 */
async function agents(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('net_agent_type_host').unique().on('net_agent').columns(['agent_type', 'host']).execute();
  await db.schema.createTable('net_dhcp_agent_binding')
    .addColumn('network_id', ID, (c) => c.notNull())
    .addColumn('agent_id', ID, (c) => c.notNull())
    .addPrimaryKeyConstraint('net_dhcp_agent_binding_pk', ['network_id', 'agent_id'])
    .execute();
  await db.schema.createIndex('net_dhcp_agent_binding_agent').on('net_dhcp_agent_binding').column('agent_id').execute();
}

/**
 * A fixed IP of a port maps to at most one floating IP per external network (Neutron's
 * FloatingIPPortAlreadyAssociated): the unique index settles two racing associations.
 */
async function floatingIpAssociation(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('net_floating_ip').addColumn('fixed_ip_address', 'varchar(64)').execute();
  await db.schema.createIndex('net_floating_ip_fixed').unique().on('net_floating_ip').columns(['floating_network_id', 'port_id', 'fixed_ip_address']).execute();
}

/**
 * Subnet pools. A pool's row is what subnet allocation locks; `default_for_version` holds the IP
 * version while the pool is that version's default (NULL otherwise, and NULLs never collide), so
 * the unique index lets only one default per version exist even when two requests race.
 */
async function subnetpools(db: Kysely<any>): Promise<void> {
  await createResourceTable(db, 'net_subnetpool', { shared: 'integer' });
  await db.schema.alterTable('net_subnetpool').addColumn('default_for_version', 'integer').execute();
  await db.schema.createIndex('net_subnetpool_default').unique().on('net_subnetpool').column('default_for_version').execute();
}

/** The network service's migrations, applied in name order. */
export const networkMigrations: Record<string, Migration> = {
  '0001_initial': { up: initial },
  '0002_agents': { up: agents },
  '0003_floating_ip_association': { up: floatingIpAssociation },
  '0004_subnetpools': { up: subnetpools },
};
