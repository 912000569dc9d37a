// The typed placement API the scheduler and compute agents use, in both forms: in the same process
// (no HTTP) and remote (HTTP at 1.39 against the listening endpoint). One scenario, both clients,
// the same results and the same faults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { Fault } from '../../src/platform/http/faults.js';
import { HttpPlacement, type Placement } from '../../src/placement/client.js';

let h: IdentityHarness;
before(async () => { h = await startIdentity(); });
after(async () => { await h?.close(); });

async function scenario(p: Placement, tag: string): Promise<void> {
  const host = randomUUID();
  const created = await p.ensureProvider({ uuid: host, name: `host-${tag}` });
  assert.deepEqual({ ...created, generation: 0 }, { uuid: host, name: `host-${tag}`, generation: 0, parentUuid: null, rootUuid: host });
  assert.equal((await p.ensureProvider({ uuid: host, name: `host-${tag}` })).generation, created.generation, 'idempotent');
  assert.equal((await p.ensureProvider({ uuid: host, name: `renamed-${tag}` })).name, `renamed-${tag}`);
  const numa = randomUUID();
  assert.equal((await p.ensureProvider({ uuid: numa, name: `numa-${tag}`, parentUuid: host })).rootUuid, host);

  const g1 = await p.setInventory(host, { VCPU: { total: 4, allocation_ratio: 2 }, MEMORY_MB: { total: 2048, reserved: 256 } });
  assert.equal(await p.setInventory(numa, { [`CUSTOM_ACCEL_${tag}`]: { total: 2 } }).catch((e: Fault) => e.status), 400, 'unknown class');
  await p.ensureResourceClass(`CUSTOM_ACCEL_${tag}`);
  await p.setInventory(numa, { [`CUSTOM_ACCEL_${tag}`]: { total: 2 } });
  const g2 = await p.setTraits(host, ['HW_CPU_X86_AVX2', `CUSTOM_T_${tag}`]);
  assert.ok(g2 > g1);
  await assert.rejects(p.setTraits(host, ['HW_CPU_X86_AVX2'], { generation: g1 }), (e: unknown) => e instanceof Fault && e.status === 409 && e.kind === 'placement.concurrent_update');
  assert.deepEqual(await p.getTraits(host).then((t) => ({ ...t, traits: [...t.traits].sort() })), { traits: [`CUSTOM_T_${tag}`, 'HW_CPU_X86_AVX2'], generation: g2 });
  const agg = randomUUID();
  await p.setAggregates(host, [agg]);

  const found = await p.allocationCandidates({
    resources: { VCPU: 2, MEMORY_MB: 512 }, required: [`CUSTOM_T_${tag}`], memberOf: [[agg]],
    groups: { _ACC: { resources: { [`CUSTOM_ACCEL_${tag}`]: 1 } } }, groupPolicy: 'isolate', limit: 5,
  });
  assert.equal(found.candidates.length, 1);
  const cand = found.candidates[0]!;
  assert.deepEqual(cand.allocations, { [host]: { VCPU: 2, MEMORY_MB: 512 }, [numa]: { [`CUSTOM_ACCEL_${tag}`]: 1 } });
  assert.deepEqual(cand.mappings, { '': [host], _ACC: [numa] });
  assert.deepEqual(found.providers[host]!.resources.VCPU, { capacity: 8, used: 0 });
  assert.ok(found.providers[host]!.traits.includes('HW_CPU_X86_AVX2'));
  assert.equal(found.providers[numa]!.parentUuid, host);

  const vm = randomUUID();
  assert.equal(await p.claim(vm, cand.allocations, { projectId: 'proj', userId: 'user', consumerGeneration: null, consumerType: 'INSTANCE' }), 1);
  await assert.rejects(p.claim(vm, cand.allocations, { projectId: 'proj', userId: 'user', consumerGeneration: null }), (e: unknown) => e instanceof Fault && e.status === 409 && e.kind === 'placement.concurrent_update');
  const other = randomUUID();
  await assert.rejects(p.claim(other, { [host]: { VCPU: 7 } }, { projectId: 'proj', userId: 'user', consumerGeneration: null }), (e: unknown) => e instanceof Fault && e.status === 409 && /exceed the capacity/.test(e.message));
  const mine = await p.getAllocations(vm);
  assert.deepEqual(mine, { allocations: cand.allocations, consumerGeneration: 1, projectId: 'proj', userId: 'user', consumerType: 'INSTANCE' });
  assert.deepEqual(await p.providerUsages(host), { MEMORY_MB: 512, VCPU: 2 });
  // Without a generation the claim replaces whatever the consumer holds (last writer wins).
  assert.equal(await p.claim(vm, { [host]: { VCPU: 1, MEMORY_MB: 256 } }, { projectId: 'proj', userId: 'user' }), 2);
  assert.deepEqual(await p.providerUsages(numa), { [`CUSTOM_ACCEL_${tag}`]: 0 });
  assert.equal(await p.removeAllocations(vm), true);
  assert.equal(await p.removeAllocations(vm), false);
  assert.deepEqual((await p.getAllocations(vm)).allocations, {});

  await assert.rejects(p.deleteProvider(host), (e: unknown) => e instanceof Fault && e.status === 409);
  await p.deleteProvider(numa);
  await p.deleteProvider(host);
  assert.equal(await p.getProvider(host), undefined);
}

test('in-process placement: providers, inventory, traits, aggregates, candidates with groups, claims and their conflicts', async () => {
  await scenario(h.cloud.placement.client, 'INPROC');
});

test('HTTP placement (microversion 1.39): the same scenario, the same answers', async () => {
  await scenario(new HttpPlacement({ url: h.placementUrl, token: () => h.adminToken() }), 'HTTP');
});

test('in-process calls refuse malformed input with a 400 before touching the database', async () => {
  const p = h.cloud.placement.client;
  for (const bad of [
    () => p.claim('not-a-uuid', {}, { projectId: 'p', userId: 'u' }),
    () => p.claim(randomUUID(), { [randomUUID()]: { VCPU: 0 } }, { projectId: 'p', userId: 'u' }),
    () => p.claim(randomUUID(), { [randomUUID()]: { vcpu: 1 } }, { projectId: 'p', userId: 'u' }),
    () => p.allocationCandidates({}),
    () => p.allocationCandidates({ resources: { VCPU: 1.5 } }),
    () => p.allocationCandidates({ groups: { a: { resources: { VCPU: 1 } }, b: { resources: { VCPU: 1 } } } }),
    () => p.setInventory(randomUUID(), { VCPU: { total: -1 } }),
    () => p.ensureProvider({ uuid: 'x', name: 'x' }),
  ]) await assert.rejects(bad(), (e: unknown) => e instanceof Fault && e.status === 400);
});
