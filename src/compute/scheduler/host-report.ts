/**
 * A compute host's report of its resources (Nova's resource tracker + report client): the compute
 * node (hypervisor) record, and the placement resource provider of that node — same UUID, named
 * after the node — with its inventory (VCPU, MEMORY_MB, DISK_GB with the configured reserved
 * amounts and allocation ratios), its traits (what the driver supports, the CPU's features,
 * COMPUTE_STATUS_DISABLED while the service is disabled) and its aggregates (the host's compute
 * aggregates, by UUID, as Nova mirrors them into placement).
 *
 * Writes are skipped when the provider is at the generation of our last write and nothing
 * changed, so a periodic report costs reads only. Traits are the driver's plus the CUSTOM_* ones
 * set on the provider by hand; aggregates are replaced wholesale (the host's Nova aggregates).
 *
 * {@link placementAggregateHooks} are the compute hooks that keep placement in step when an
 * aggregate's hosts change or a compute service is deleted between reports.
 */
import { Fault } from '../../platform/http/faults.js';
import type { Config } from '../../platform/config/config.js';
import type { InventorySpec, Placement, ProviderInfo } from '../../placement/client.js';
import type { ComputeContext, ComputeHooks } from '../context.js';
import type { HostInfo } from '../driver/types.js';
import { reportHypervisor, uptimeLine, type ComputeNode } from '../hypervisors.js';
import { computeServiceOf } from '../services.js';
import { insertWithId, isUniqueViolation, nowIso } from '../store/db.js';
import { cpuTraits, hostCpuFlags, QEMU64_FLAGS } from './cpu-traits.js';

/** Traits every Nephos compute node has: what the drivers (qemu, fake) support. */
export const DRIVER_TRAITS: readonly string[] = [
  'COMPUTE_NODE',
  'COMPUTE_NET_ATTACH_INTERFACE',
  'COMPUTE_NET_VIF_MODEL_VIRTIO',
  'COMPUTE_STORAGE_BUS_VIRTIO',
  'COMPUTE_IMAGE_TYPE_QCOW2',
  'COMPUTE_IMAGE_TYPE_RAW',
  'COMPUTE_IMAGE_TYPE_AKI',
  'COMPUTE_IMAGE_TYPE_ARI',
  'COMPUTE_CONFIG_DRIVE_REGENERATION',
  'COMPUTE_FIRMWARE_BIOS',
  'COMPUTE_GRAPHICS_MODEL_VGA',
];

/** What the host reports besides its HostInfo. */
export interface ReportHostOptions {
  /** The compute service's host name; also the node's hypervisor_hostname and the provider's name. */
  readonly host: string;
  /**
   * The node's UUID to use when the node is first recorded (a UUID the host keeps, like Nova's
   * compute_id file); a node already recorded under another UUID is an error. Default: a new one.
   */
  readonly nodeUuid?: string;
  readonly hostInfo: HostInfo;
  /** Default: the compute context's configuration. */
  readonly config?: Config;
  /** CPU flags guests see (Linux names); default: the host's under KVM, qemu64's under TCG. */
  readonly cpuFlags?: readonly string[];
  /** What instances use now (default 0). */
  readonly usage?: { readonly vcpusUsed?: number; readonly memoryMbUsed?: number; readonly localGbUsed?: number; readonly runningVms?: number };
  readonly hostIp?: string | null;
  /** The host's `uptime` line (default: this machine's). */
  readonly uptime?: string | null;
}

export interface HostReport {
  readonly node: ComputeNode;
  readonly provider: ProviderInfo;
  readonly inventory: Readonly<Record<string, InventorySpec>>;
  readonly traits: readonly string[];
  readonly aggregates: readonly string[];
  /** Whether placement was written (false: nothing had changed). */
  readonly wrote: boolean;
}

interface Written { generation: number; inventory: string; traits: string; aggregates: string }

/** What each placement last got from us, per provider. */
const written = new WeakMap<Placement, Map<string, Written>>();
const writtenOf = (p: Placement): Map<string, Written> => {
  let m = written.get(p);
  if (!m) { m = new Map(); written.set(p, m); }
  return m;
};

/** The inventory of a node: what Nova's libvirt driver reports, reserved amounts never above the total. */
export function inventoryOf(info: Pick<HostInfo, 'vcpus' | 'memoryMb' | 'localGb'>, cfg: Config): Record<string, InventorySpec> {
  const c = cfg.compute;
  const inv: Record<string, InventorySpec> = {};
  if (info.vcpus > 0) inv.VCPU = { total: info.vcpus, reserved: 0, min_unit: 1, max_unit: info.vcpus, step_size: 1, allocation_ratio: c.cpu_allocation_ratio };
  if (info.memoryMb > 0) {
    inv.MEMORY_MB = {
      total: info.memoryMb, reserved: Math.min(c.reserved_host_memory_mb, info.memoryMb), min_unit: 1, max_unit: info.memoryMb, step_size: 1,
      allocation_ratio: c.ram_allocation_ratio,
    };
  }
  if (info.localGb > 0) {
    inv.DISK_GB = {
      total: info.localGb, reserved: Math.min(Math.ceil(c.reserved_host_disk_mb / 1024), info.localGb), min_unit: 1, max_unit: info.localGb, step_size: 1,
      allocation_ratio: c.disk_allocation_ratio,
    };
  }
  return inv;
}

/** The traits of a node: the drivers' own, its architecture, the guests' CPU features, the service status. */
export function traitsOf(info: Pick<HostInfo, 'virtType' | 'cpuInfo'>, o: { cpuFlags?: readonly string[]; disabled?: boolean } = {}): string[] {
  const out = new Set(DRIVER_TRAITS);
  if (info.cpuInfo.arch === 'x86_64') { out.add('HW_ARCH_X86_64'); out.add('COMPUTE_ARCH_X86_64'); }
  if (info.cpuInfo.arch === 'aarch64') { out.add('HW_ARCH_AARCH64'); out.add('COMPUTE_ARCH_AARCH64'); }
  if (info.cpuInfo.arch === 'x86_64') for (const t of cpuTraits(guestCpuFlags(info, o.cpuFlags))) out.add(t);
  if (o.disabled) out.add('COMPUTE_STATUS_DISABLED');
  return [...out].sort();
}

/** The CPU flags guests see: given ones, else the host's under KVM (`-cpu host`), qemu64's under TCG. */
function guestCpuFlags(info: Pick<HostInfo, 'virtType' | 'cpuInfo'>, given?: readonly string[]): readonly string[] {
  if (given) return given;
  if (info.cpuInfo.arch !== 'x86_64') return [];
  return info.virtType === 'kvm' ? hostCpuFlags() : QEMU64_FLAGS;
}

/** UUIDs of the compute aggregates `host` is in. */
async function hostAggregateUuids(ctx: ComputeContext, host: string): Promise<string[]> {
  const rows = await ctx.db.selectFrom('compute_aggregate_host').innerJoin('compute_aggregate', 'compute_aggregate.id', 'compute_aggregate_host.aggregate_id')
    .select('compute_aggregate.uuid as uuid').where('compute_aggregate_host.host', '=', host).execute();
  return rows.map((r) => r.uuid).sort();
}

/** Records the node under `uuid` before its first report (reportHypervisor then updates it). */
async function adoptNodeUuid(ctx: ComputeContext, host: string, uuid: string, info: HostInfo): Promise<void> {
  const existing = await ctx.db.selectFrom('compute_node').select('uuid').where('host', '=', host).where('hypervisor_hostname', '=', host).executeTakeFirst();
  if (existing) {
    if (existing.uuid !== uuid) throw new Error(`compute node ${host} is recorded as ${existing.uuid}, not ${uuid}: the host's node UUID changed`);
    return;
  }
  try {
    await insertWithId(ctx.db, ctx.engine, 'compute_node', {
      uuid, host, hypervisor_hostname: host, hypervisor_type: info.hypervisorType, hypervisor_version: info.hypervisorVersion, virt_type: info.virtType,
      vcpus: info.vcpus, memory_mb: info.memoryMb, local_gb: info.localGb, vcpus_used: 0, memory_mb_used: 0, local_gb_used: 0, running_vms: 0,
      current_workload: 0, disk_available_least: null, cpu_info: '{}', host_ip: null, uptime: null, created_at: nowIso(), updated_at: null,
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await adoptNodeUuid(ctx, host, uuid, info); // recorded meanwhile: same check
  }
}

/**
 * Sets the node's traits to the driver's ones plus the CUSTOM_* traits already on the provider
 * (an operator's `resource provider trait set`, which Nova keeps too): read and write under one
 * generation, again if someone changed the provider in between.
 */
async function writeTraits(placement: Placement, uuid: string, driverTraits: readonly string[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const current = await placement.getTraits(uuid);
    const kept = current.traits.filter((t) => t.startsWith('CUSTOM_') && !driverTraits.includes(t));
    try {
      return await placement.setTraits(uuid, [...driverTraits, ...kept], { generation: current.generation });
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Fault && err.status === 409)) throw err;
    }
  }
}

/**
 * Reports a compute host: its compute node (created on the first report) and the node's placement
 * resource provider with inventory, traits and aggregates. Safe to call periodically and
 * concurrently for different hosts.
 */
export async function reportHost(placement: Placement, ctx: ComputeContext, o: ReportHostOptions): Promise<HostReport> {
  const cfg = o.config ?? ctx.config;
  const info = o.hostInfo;
  if (o.nodeUuid) await adoptNodeUuid(ctx, o.host, o.nodeUuid.toLowerCase(), info);
  const u = o.usage ?? {};
  const node = await reportHypervisor(ctx, o.host, {
    hypervisor_hostname: o.host, hypervisor_type: info.hypervisorType, hypervisor_version: info.hypervisorVersion, virt_type: info.virtType,
    vcpus: info.vcpus, memory_mb: info.memoryMb, local_gb: info.localGb,
    vcpus_used: u.vcpusUsed ?? 0, memory_mb_used: (u.memoryMbUsed ?? 0) + cfg.compute.reserved_host_memory_mb, local_gb_used: u.localGbUsed ?? 0,
    running_vms: u.runningVms ?? 0, disk_available_least: info.localGbFree,
    cpu_info: {
      arch: info.cpuInfo.arch, model: info.cpuInfo.model, vendor: info.cpuInfo.vendor, topology: { sockets: 1, cores: info.vcpus, threads: 1 },
      features: [...guestCpuFlags(info, o.cpuFlags)].sort(),
    },
    host_ip: o.hostIp ?? null, uptime: o.uptime === undefined ? uptimeLine() : o.uptime,
  });
  const service = await computeServiceOf(ctx, o.host);
  const inventory = inventoryOf(info, cfg);
  const traits = traitsOf(info, { cpuFlags: o.cpuFlags, disabled: service?.disabled === 1 });
  const aggregates = await hostAggregateUuids(ctx, o.host);

  let provider = await placement.ensureProvider({ uuid: node.uuid, name: node.hypervisor_hostname });
  const cache = writtenOf(placement);
  const last = cache.get(node.uuid);
  const want = { inventory: JSON.stringify(inventory), traits: JSON.stringify(traits), aggregates: JSON.stringify(aggregates) };
  const fresh = last?.generation === provider.generation;
  let wrote = false;
  let generation = provider.generation;
  if (!fresh || last.inventory !== want.inventory) { generation = await placement.setInventory(node.uuid, inventory); wrote = true; }
  if (!fresh || last.traits !== want.traits) { generation = await writeTraits(placement, node.uuid, traits); wrote = true; }
  if (!fresh || last.aggregates !== want.aggregates) { generation = await placement.setAggregates(node.uuid, aggregates); wrote = true; }
  if (wrote) provider = { ...provider, generation };
  cache.set(node.uuid, { generation, ...want });
  return { node, provider, inventory, traits, aggregates, wrote };
}

/**
 * Compute hooks mirroring aggregate membership into placement (Nova's aggregate_add_host /
 * aggregate_remove_host) and dropping the resource providers of a deleted compute service.
 * Install with `compute.setHooks(placementAggregateHooks(placement.client, compute.ctx))`.
 */
export function placementAggregateHooks(placement: Placement, ctx: ComputeContext): Pick<ComputeHooks, 'aggregateChanged' | 'computeServiceDeleted'> {
  return {
    aggregateChanged: async (aggregate, removedHosts) => {
      const hosts = [...new Set([...aggregate.hosts, ...removedHosts])];
      if (!hosts.length) return;
      const nodes = await ctx.db.selectFrom('compute_node').select(['uuid', 'host']).where('host', 'in', hosts).execute();
      const rows = await ctx.db.selectFrom('compute_aggregate_host').innerJoin('compute_aggregate', 'compute_aggregate.id', 'compute_aggregate_host.aggregate_id')
        .select(['compute_aggregate_host.host as host', 'compute_aggregate.uuid as uuid']).where('compute_aggregate_host.host', 'in', hosts).execute();
      const cache = writtenOf(placement);
      for (const n of nodes) {
        if (!(await placement.getProvider(n.uuid))) continue; // not reported yet: its first report sets them
        const uuids = rows.filter((r) => r.host === n.host).map((r) => r.uuid).sort();
        const generation = await placement.setAggregates(n.uuid, uuids);
        const last = cache.get(n.uuid);
        if (last) cache.set(n.uuid, { ...last, generation, aggregates: JSON.stringify(uuids) });
      }
    },
    computeServiceDeleted: async ({ host, nodeUuids }) => {
      const cache = writtenOf(placement);
      for (const uuid of nodeUuids) {
        cache.delete(uuid);
        if (await placement.getProvider(uuid)) await placement.deleteProvider(uuid);
        ctx.log.info({ host, provider: uuid }, 'resource provider of a deleted compute service removed');
      }
    },
  };
}
