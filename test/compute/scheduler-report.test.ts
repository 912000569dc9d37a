// Host resource reporting: the compute node and its placement resource provider (inventory,
// traits, aggregates), checked in both databases; aggregate mirroring and service deletion hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { providerAggregates } from '../../src/placement/aggregates.js';
import { listInventories } from '../../src/placement/inventories.js';
import { providerTraits } from '../../src/placement/traits.js';
import { removeAggregateHost, addAggregateHost, createAggregate } from '../../src/compute/aggregates.js';
import { computeServiceOf, deleteService, heartbeat, updateService } from '../../src/compute/services.js';
import { FakeDriver } from '../../src/compute/driver/fake/driver.js';
import { reportHost } from '../../src/compute/scheduler/host-report.js';
import { startSchedHarness, type SchedHarness } from './scheduler-harness.js';

async function withHarness(fn: (h: SchedHarness) => Promise<void>, overrides?: Record<string, Record<string, unknown>>): Promise<void> {
  const h = await startSchedHarness({ overrides });
  try { await fn(h); } finally { await h.close(); }
}

test('reportHost records the compute node and its resource provider: inventory with reserved amounts and ratios, traits, name', async () => {
  await withHarness(async (h) => {
    const r = await h.addHost('cmp-1', { vcpus: 8, memoryMb: 16384, localGb: 200 });
    assert.equal(r.node.host, 'cmp-1');
    assert.equal(r.node.hypervisor_hostname, 'cmp-1');
    assert.equal(r.node.hypervisor_type, 'QEMU');
    assert.equal(r.node.vcpus, 8);
    assert.equal(r.node.memory_mb_used, 1024, 'reserved_host_memory_mb counts as used, as in Nova');
    assert.equal(r.provider.uuid, r.node.uuid);
    assert.equal(r.provider.name, 'cmp-1');
    const inv = Object.fromEntries((await listInventories(h.placementCtx.db, r.node.uuid)).map((i) => [i.resource_class, i]));
    assert.deepEqual(Object.keys(inv).sort(), ['DISK_GB', 'MEMORY_MB', 'VCPU']);
    assert.equal(Number(inv.VCPU!.total), 8);
    assert.equal(Number(inv.VCPU!.allocation_ratio), 2);
    assert.equal(Number(inv.MEMORY_MB!.total), 16384);
    assert.equal(Number(inv.MEMORY_MB!.reserved), 1024);
    assert.equal(Number(inv.MEMORY_MB!.allocation_ratio), 1.5);
    assert.equal(Number(inv.DISK_GB!.total), 200);
    assert.equal(Number(inv.DISK_GB!.reserved), 3, 'reserved_host_disk_mb 2049 rounds up to 3 GB');
    assert.equal(Number(inv.DISK_GB!.max_unit), 200);
    const traits = await providerTraits(h.placementCtx.db, r.node.uuid);
    for (const t of ['COMPUTE_NODE', 'COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_IMAGE_TYPE_QCOW2', 'HW_ARCH_X86_64', 'HW_CPU_X86_SSE2']) assert.ok(traits.includes(t), `${t} reported`);
    assert.ok(!traits.includes('COMPUTE_STATUS_DISABLED'));
    assert.ok(!traits.includes('HW_CPU_X86_AVX2'), 'a TCG (fake) host reports the qemu64 features only');
    assert.equal(r.wrote, true);
  }, { compute: { cpu_allocation_ratio: 2, ram_allocation_ratio: 1.5, reserved_host_memory_mb: 1024, reserved_host_disk_mb: 2049 } });
});

test('a periodic report writes nothing when nothing changed; a disabled service gets COMPUTE_STATUS_DISABLED; new capacity is written', async () => {
  await withHarness(async (h) => {
    const d = new FakeDriver({ host: 'cmp-2', vcpus: 4, memoryMb: 8192, localGb: 100 });
    await heartbeat(h.compute, 'cmp-2', 'nova-compute');
    const report = async (driver = d) => reportHost(h.placement, h.compute, { host: 'cmp-2', hostInfo: await driver.hostInfo(), uptime: null });
    const first = await report();
    const again = await report();
    assert.equal(again.wrote, false);
    assert.equal(again.provider.generation, first.provider.generation, 'no generation bump');
    await updateService(h.compute, (await computeServiceOf(h.compute, 'cmp-2'))!, { disabled: true, disabled_reason: 'x' });
    const disabled = await report();
    assert.equal(disabled.wrote, true);
    assert.ok((await providerTraits(h.placementCtx.db, first.node.uuid)).includes('COMPUTE_STATUS_DISABLED'));
    const grown = await report(new FakeDriver({ host: 'cmp-2', vcpus: 8, memoryMb: 8192, localGb: 100 }));
    assert.equal(grown.node.uuid, first.node.uuid, 'the same node');
    assert.equal(Number((await listInventories(h.placementCtx.db, first.node.uuid)).find((i) => i.resource_class === 'VCPU')!.total), 8);
    // A provider changed behind the report's back (claims bump its generation): everything is written again.
    await h.placement.claim(randomUUID(), { [first.node.uuid]: { VCPU: 1 } }, { projectId: 'p', userId: 'u' });
    assert.equal((await report()).wrote, true);

    // An operator's CUSTOM_* trait stays (as in Nova); a driver trait removed by hand comes back.
    const hand = await h.placement.getTraits(first.node.uuid);
    await h.placement.setTraits(first.node.uuid, [...hand.traits.filter((t) => t !== 'COMPUTE_NODE'), 'CUSTOM_GOLD'], { generation: hand.generation });
    assert.equal((await report()).wrote, true);
    const after = await providerTraits(h.placementCtx.db, first.node.uuid);
    assert.ok(after.includes('CUSTOM_GOLD'), 'the operator\'s trait is kept');
    assert.ok(after.includes('COMPUTE_NODE'), 'the driver\'s trait is back');
    assert.equal((await report()).wrote, false, 'and the next report writes nothing');
  });
});

test('nodeUuid: the node is recorded under the host\'s own UUID; a different one later is refused', async () => {
  await withHarness(async (h) => {
    const uuid = randomUUID();
    const info = await new FakeDriver().hostInfo();
    await heartbeat(h.compute, 'cmp-3', 'nova-compute');
    const r = await reportHost(h.placement, h.compute, { host: 'cmp-3', nodeUuid: uuid.toUpperCase(), hostInfo: info, uptime: null });
    assert.equal(r.node.uuid, uuid);
    assert.equal(r.provider.uuid, uuid);
    assert.equal((await reportHost(h.placement, h.compute, { host: 'cmp-3', nodeUuid: uuid, hostInfo: info })).node.uuid, uuid);
    await assert.rejects(reportHost(h.placement, h.compute, { host: 'cmp-3', nodeUuid: randomUUID(), hostInfo: info }), /node UUID changed/);
  });
});

test('aggregates: reported with the host, mirrored when hosts join or leave, and a deleted service\'s provider goes', async () => {
  await withHarness(async (h) => {
    const a = await h.addHost('cmp-a');
    const b = await h.addHost('cmp-b');
    const agg = await createAggregate(h.compute, 'rack-1', 'az-r1');
    await addAggregateHost(h.compute, agg.id, 'cmp-a');
    assert.deepEqual(await providerAggregates(h.placementCtx.db, a.node.uuid), [agg.uuid], 'mirrored by the aggregateChanged hook');
    assert.deepEqual(await providerAggregates(h.placementCtx.db, b.node.uuid), []);
    const again = await h.addHost('cmp-a'); // a periodic report keeps them
    assert.deepEqual(again.aggregates, [agg.uuid]);
    assert.deepEqual(await providerAggregates(h.placementCtx.db, a.node.uuid), [agg.uuid]);
    await removeAggregateHost(h.compute, agg.id, 'cmp-a');
    assert.deepEqual(await providerAggregates(h.placementCtx.db, a.node.uuid), []);

    await deleteService(h.compute, (await computeServiceOf(h.compute, 'cmp-b'))!);
    assert.equal(await h.placement.getProvider(b.node.uuid), undefined, 'the computeServiceDeleted hook removed the provider');
    assert.ok(await h.placement.getProvider(a.node.uuid));
  });
});
