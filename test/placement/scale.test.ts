// Scale: 1,000 hosts and 1,000 claims through the in-process API, the scheduler's path (candidates
// with a limit, then a claim of one of them), on SQLite as the all-in-one runs it. Checks that every
// claim lands, no host exceeds its capacity, usage adds up, and reports the time it took.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { placementCaller } from './lib.js';

const HOSTS = 1000;
const CLAIMS = 1000;
let h: IdentityHarness;
const hosts: string[] = [];

before(async () => {
  h = await startIdentity();
  const c = h.cloud.placement.client;
  const traits = ['COMPUTE_ARCH_X86_64', 'HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE42', 'COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_VOLUME_ATTACH'];
  for (let i = 0; i < HOSTS; i++) {
    const p = await c.ensureProvider({ uuid: randomUUID(), name: `scale-${i}` });
    await c.setInventory(p.uuid, { VCPU: { total: 2, allocation_ratio: 1 }, MEMORY_MB: { total: 4096, reserved: 512 }, DISK_GB: { total: 40 } });
    await c.setTraits(p.uuid, i % 10 === 0 ? [...traits, 'COMPUTE_STATUS_DISABLED'] : traits);
    hosts.push(p.uuid);
  }
});
after(async () => { await h?.close(); });

test(`${CLAIMS} candidate queries + claims over ${HOSTS} hosts: all land, none overcommits, in bounded time`, async (t) => {
  const c = h.cloud.placement.client;
  let queryMs = 0;
  let claimMs = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CLAIMS; i++) {
    const a = performance.now();
    const r = await c.allocationCandidates({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 5 }, forbidden: ['COMPUTE_STATUS_DISABLED'], limit: 50, withTraits: false });
    const b = performance.now();
    assert.ok(r.candidates.length > 0, `no candidates at claim ${i}`);
    const pick = r.candidates[i % r.candidates.length]!;
    assert.equal(await c.claim(randomUUID(), pick.allocations, { projectId: 'scale', userId: 'u', consumerGeneration: null, consumerType: 'INSTANCE' }), 1);
    queryMs += b - a;
    claimMs += performance.now() - b;
  }
  const totalMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  t.diagnostic(`${CLAIMS} x (candidates + claim) over ${HOSTS} hosts: ${totalMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (candidates ${queryMs.toFixed(0)} ms, claims ${claimMs.toFixed(0)} ms)`);
  // CPU time (SQLite runs in this process) is what the work costs; wall time also counts the
  // machine's other load, so it only gets a sanity bound.
  assert.ok(cpuMs < 15_000, `used ${cpuMs.toFixed(0)} ms of CPU`);
  assert.ok(totalMs < 120_000, `took ${totalMs.toFixed(0)} ms`);

  const db = h.cloud.placement.ctx.db;
  const inv = await db.selectFrom('placement_inventory').select(['provider_uuid', 'resource_class', 'total', 'reserved', 'allocation_ratio', 'used']).execute();
  const sums = new Map((await db.selectFrom('placement_allocation').select(['provider_uuid', 'resource_class', (eb) => eb.fn.sum<number>('used').as('used')]).groupBy(['provider_uuid', 'resource_class']).execute())
    .map((r) => [`${r.provider_uuid}/${r.resource_class}`, Number(r.used)]));
  let vcpus = 0;
  for (const i of inv) {
    assert.ok(Number(i.used) <= (Number(i.total) - Number(i.reserved)) * Number(i.allocation_ratio), `${i.provider_uuid} over capacity in ${i.resource_class}`);
    assert.equal(Number(i.used), sums.get(`${i.provider_uuid}/${i.resource_class}`) ?? 0, 'kept usage equals the sum of the allocations');
    if (i.resource_class === 'VCPU') vcpus += Number(i.used);
  }
  assert.equal(vcpus, CLAIMS);
  const disabled = new Set(hosts.filter((_, i) => i % 10 === 0));
  const onDisabled = await db.selectFrom('placement_allocation').select('provider_uuid').where('provider_uuid', 'in', [...disabled]).execute();
  assert.equal(onDisabled.length, 0, 'no claim on a host with a forbidden trait');
  const left = await c.allocationCandidates({ resources: { VCPU: 1 }, forbidden: ['COMPUTE_STATUS_DISABLED'], limit: 10000, withTraits: false });
  const withRoom = inv.filter((i) => i.resource_class === 'VCPU' && !disabled.has(i.provider_uuid) && Number(i.used) < 2).length;
  assert.equal(left.candidates.length, withRoom, 'exactly the enabled hosts with a VCPU left are offered');
  assert.ok(withRoom >= HOSTS - disabled.size - CLAIMS / 2 && withRoom < HOSTS - disabled.size);
});

test('one HTTP request for every candidate among 1,000 hosts, with full summaries, answers in bounded time', async (t) => {
  const call = placementCaller(h.placementUrl, () => h.adminToken());
  const start = performance.now();
  const r = await call('GET', '/allocation_candidates?resources=MEMORY_MB:256', { version: '1.39' });
  const ms = performance.now() - start;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.allocation_requests.length, HOSTS);
  assert.equal(Object.keys(r.json.provider_summaries).length, HOSTS);
  const some = r.json.provider_summaries[hosts[5]!];
  assert.deepEqual(Object.keys(some.resources).sort(), ['DISK_GB', 'MEMORY_MB', 'VCPU']);
  assert.ok(some.traits.includes('HW_CPU_X86_AVX2'));
  t.diagnostic(`GET /allocation_candidates over ${HOSTS} hosts, no limit: ${ms.toFixed(0)} ms`);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});
