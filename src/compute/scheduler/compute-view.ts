/**
 * The compute side of the host states — compute nodes (hypervisor, CPU architecture), compute
 * services (enabled, up) and aggregates (zone, metadata) — read in bulk and kept between
 * requests, since they rarely change while a scheduler runs thousands of decisions:
 *
 * - nodes, the set of services and the aggregates are reloaded when a one-row fingerprint
 *   query (counts, sums and maxima, computed by the engine) changes, and at least every
 *   `maxAgeMs` in case two changes cancel out in the fingerprint (new hosts, capacity changes,
 *   aggregate changes: each moves the snapshot's `version`);
 * - the services' state is read fresh on every request, cheaply: only the services that are
 *   disabled, forced down or silent for longer than `compute.service_down_time` come back (usually
 *   none), every other service is enabled and up.
 *
 * So a service disabled or gone silent is honoured on the very next request.
 */
import { sql } from 'kysely';
import type { ComputeContext } from '../context.js';
import { DEFAULT_AZ, isUp } from '../services.js';
import type { ServiceRow } from '../store/schema.js';

/** An (architecture, hypervisor type, VM mode) a host can run (Nova's supported_instances). */
export type SupportedInstance = readonly [arch: string, hvType: string, vmMode: string];

/** What the filters need of one compute node, besides its service. */
export interface NodeInfo {
  readonly uuid: string;
  readonly host: string;
  readonly nodename: string;
  readonly hypervisorType: string;
  readonly hypervisorVersion: number;
  readonly supportedInstances: readonly SupportedInstance[];
  /** The host's zone (zones joined by ',' in the odd case of several; `nova` outside zoned aggregates). */
  readonly zone: string;
  readonly aggregates: readonly { readonly uuid: string; readonly name: string }[];
  /** Metadata of the host's aggregates: key → every value (comma-separated values split). */
  readonly aggregateMetadata: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A compute service's state for one request. */
export interface ServiceState {
  readonly row: ServiceRow;
  readonly up: boolean;
}

/** The compute side as one request sees it. */
export interface ComputeSnapshot {
  /** Moves on whenever nodes or aggregates were reloaded (something changed, or maxAgeMs passed). */
  readonly version: number;
  /** By compute node UUID. */
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** nova-compute services by host, with their current state. */
  readonly services: ReadonlyMap<string, ServiceState>;
}

/**
 * What a node can run: its architecture (and i686 on x86_64), with the libvirt domain types of
 * its acceleration — kvm hosts run kvm and qemu guests, TCG hosts qemu ones — in hvm mode.
 */
export function supportedInstancesOf(arch: string | null, virtType: string | null, hypervisorType: string): SupportedInstance[] {
  if (!arch) return [];
  const archs = arch === 'x86_64' ? ['x86_64', 'i686'] : [arch];
  const types = virtType === 'kvm' ? ['kvm', 'qemu'] : virtType ? [virtType] : [hypervisorType.toLowerCase()];
  return archs.flatMap((a) => types.map((t) => [a, t, 'hvm'] as const));
}

/** The architecture in a compute node's cpu_info JSON. */
function archOf(cpuInfo: string): string | null {
  try {
    const v = (JSON.parse(cpuInfo) as { arch?: unknown }).arch;
    return typeof v === 'string' && v ? v.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** A stored time (naive UTC, microseconds) `ms` milliseconds from now. */
const storedTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000');

const normaliseService = (s: ServiceRow): ServiceRow => ({
  ...s, id: Number(s.id), disabled: Number(s.disabled), forced_down: Number(s.forced_down), report_count: Number(s.report_count),
});

interface Loaded {
  readonly version: number;
  readonly fingerprint: string;
  readonly at: number;
  readonly nodes: Map<string, NodeInfo>;
  /** Services as loaded (their state is re-read per request). */
  readonly services: Map<string, ServiceRow>;
}

export class ComputeView {
  readonly #ctx: ComputeContext;
  readonly #maxAgeMs: number;
  #loaded: Loaded | undefined;
  #version = 0;
  #loading: Promise<Loaded> | undefined;
  #last: { readonly loaded: Loaded; readonly oddKey: string; readonly snapshot: ComputeSnapshot } | undefined;

  constructor(ctx: ComputeContext, o: { maxAgeMs?: number } = {}) {
    this.#ctx = ctx;
    this.#maxAgeMs = o.maxAgeMs ?? 10_000;
  }

  /** Forgets what was loaded (the next request reloads everything). */
  invalidate(): void {
    this.#loaded = undefined;
    this.#last = undefined;
  }

  /** The compute side now: cached nodes and aggregates (reloaded when changed), fresh service states. */
  async snapshot(now = Date.now()): Promise<ComputeSnapshot> {
    const db = this.#ctx.db;
    const downTimeMs = this.#ctx.config.compute.service_down_time * 1000;
    const seen = sql`COALESCE(last_seen_up, updated_at, created_at)`;
    const [fp, unusual] = await Promise.all([
      this.#fingerprint(),
      // Disabled, forced down or silent services: usually none.
      sql<ServiceRow>`SELECT * FROM compute_service WHERE ${sql.ref('binary')} = 'nova-compute'
        AND (disabled = 1 OR forced_down = 1 OR ${seen} < ${storedTime(now - downTimeMs)} OR ${seen} > ${storedTime(now + downTimeMs)})`.execute(db).then((r) => r.rows),
    ]);
    let loaded = this.#loaded;
    if (!loaded || loaded.fingerprint !== fp || now - loaded.at > this.#maxAgeMs) loaded = await this.#reload(fp, now);
    const odd = new Map(unusual.map((s) => [s.host, normaliseService(s)]));
    const oddUp = new Map([...odd].map(([host, row]) => [host, isUp(this.#ctx, row, now)]));
    // The same nodes and the same unusual services as last time: the same snapshot object (callers
    // memoise on it). Heartbeats of a disabled service that is up change nothing the filters read.
    const oddKey = JSON.stringify([...odd].map(([host, r]) => [host, r.disabled, r.disabled_reason, r.forced_down, oddUp.get(host), oddUp.get(host) ? null : r.last_seen_up ?? r.updated_at]));
    if (this.#last && this.#last.loaded === loaded && this.#last.oddKey === oddKey) return this.#last.snapshot;
    const services = new Map<string, ServiceState>();
    for (const [host, row] of loaded.services) {
      const o = odd.get(host);
      services.set(host, o ? { row: o, up: oddUp.get(host)! } : { row: row.disabled || row.forced_down ? { ...row, disabled: 0, disabled_reason: null, forced_down: 0 } : row, up: true });
    }
    for (const [host, o] of odd) if (!services.has(host)) services.set(host, { row: o, up: oddUp.get(host)! });
    const snapshot = { version: loaded.version, nodes: loaded.nodes, services };
    this.#last = { loaded, oddKey, snapshot };
    return snapshot;
  }

  /** One row that changes when nodes, services or aggregates are added, removed or changed (one scan per table). */
  async #fingerprint(): Promise<string> {
    const b = sql.ref('binary');
    const r = await sql<Record<string, unknown>>`SELECT * FROM
      (SELECT COUNT(*) AS n_count, MAX(id) AS n_max, SUM(hypervisor_version) AS n_versions, SUM(LENGTH(cpu_info)) AS n_cpu,
        SUM(vcpus) AS n_vcpus, SUM(memory_mb) AS n_memory, SUM(local_gb) AS n_disk FROM compute_node) n
      CROSS JOIN (SELECT COUNT(*) AS s_count, MAX(id) AS s_max FROM compute_service WHERE ${b} = 'nova-compute') s
      CROSS JOIN (SELECT COUNT(*) AS a_count, MAX(id) AS a_max, MAX(updated_at) AS a_updated FROM compute_aggregate) a
      CROSS JOIN (SELECT COUNT(*) AS h_count, SUM(aggregate_id) AS h_ids, SUM(LENGTH(host)) AS h_names FROM compute_aggregate_host) h
      CROSS JOIN (SELECT COUNT(*) AS m_count, SUM(LENGTH(meta_key) + LENGTH(meta_value)) AS m_len FROM compute_aggregate_metadata) m`.execute(this.#ctx.db);
    const row = r.rows[0] ?? {};
    return JSON.stringify(Object.values(row).map((v) => (v === null || v === undefined ? null : String(v))));
  }

  #reload(fingerprint: string, now: number): Promise<Loaded> {
    // Concurrent requests share one reload.
    this.#loading ??= this.#load(fingerprint, now).finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  async #load(fingerprint: string, now: number): Promise<Loaded> {
    const db = this.#ctx.db;
    const [nodes, services, aggHosts, aggMeta] = await Promise.all([
      db.selectFrom('compute_node').select(['uuid', 'host', 'hypervisor_hostname', 'hypervisor_type', 'hypervisor_version', 'virt_type', 'cpu_info']).execute(),
      db.selectFrom('compute_service').selectAll().where('binary', '=', 'nova-compute').execute(),
      db.selectFrom('compute_aggregate_host').innerJoin('compute_aggregate', 'compute_aggregate.id', 'compute_aggregate_host.aggregate_id')
        .select(['compute_aggregate_host.host as host', 'compute_aggregate.id as id', 'compute_aggregate.uuid as uuid', 'compute_aggregate.name as name']).execute(),
      db.selectFrom('compute_aggregate_metadata').select(['aggregate_id', 'meta_key', 'meta_value']).execute(),
    ]);
    const metaOf = new Map<number, [string, string][]>();
    for (const m of aggMeta) {
      const id = Number(m.aggregate_id);
      const l = metaOf.get(id);
      if (l) l.push([m.meta_key, m.meta_value]); else metaOf.set(id, [[m.meta_key, m.meta_value]]);
    }
    const aggsOf = new Map<string, { uuid: string; name: string; id: number }[]>();
    for (const a of aggHosts) {
      const l = aggsOf.get(a.host);
      const entry = { uuid: a.uuid, name: a.name, id: Number(a.id) };
      if (l) l.push(entry); else aggsOf.set(a.host, [entry]);
    }
    // Hosts share a few kinds of hardware: one supported-instances list per kind.
    const kinds = new Map<string, SupportedInstance[]>();
    const out = new Map<string, NodeInfo>();
    for (const n of nodes) {
      const aggregates = aggsOf.get(n.host) ?? [];
      const metadata = new Map<string, Set<string>>();
      for (const a of aggregates) {
        for (const [k, v] of metaOf.get(a.id) ?? []) {
          let s = metadata.get(k);
          if (!s) { s = new Set(); metadata.set(k, s); }
          for (const part of v.split(',')) s.add(part.trim());
        }
      }
      const zones = new Set<string>();
      for (const a of aggregates) for (const [k, v] of metaOf.get(a.id) ?? []) if (k === 'availability_zone') zones.add(v);
      const kindKey = `${n.cpu_info}\u0000${n.virt_type}\u0000${n.hypervisor_type}`;
      let supported = kinds.get(kindKey);
      if (!supported) { supported = supportedInstancesOf(archOf(n.cpu_info), n.virt_type, n.hypervisor_type); kinds.set(kindKey, supported); }
      out.set(n.uuid, {
        uuid: n.uuid, host: n.host, nodename: n.hypervisor_hostname, hypervisorType: n.hypervisor_type, hypervisorVersion: Number(n.hypervisor_version),
        supportedInstances: supported, zone: zones.size ? [...zones].sort().join(',') : DEFAULT_AZ,
        aggregates: aggregates.map((a) => ({ uuid: a.uuid, name: a.name })), aggregateMetadata: metadata,
      });
    }
    const loaded: Loaded = { version: ++this.#version, fingerprint, at: now, nodes: out, services: new Map(services.map((s) => [s.host, normaliseService(s)])) };
    this.#loaded = loaded;
    return loaded;
  }
}
