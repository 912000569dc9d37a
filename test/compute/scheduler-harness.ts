/**
 * A placement + compute database for scheduler tests and the scheduler bench: real SQLite (a
 * temp file, WAL, as the all-in-one runs it), both services' migrations, contexts, the in-process
 * placement client, aggregate mirroring hooks, and fake hosts registered as compute services that
 * report their capacity through reportHost — as a compute agent would.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { loadConfig, type Config } from '../../src/platform/config/config.js';
import { openDatabase, type Database } from '../../src/platform/db/connect.js';
import { silentLogger } from '../../src/platform/log.js';
import { Enforcer } from '../../src/platform/policy/index.js';
import { PlacementContext } from '../../src/placement/context.js';
import { InProcessPlacement } from '../../src/placement/client.js';
import { placementPolicyDefaults } from '../../src/placement/policy.js';
import { migratePlacement } from '../../src/placement/service.js';
import type { PlacementDB } from '../../src/placement/store/schema.js';
import { ensureStandardNames } from '../../src/placement/traits.js';
import { ComputeContext } from '../../src/compute/context.js';
import { computePolicyDefaults } from '../../src/compute/policy-defaults.js';
import { migrateCompute } from '../../src/compute/service.js';
import type { ComputeDB } from '../../src/compute/store/schema.js';
import { heartbeat } from '../../src/compute/services.js';
import { addAggregateHost, createAggregate, setAggregateMetadata } from '../../src/compute/aggregates.js';
import { FakeDriver, type FakeHostSize } from '../../src/compute/driver/fake/driver.js';
import { placementAggregateHooks, reportHost, type HostReport } from '../../src/compute/scheduler/host-report.js';
import { Scheduler, type SchedulerOptions } from '../../src/compute/scheduler/scheduler.js';
import type { RequestSpec } from '../../src/compute/scheduler/types.js';

export interface SchedHarness {
  readonly config: Config;
  readonly database: Database;
  readonly placementCtx: PlacementContext;
  readonly placement: InProcessPlacement;
  readonly compute: ComputeContext;
  readonly drivers: Map<string, FakeDriver>;
  /** A fake host registered (heartbeat) and reported (compute node + resource provider). */
  addHost(name: string, size?: FakeHostSize): Promise<HostReport>;
  /** An aggregate with `hosts`, optionally a zone, optionally metadata; mirrored into placement by the hooks. */
  addAggregate(name: string, hosts: readonly string[], o?: { zone?: string; metadata?: Record<string, string> }): Promise<{ id: number; uuid: string }>;
  scheduler(o?: Partial<SchedulerOptions>): Scheduler;
  close(): Promise<void>;
}

export async function startSchedHarness(o: { overrides?: Record<string, Record<string, unknown>>; databaseUrl?: string } = {}): Promise<SchedHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-sched-'));
  const config = loadConfig({
    file: '/dev/null', env: {},
    overrides: { ...o.overrides, platform: { state_dir: dir, log_level: 'silent', ...o.overrides?.platform } },
  });
  const database = await openDatabase(o.databaseUrl ?? `sqlite://${join(dir, 'nephos.db')}`);
  try {
    await migratePlacement(database);
    await migrateCompute(database);
    const log = silentLogger();
    const placementCtx = new PlacementContext(database.db as Kysely<PlacementDB>, database.engine, config, log, new Enforcer(placementPolicyDefaults, {}));
    await ensureStandardNames(placementCtx);
    const placement = new InProcessPlacement(placementCtx);
    const compute = new ComputeContext(database.db as Kysely<ComputeDB>, database.engine, config, log, new Enforcer(computePolicyDefaults, {}));
    compute.hooks = { ...placementAggregateHooks(placement, compute) };
    const drivers = new Map<string, FakeDriver>();
    return {
      config, database, placementCtx, placement, compute, drivers,
      async addHost(name, size = {}) {
        const driver = new FakeDriver({ ...size, host: name });
        drivers.set(name, driver);
        await heartbeat(compute, name, 'nova-compute');
        return reportHost(placement, compute, { host: name, hostInfo: await driver.hostInfo(), uptime: null });
      },
      async addAggregate(name, hosts, ao = {}) {
        const agg = await createAggregate(compute, name, ao.zone ?? null);
        for (const h of hosts) await addAggregateHost(compute, agg.id, h);
        if (ao.metadata) await setAggregateMetadata(compute, agg.id, ao.metadata);
        return { id: agg.id, uuid: agg.uuid };
      },
      scheduler: (so = {}) => new Scheduler({ placement, compute, ...so }),
      close: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A request for `count` new instances of a small flavor (512 MB, 1 VCPU, 1 GB), with overrides. */
export function requestSpec(o: Partial<RequestSpec> & { count?: number } = {}): RequestSpec {
  const { count = 1, ...rest } = o;
  return {
    instanceUuids: Array.from({ length: count }, () => randomUUID()),
    projectId: 'p-sched', userId: 'u-sched',
    flavor: { vcpus: 1, memoryMb: 512, rootGb: 1, name: 'm1.tiny' },
    ...rest,
  };
}
