/**
 * Instance records: one row per server in `compute_instance` (see schema.ts), read and written
 * as `Instance` objects. Updates can state what they expect (Nova's `expected_task_state` /
 * `expected_vm_state`): the write happens only if the row still matches, so two conflicting
 * actions never both proceed — the loser gets `InstanceStateConflict`.
 */
import type { Kysely, Transaction } from 'kysely';
import type { ServersDB, InstanceRow } from './schema.js';
import { nowIso } from '../store/db.js';

export type ServersDb = Kysely<ServersDB> | Transaction<ServersDB>;

/** A flavor as an instance keeps it (Nova's instance.flavor): sizes frozen at boot or resize. */
export interface InstanceFlavor {
  readonly flavorid: string;
  readonly name: string;
  readonly vcpus: number;
  readonly memory_mb: number;
  readonly root_gb: number;
  readonly ephemeral_gb: number;
  readonly swap: number;
  readonly extra_specs: Readonly<Record<string, string>>;
  readonly description?: string | null;
}

/** The image an instance booted from, as Nova keeps it in system metadata. */
export interface InstanceImage {
  readonly id: string;
  readonly name: string;
  readonly disk_format: string;
  readonly min_disk: number;
  readonly min_ram: number;
  readonly properties: Readonly<Record<string, string>>;
}

/** A network the user asked for (Nova's requested networks). */
export interface RequestedNetwork { readonly uuid?: string; readonly port?: string; readonly fixed_ip?: string; readonly tag?: string }

/** A port of the instance; `created`: Nova made it (and deletes it with the instance). */
export interface InstancePort { readonly id: string; readonly created: boolean; /** The device tag given at attach (2.49). */ readonly tag?: string | null }

/** One address of a server as the API shows it. */
export interface AddressEntry { readonly version: 4 | 6; readonly addr: string; readonly type: 'fixed' | 'floating'; readonly mac: string; readonly port: string }

export interface InstanceFault { readonly code: number; readonly message: string; readonly details: string; readonly created: string }

/** What an instance keeps besides its columns. */
export interface InstanceBody {
  description: string | null;
  hostname: string;
  flavor: InstanceFlavor;
  /** The flavor before a resize, while it awaits confirm/revert. */
  old_flavor?: InstanceFlavor | null;
  image: InstanceImage;
  metadata: Record<string, string>;
  /** Base64, as the API took it. */
  user_data: string | null;
  key_data: string | null;
  /** The key pair's type (`ssh` or `x509`). */
  key_type?: string | null;
  config_drive: boolean;
  requested_networks: 'auto' | 'none' | RequestedNetwork[];
  ports: InstancePort[];
  /** Nova's network info cache: the addresses shown by the API, by network name. */
  addresses: Record<string, AddressEntry[]>;
  security_groups: string[];
  access_ip_v4: string;
  access_ip_v6: string;
  /** OS-DCF:diskConfig as requested (the QEMU driver always grows the root disk to the flavor). */
  disk_config?: 'AUTO' | 'MANUAL';
  tags: string[];
  fault: InstanceFault | null;
  server_group: string | null;
  scheduler_hints: Record<string, unknown>;
  locked_reason: string | null;
  locked_by: 'owner' | 'admin' | null;
  progress: number;
  /** Shelved offloaded: the snapshot it unshelves from. */
  shelved_image_id?: string | null;
  trusted_image_certificates?: string[] | null;
  /** The hostname of the hypervisor node (OS-EXT-SRV-ATTR:hypervisor_hostname). */
  hypervisor_hostname?: string | null;
}

/** One instance: its row's columns plus its body. */
export interface Instance extends Omit<InstanceRow, 'body'> {
  readonly body: InstanceBody;
}

/** A write the row must still match to happen. */
export interface Expect {
  readonly task_state?: readonly (string | null)[];
  readonly vm_state?: readonly string[];
}

/** The row did not match what an update expected (another action got there first). */
export class InstanceStateConflict extends Error {
  constructor(readonly uuid: string, readonly actual: { vm_state: string; task_state: string | null }) {
    super(`Instance ${uuid} is in vm_state ${actual.vm_state}, task_state ${actual.task_state ?? 'None'}`);
  }
}

export const toInstance = (r: InstanceRow): Instance => ({ ...r, body: JSON.parse(r.body) as InstanceBody });

export async function insertInstance(db: ServersDb, i: Omit<Instance, 'id'>): Promise<void> {
  await db.insertInto('compute_instance').values({ ...i, body: JSON.stringify(i.body) } as never).execute();
}

/** An instance by uuid (deleted ones only when asked). */
export async function getInstance(db: ServersDb, uuid: string, o: { readonly deleted?: boolean } = {}): Promise<Instance | undefined> {
  let q = db.selectFrom('compute_instance').selectAll().where('uuid', '=', uuid);
  if (!o.deleted) q = q.where('deleted', '=', 0);
  const r = await q.executeTakeFirst();
  return r ? toInstance(r) : undefined;
}

/** Columns and body keys an update may set. */
export type InstancePatch = Partial<Omit<InstanceRow, 'id' | 'uuid' | 'body'>> & { readonly body?: Partial<InstanceBody> };

/**
 * Updates an instance if it still matches `expect`; returns the new record. Throws
 * InstanceStateConflict when it does not match, or an Error when the instance is gone.
 */
export async function updateInstance(db: Kysely<ServersDB>, uuid: string, patch: InstancePatch, expect: Expect = {}): Promise<Instance> {
  // Compare-and-swap on the row as read (states and updated_at), retried when another write won
  // in between: atomic on every engine without row locks.
  for (let attempt = 0; attempt < 20; attempt++) {
    const cur = await db.selectFrom('compute_instance').selectAll().where('uuid', '=', uuid).where('deleted', '=', 0).executeTakeFirst();
    if (!cur) throw new InstanceGone(uuid);
    if ((expect.task_state && !expect.task_state.includes(cur.task_state)) || (expect.vm_state && !expect.vm_state.includes(cur.vm_state))) {
      throw new InstanceStateConflict(uuid, { vm_state: cur.vm_state, task_state: cur.task_state });
    }
    const { body, ...cols } = patch;
    const next: InstanceRow = { ...cur, ...cols, updated_at: nowIso() };
    if (body) next.body = JSON.stringify({ ...(JSON.parse(cur.body) as InstanceBody), ...body });
    const { id: _id, uuid: _uuid, ...set } = next;
    let q = db.updateTable('compute_instance').set(set).where('id', '=', cur.id).where('deleted', '=', 0).where('vm_state', '=', cur.vm_state);
    q = cur.task_state === null ? q.where('task_state', 'is', null) : q.where('task_state', '=', cur.task_state);
    q = cur.updated_at === null ? q.where('updated_at', 'is', null) : q.where('updated_at', '=', cur.updated_at);
    const r = await q.executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return toInstance(next);
  }
  throw new Error(`instance ${uuid}: too many concurrent updates`);
}

/** The instance was deleted meanwhile. */
export class InstanceGone extends Error {
  constructor(readonly uuid: string) { super(`instance ${uuid} not found`); }
}

/** The live instances of a host (the compute agent's view of what it should run). */
export async function instancesOnHost(db: ServersDb, host: string): Promise<Instance[]> {
  return (await db.selectFrom('compute_instance').selectAll().where('host', '=', host).where('deleted', '=', 0).execute()).map(toInstance);
}

/** Marks an instance deleted (the row stays, as Nova's soft-deleted rows do, for usage and changes-since). */
export async function markDeleted(db: ServersDb, uuid: string): Promise<void> {
  const now = nowIso();
  const r = await db.selectFrom('compute_instance').select(['id']).where('uuid', '=', uuid).where('deleted', '=', 0).executeTakeFirst();
  if (!r) return;
  await db.updateTable('compute_instance').set({
    deleted: r.id, deleted_at: now, updated_at: now, terminated_at: now, vm_state: 'deleted', task_state: null, power_state: 0,
  }).where('id', '=', r.id).execute();
}
