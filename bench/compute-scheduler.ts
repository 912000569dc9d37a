/**
 * Scheduler benchmark: N fake hosts (simulated, for scale work only) registered as compute
 * services and reported to placement, then M instances scheduled one request at a time through
 * the scheduler (placement query, host states, filters, weighers, claim) on the in-process
 * placement over SQLite — the all-in-one's setup. Prints the total, decisions per second and
 * p50/p99/max per decision, how the instances spread, and a consistency check (placement holds
 * exactly M allocations, no host over capacity). Target: 1,000 onto 1,000 hosts in ≤ 10 s.
 *
 *   node dist/bench/run.js compute-scheduler [--hosts 1000] [--instances 1000] [--weigher spread|stack]
 *        [--multi N (also one multi-create request of N instances)] [--database-url URL]
 *        [--placement-cache-ms MS (how long the scheduler reuses placement's answer; 0: ask every time)]
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile } from './lib/load.js';
import { requestSpec, startSchedHarness } from '../test/compute/scheduler-harness.js';
import { FakeHosts } from '../src/compute/driver/fake/hosts.js';
import { heartbeat } from '../src/compute/services.js';
import { reportHost } from '../src/compute/scheduler/host-report.js';

export interface SchedulerBenchResult {
  readonly hosts: number;
  readonly instances: number;
  readonly registerMs: number;
  readonly totalMs: number;
  /** CPU time this process spent scheduling (user + system). */
  readonly cpuMs: number;
  /** The machine's 1-minute load average when scheduling started. */
  readonly load: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly hostsUsed: number;
  readonly maxPerHost: number;
  readonly multi?: { readonly instances: number; readonly ms: number; readonly hostsUsed: number };
}

/** Runs the bench; throws when the result is inconsistent (lost or double claims). */
export async function benchScheduler(o: { hosts: number; instances: number; weigher: 'spread' | 'stack'; multi?: number; databaseUrl?: string; placementCacheMs?: number }): Promise<SchedulerBenchResult> {
  const h = await startSchedHarness({ databaseUrl: o.databaseUrl, overrides: { compute: { scheduler_weigher: o.weigher } } });
  try {
    const fleet = new FakeHosts({ count: o.hosts, vcpus: 16, memoryMb: 65536, localGb: 1024 });
    const t0 = performance.now();
    for (const { name, driver } of fleet) {
      await heartbeat(h.compute, name, 'nova-compute');
      await reportHost(h.placement, h.compute, { host: name, hostInfo: await driver.hostInfo(), uptime: null });
    }
    const registerMs = performance.now() - t0;

    const scheduler = h.scheduler({ placementCacheMs: o.placementCacheMs });
    const times: number[] = [];
    const perHost = new Map<string, number>();
    const load = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < o.instances; i++) {
      const spec = requestSpec({ flavor: { vcpus: 1, memoryMb: 512, rootGb: 1, name: 'm1.tiny' } });
      const t = performance.now();
      const [sel] = await scheduler.selectDestinations(spec, 1);
      times.push(performance.now() - t);
      perHost.set(sel!.host, (perHost.get(sel!.host) ?? 0) + 1);
    }
    const totalMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);

    let multi: SchedulerBenchResult['multi'];
    if (o.multi) {
      const t = performance.now();
      const sels = await scheduler.selectDestinations(requestSpec({ count: o.multi }), o.multi);
      multi = { instances: o.multi, ms: performance.now() - t, hostsUsed: new Set(sels.map((s) => s.host)).size };
    }

    const consumers = Number((await h.placementCtx.db.selectFrom('placement_consumer').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const expected = o.instances + (o.multi ?? 0);
    if (consumers !== expected) throw new Error(`placement holds ${consumers} consumers, expected ${expected}`);
    const over = await h.placementCtx.db.selectFrom('placement_inventory as i')
      .innerJoin(
        h.placementCtx.db.selectFrom('placement_allocation').select(['provider_uuid', 'resource_class', (eb) => eb.fn.sum<number>('used').as('used')]).groupBy(['provider_uuid', 'resource_class']).as('u'),
        (j) => j.onRef('u.provider_uuid', '=', 'i.provider_uuid').onRef('u.resource_class', '=', 'i.resource_class'),
      )
      .select(['i.provider_uuid', 'i.resource_class', 'i.total', 'i.reserved', 'i.allocation_ratio', 'u.used']).execute();
    for (const r of over) {
      if (Number(r.used) > (Number(r.total) - Number(r.reserved)) * Number(r.allocation_ratio)) throw new Error(`provider ${r.provider_uuid} over capacity in ${r.resource_class}`);
    }
    return {
      hosts: o.hosts, instances: o.instances, registerMs, totalMs, cpuMs: (cpu.user + cpu.system) / 1000, load,
      p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), maxMs: times[times.length - 1] ?? 0,
      hostsUsed: perHost.size, maxPerHost: Math.max(0, ...perHost.values()), multi,
    };
  } finally {
    await h.close();
  }
}

export async function computeSchedulerBenchMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string', default: '1000' },
      instances: { type: 'string', default: '1000' },
      weigher: { type: 'string', default: 'spread' },
      multi: { type: 'string' },
      'database-url': { type: 'string' },
      'placement-cache-ms': { type: 'string' },
    },
  });
  const weigher = values.weigher === 'stack' ? 'stack' : 'spread';
  const r = await benchScheduler({
    hosts: Number(values.hosts), instances: Number(values.instances), weigher,
    multi: values.multi ? Number(values.multi) : undefined, databaseUrl: values['database-url'],
    placementCacheMs: values['placement-cache-ms'] === undefined ? undefined : Number(values['placement-cache-ms']),
  });
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  const cache = values['placement-cache-ms'] === undefined ? 'default 1000 ms' : `${values['placement-cache-ms']} ms`;
  console.log(`compute scheduler: ${r.instances} instances onto ${r.hosts} fake hosts (weigher ${weigher}, in-process placement on ${values['database-url'] ? 'the given database' : 'SQLite'}, placement view cache ${cache})`);
  console.log(`  hosts registered (heartbeat + reportHost): ${(r.registerMs / 1000).toFixed(2)} s`);
  console.log(`  scheduling total:  ${(r.totalMs / 1000).toFixed(2)} s  (${(r.instances / (r.totalMs / 1000)).toFixed(0)} decisions/s; target ≤ 10 s)`);
  console.log(`  CPU time:          ${(r.cpuMs / 1000).toFixed(2)} s of this process (machine load average ${r.load.toFixed(1)} on ${cpus().length} CPUs at the start)`);
  console.log(`  per decision:      p50 ${f(r.p50Ms)}  p99 ${f(r.p99Ms)}  max ${f(r.maxMs)}`);
  console.log(`  spread:            ${r.hostsUsed} hosts used, at most ${r.maxPerHost} instance(s) per host`);
  if (r.multi) console.log(`  one multi-create:  ${r.multi.instances} instances in ${(r.multi.ms / 1000).toFixed(2)} s on ${r.multi.hostsUsed} hosts`);
  console.log('  consistency:       placement holds exactly one allocation per instance; no provider over capacity');
  return r.totalMs <= 10_000 || r.instances !== 1000 ? 0 : 1;
}
