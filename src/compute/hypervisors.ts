/**
 * Compute nodes (Nova's `compute_nodes`, the API's hypervisors): what each host's compute agent
 * reports about its hypervisor — capacity, usage, CPU model — through {@link reportHypervisor}.
 */
import { randomUUID } from 'node:crypto';
import { loadavg, uptime as osUptime } from 'node:os';
import type { ComputeContext } from './context.js';
import { badRequest, notFound } from './faults.js';
import type { ComputeNodeRow } from './store/schema.js';
import { insertWithId, isUniqueViolation, nowIso, type Db } from './store/db.js';

/** What a compute agent reports about its hypervisor (Nova's resource tracker view). */
export interface HypervisorReport {
  /** The node's name (default: the host name). */
  readonly hypervisor_hostname?: string;
  /** 'QEMU' for the qemu driver (Nova's libvirt driver reports QEMU for TCG and KVM alike). */
  readonly hypervisor_type: string;
  /** The hypervisor's version as Nova encodes it: major*1000000 + minor*1000 + micro (QEMU 7.2.0 → 7002000). */
  readonly hypervisor_version: number;
  /** kvm or qemu (TCG). */
  readonly virt_type?: string;
  readonly vcpus: number;
  readonly memory_mb: number;
  readonly local_gb: number;
  readonly vcpus_used?: number;
  /** Memory in use including what the host keeps back (`reserved_host_memory_mb`). */
  readonly memory_mb_used?: number;
  readonly local_gb_used?: number;
  readonly running_vms?: number;
  readonly current_workload?: number;
  readonly disk_available_least?: number | null;
  /** The CPU description shown from 2.28 as an object (arch, model, vendor, topology, features). */
  readonly cpu_info?: Readonly<Record<string, unknown>>;
  readonly host_ip?: string | null;
  /** The host's `uptime` line (see {@link uptimeLine}). */
  readonly uptime?: string | null;
}

/** A compute node with its free capacity (derived as Nova derives it). */
export interface ComputeNode extends ComputeNodeRow { free_ram_mb: number; free_disk_gb: number }

const nonNegInt = (v: unknown, name: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw badRequest(`${name} must be a non-negative integer`);
  return v;
};

function normalise(r: ComputeNodeRow): ComputeNode {
  const n: ComputeNodeRow = {
    ...r, id: Number(r.id), hypervisor_version: Number(r.hypervisor_version), vcpus: Number(r.vcpus), memory_mb: Number(r.memory_mb),
    local_gb: Number(r.local_gb), vcpus_used: Number(r.vcpus_used), memory_mb_used: Number(r.memory_mb_used),
    local_gb_used: Number(r.local_gb_used), running_vms: Number(r.running_vms), current_workload: Number(r.current_workload),
    disk_available_least: r.disk_available_least === null ? null : Number(r.disk_available_least),
  };
  return { ...n, free_ram_mb: n.memory_mb - n.memory_mb_used, free_disk_gb: n.local_gb - n.local_gb_used };
}

/**
 * Records the hypervisor of `host` (create on first report, update afterwards). Called by the
 * compute agent at start and periodically; returns the node (its `uuid` is the placement
 * resource provider's).
 */
export async function reportHypervisor(ctx: ComputeContext, host: string, report: HypervisorReport): Promise<ComputeNode> {
  const nodeName = report.hypervisor_hostname ?? host;
  if (!host || host.length > 255 || !nodeName || nodeName.length > 255) throw badRequest('host and hypervisor_hostname must be 1 to 255 characters');
  if (typeof report.hypervisor_type !== 'string' || !report.hypervisor_type) throw badRequest('hypervisor_type is required');
  const reservedMb = ctx.config.compute.reserved_host_memory_mb;
  const values = {
    hypervisor_type: report.hypervisor_type,
    hypervisor_version: nonNegInt(report.hypervisor_version, 'hypervisor_version'),
    virt_type: report.virt_type ?? null,
    vcpus: nonNegInt(report.vcpus, 'vcpus'),
    memory_mb: nonNegInt(report.memory_mb, 'memory_mb'),
    local_gb: nonNegInt(report.local_gb, 'local_gb'),
    vcpus_used: nonNegInt(report.vcpus_used ?? 0, 'vcpus_used'),
    memory_mb_used: nonNegInt(report.memory_mb_used ?? reservedMb, 'memory_mb_used'),
    local_gb_used: nonNegInt(report.local_gb_used ?? 0, 'local_gb_used'),
    running_vms: nonNegInt(report.running_vms ?? 0, 'running_vms'),
    current_workload: nonNegInt(report.current_workload ?? 0, 'current_workload'),
    disk_available_least: report.disk_available_least ?? null,
    cpu_info: JSON.stringify(report.cpu_info ?? {}),
    host_ip: report.host_ip ?? null,
    uptime: report.uptime ?? null,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await ctx.db.updateTable('compute_node').set({ ...values, updated_at: nowIso() })
      .where('host', '=', host).where('hypervisor_hostname', '=', nodeName).executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) break;
    try {
      await insertWithId(ctx.db, ctx.engine, 'compute_node', { ...values, uuid: randomUUID(), host, hypervisor_hostname: nodeName, created_at: nowIso(), updated_at: null });
      break;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  const row = await ctx.db.selectFrom('compute_node').selectAll().where('host', '=', host).where('hypervisor_hostname', '=', nodeName).executeTakeFirstOrThrow();
  return normalise(row);
}

/** Every compute node ordered by id, paged after `marker` (an id or uuid of a node; else 400). */
export async function listComputeNodes(ctx: ComputeContext, page: { limit?: number; marker?: string; markerIsUuid?: boolean } = {}): Promise<ComputeNode[]> {
  let q = ctx.db.selectFrom('compute_node').selectAll().orderBy('id');
  if (page.marker !== undefined) {
    const mq = ctx.db.selectFrom('compute_node').select('id');
    const m = page.markerIsUuid ? await mq.where('uuid', '=', page.marker).executeTakeFirst()
      : /^\d+$/.test(page.marker) ? await mq.where('id', '=', Number(page.marker)).executeTakeFirst() : undefined;
    if (!m) throw badRequest(`marker [${page.marker}] not found`);
    q = q.where('id', '>', Number(m.id));
  }
  if (page.limit !== undefined) q = q.limit(page.limit);
  return (await q.execute()).map(normalise);
}

/** Compute nodes whose hypervisor hostname contains `pattern` (Nova's LIKE %pattern%), or 404. */
export async function searchComputeNodes(ctx: ComputeContext, pattern: string): Promise<ComputeNode[]> {
  const all = (await ctx.db.selectFrom('compute_node').selectAll().orderBy('id').execute()).map(normalise);
  const found = all.filter((n) => n.hypervisor_hostname.toLowerCase().includes(pattern.toLowerCase()));
  if (!found.length) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return found;
}

/** A compute node by integer id or uuid, or 404 "Hypervisor with ID 'x' could not be found." */
export async function getComputeNode(ctx: ComputeContext, id: number | string, shown: string): Promise<ComputeNode> {
  const q = ctx.db.selectFrom('compute_node').selectAll();
  const r = await (typeof id === 'number' ? q.where('id', '=', id) : q.where('uuid', '=', id)).executeTakeFirst();
  if (!r) throw notFound(`Hypervisor with ID '${shown}' could not be found.`);
  return normalise(r);
}

/** Compute nodes of a host. */
export async function computeNodesOf(db: Db, host: string): Promise<ComputeNode[]> {
  return (await db.selectFrom('compute_node').selectAll().where('host', '=', host).orderBy('id').execute()).map(normalise);
}

/** This machine's `uptime` line, for agents that report on their own host. */
export function uptimeLine(now = new Date()): string {
  const s = Math.floor(osUptime());
  const days = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const clock = now.toTimeString().slice(0, 8);
  const up = days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${hh}:${String(mm).padStart(2, '0')}` : `${hh}:${String(mm).padStart(2, '0')}`;
  const [l1, l5, l15] = loadavg().map((x) => x.toFixed(2));
  return ` ${clock} up ${up},  0 users,  load average: ${l1}, ${l5}, ${l15}`;
}
