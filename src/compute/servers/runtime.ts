/**
 * The parts of the compute service that serve and run servers, assembled: the clients of the
 * image and network services (as the `nova` service user), the scheduler on placement, the
 * conductor, this host's compute agent with its driver, and the metadata service.
 */
import { join } from 'node:path';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Placement } from '../../placement/client.js';
import type { ComputeContext } from '../context.js';
import { ServiceApi, ServiceAuth } from '../clients/service-auth.js';
import { ImageClient } from '../clients/image.js';
import { NetworkClient } from '../clients/network.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { placementAggregateHooks, reportHost } from '../scheduler/host-report.js';
import { Conductor } from './conductor.js';
import { GroupAwareScheduler } from './groups-scheduler.js';
import { ComputeAgent } from '../agent/agent.js';
import type { ComputeDriver } from '../driver/types.js';
import { QemuDriver } from '../driver/qemu/driver.js';
import type { ServersDB } from './schema.js';
import type { ServersApiDeps } from './api.js';
import { getInstance } from './store.js';
import { instanceMetadata } from './instance-metadata.js';
import { createMetadataServer } from '../metadata/server.js';
import { heartbeat } from '../services.js';

export interface ServersRuntimeOptions {
  readonly placement: Placement;
  /** Identity v3, image and network API base URLs. */
  readonly identityUrl: string;
  readonly imageUrl: string;
  readonly networkUrl: string;
  /** The `nova` service user's password. */
  readonly novaPassword: string;
}

export interface ServersRuntime {
  readonly deps: ServersApiDeps;
  readonly network: NetworkClient;
  readonly images: ImageClient;
  readonly agents: Map<string, ComputeAgent>;
  /** Starts this host's compute agent with `driver` (default: per config). */
  startAgent(o?: { host?: string; driver?: ComputeDriver; periodMs?: number }): Promise<ComputeAgent>;
  /** Starts the metadata service on compute.metadata_port (or `port`). */
  startMetadata(o: { host: string; port: number; sharedSecret: string }): Promise<{ port: number; close(): Promise<void> }>;
  /**
   * Heartbeats of the scheduler and conductor this process runs (nova-scheduler, nova-conductor
   * on `host`), so the services list and os-hosts show them as Nova's do; until close.
   */
  startControlServices(host?: string): Promise<void>;
  /** Waits for background work (builds, deletes, actions) to finish. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** This compute host's name: `compute.host`, else `network.host`, else the machine's short host name (the network agent's rule). */
export function computeHost(ctx: ComputeContext): string {
  const c = ctx.config;
  return (c.compute.host ?? c.network.host ?? hostname().split('.')[0] ?? 'localhost').toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

export function createServersRuntime(ctx: ComputeContext, o: ServersRuntimeOptions): ServersRuntime {
  const log = ctx.log.child({ component: 'servers' });
  const db = ctx.db as unknown as Kysely<ServersDB>;
  const auth = new ServiceAuth({ identityUrl: o.identityUrl, username: 'nova', password: o.novaPassword });
  const images = new ImageClient(new ServiceApi('image', o.imageUrl, auth));
  const network = new NetworkClient(new ServiceApi('network', o.networkUrl, auth));
  const agents = new Map<string, ComputeAgent>();
  const scheduler = new Scheduler({ placement: o.placement, compute: ctx, log });
  const conductor = new Conductor({ db, scheduler: new GroupAwareScheduler(db, scheduler), placement: o.placement, network, hosts: { agent: (h) => agents.get(h) }, log });
  const inFlight = new Set<Promise<void>>();
  const background = (what: string, work: () => Promise<void>): void => {
    const p = work().catch((err: unknown) => log.error({ err, what }, 'background work failed')).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const closers: (() => Promise<void>)[] = [];
  // Usage counters for quotas and limits, and the servers of a host for os-hypervisors.
  ctx.hooks = {
    ...ctx.hooks,
    // Host aggregates mirrored into placement at once (zone requests are limited to their aggregates).
    ...placementAggregateHooks(o.placement, ctx),
    instanceUsage: async (projectId, userId) => {
      let q = db.selectFrom('compute_instance').select(['body']).where('project_id', '=', projectId).where('deleted', '=', 0);
      if (userId) q = q.where('user_id', '=', userId);
      const t = flavorTotals(await q.execute());
      return { instances: t.count, cores: t.vcpus, ram: t.memoryMb };
    },
    serversOnHost: async (host) => (await db.selectFrom('compute_instance').select(['uuid', 'display_name']).where('host', '=', host).where('deleted', '=', 0).execute())
      .map((r) => ({ uuid: r.uuid, name: r.display_name })),
  };

  const runtime: ServersRuntime = {
    deps: { ctx, images, network, conductor, background },
    network, images, agents,
    async startAgent(a = {}) {
      const host = a.host ?? computeHost(ctx);
      const cfg = ctx.config;
      const instancesDir = cfg.compute.instances_dir ?? join(cfg.platform.state_dir, 'instances');
      const imageCacheDir = cfg.compute.image_cache_dir ?? join(instancesDir, '_base');
      const driver = a.driver ?? new QemuDriver({
        instancesDir, imageCacheDir, virtType: cfg.compute.virt_type as 'auto' | 'kvm' | 'qemu', shutdownTimeoutSec: cfg.compute.shutdown_timeout, log: log.child({ component: 'qemu', host }),
      });
      let nodeUuid: string | undefined;
      const agent = new ComputeAgent({
        host, driver, db, images, network, log: log.child({ component: 'compute-agent', host }), imageCacheDir, workDir: join(instancesDir, '_work'),
        resumeGuests: cfg.compute.resume_guests_state_on_host_boot, periodMs: a.periodMs, waitForVifs: driver.type !== 'fake',
        vendorData: vendorData(cfg.compute.vendordata_jsonfile_path),
        report: async () => {
          await heartbeat(ctx, host, 'nova-compute');
          const hostInfo = await driver.hostInfo();
          const t = flavorTotals(await db.selectFrom('compute_instance').select(['body']).where('host', '=', host).where('deleted', '=', 0).execute());
          const r = await reportHost(o.placement, ctx, { host, hostInfo, ...(nodeUuid ? { nodeUuid } : {}), usage: { vcpusUsed: t.vcpus, memoryMbUsed: t.memoryMb, localGbUsed: t.localGb, runningVms: t.count } });
          nodeUuid = r.node.uuid;
        },
      });
      agents.set(host, agent);
      await agent.start();
      closers.push(async () => { await agent.stop(); agents.delete(host); });
      return agent;
    },
    async startMetadata(m) {
      const server = await createMetadataServer({
        host: m.host, port: m.port, sharedSecret: m.sharedSecret, log: log.child({ component: 'metadata' }),
        dhcpDomain: ctx.config.compute.dhcp_domain || null, cacheSeconds: ctx.config.compute.metadata_cache_expiration,
        lookup: async (uuid) => {
          const inst = await getInstance(db, uuid);
          return inst ? instanceMetadata(inst, network, { vendorData: vendorData(ctx.config.compute.vendordata_jsonfile_path) }) : null;
        },
      });
      closers.push(() => server.close());
      return server;
    },
    async startControlServices(host = computeHost(ctx)) {
      const beat = async () => { for (const binary of ['nova-scheduler', 'nova-conductor']) await heartbeat(ctx, host, binary); };
      await beat();
      // A third of the down time, like the agents' reports: one lost beat never shows the service down.
      const timer = setInterval(() => { beat().catch((err: unknown) => log.warn({ err }, 'control service heartbeat failed')); }, Math.max(1000, ctx.config.compute.service_down_time * 1000 / 3));
      timer.unref();
      closers.push(async () => clearInterval(timer));
    },
    idle: async () => { while (inFlight.size) await Promise.all([...inFlight]); },
    close: async () => {
      await runtime.idle();
      for (const c of closers.reverse()) await c().catch((err: unknown) => log.warn({ err }, 'compute runtime part not closed'));
    },
  };
  return runtime;
}

/** What instances' flavors add up to (quota usage and a host's report read the same sums). */
function flavorTotals(rows: readonly { body: string }[]): { count: number; vcpus: number; memoryMb: number; localGb: number } {
  const t = { count: rows.length, vcpus: 0, memoryMb: 0, localGb: 0 };
  for (const r of rows) {
    const f = (JSON.parse(r.body) as { flavor: { vcpus: number; memory_mb: number; root_gb: number; ephemeral_gb: number } }).flavor;
    t.vcpus += f.vcpus; t.memoryMb += f.memory_mb; t.localGb += f.root_gb + f.ephemeral_gb;
  }
  return t;
}

function vendorData(path: string | null): Record<string, unknown> {
  if (!path) return {};
  try { return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>; } catch { return {}; }
}
