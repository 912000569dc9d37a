// Scheduler filters on a real SQLite placement + compute database with fake hosts: each test
// checks where instances land and, when nothing fits, that NoValidHost says which filter removed
// which hosts and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateService, computeServiceOf } from '../../src/compute/services.js';
import { NoValidHost } from '../../src/compute/scheduler/errors.js';
import { requestSpec, startSchedHarness, type SchedHarness } from './scheduler-harness.js';

async function withHarness(fn: (h: SchedHarness) => Promise<void>, overrides?: Record<string, Record<string, unknown>>): Promise<void> {
  const h = await startSchedHarness({ overrides });
  try { await fn(h); } finally { await h.close(); }
}

/** Runs `p`, which must fail with NoValidHost; returns its message. */
async function noValidHost(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof NoValidHost, `expected NoValidHost, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.match(err.message, /^No valid host was found\. \S/);
    return err.message;
  }
  assert.fail('scheduling succeeded but should have found no valid host');
}

async function allocationsOn(h: SchedHarness, instance: string): Promise<string[]> {
  return Object.keys((await h.placement.getAllocations(instance)).allocations);
}

test('AvailabilityZoneFilter and ComputeFilter: instances go to an enabled host of the zone; otherwise the fault names both filters and their reasons', async () => {
  await withHarness(async (h) => {
    const a = await h.addHost('host-a');
    await h.addHost('host-b');
    const c = await h.addHost('host-c');
    await h.addAggregate('agg-az1', ['host-c'], { zone: 'az1' });
    const sched = h.scheduler();

    const [sel] = await sched.selectDestinations(requestSpec({ availabilityZone: 'az1' }), 1);
    assert.equal(sel!.host, 'host-c');
    assert.equal(sel!.availabilityZone, 'az1');
    assert.deepEqual(await allocationsOn(h, sel!.instanceUuid), [c.node.uuid], 'the claim is in placement on the chosen node');

    const [nova] = await sched.selectDestinations(requestSpec({ availabilityZone: 'nova' }), 1);
    assert.ok(['host-a', 'host-b'].includes(nova!.host), `the default zone is the hosts outside zoned aggregates, got ${nova!.host}`);
    assert.equal(nova!.availabilityZone, 'nova');

    await updateService(h.compute, (await computeServiceOf(h.compute, 'host-c'))!, { disabled: true, disabled_reason: 'maintenance' });
    const msg = await noValidHost(sched.selectDestinations(requestSpec({ availabilityZone: 'az1' }), 1));
    assert.equal(msg, 'No valid host was found. 3 hosts: AvailabilityZoneFilter removed 2 (not in zone az1), ComputeFilter removed 1 (service disabled: maintenance)');

    const unknownZone = await noValidHost(sched.selectDestinations(requestSpec({ availabilityZone: 'nowhere' }), 1));
    assert.match(unknownZone, /AvailabilityZoneFilter removed 2 \(not in zone nowhere\)/);
    assert.match(unknownZone, /ComputeFilter removed 1 \(service disabled: maintenance\)/);
    assert.ok(a.node.uuid);
  });
});

test('ComputeFilter removes a host whose service is down (no heartbeat) or forced down, saying so', async () => {
  await withHarness(async (h) => {
    await h.addHost('up-1');
    await h.addHost('silent-1');
    await h.addHost('forced-1');
    // silent-1 last reported two minutes ago (service_down_time is 60 s).
    const old = new Date(Date.now() - 120_000).toISOString().replace('Z', '000');
    await h.compute.db.updateTable('compute_service').set({ last_seen_up: old, updated_at: old }).where('host', '=', 'silent-1').execute();
    await updateService(h.compute, (await computeServiceOf(h.compute, 'forced-1'))!, { forced_down: true });
    const sched = h.scheduler();
    for (let i = 0; i < 3; i++) {
      const [sel] = await sched.selectDestinations(requestSpec(), 1);
      assert.equal(sel!.host, 'up-1', 'only the live host is chosen, even when it is the fullest');
    }
    await updateService(h.compute, (await computeServiceOf(h.compute, 'up-1'))!, { disabled: true });
    const msg = await noValidHost(sched.selectDestinations(requestSpec(), 1));
    assert.match(msg, /^No valid host was found\. 3 hosts: ComputeFilter removed 3 \(/);
    assert.match(msg, /service down: no heartbeat for 1[12]\d s/);
    assert.match(msg, /service forced down/);
    assert.match(msg, /service disabled[);]/);
    // Enabled again: honoured on the very next request.
    await updateService(h.compute, (await computeServiceOf(h.compute, 'up-1'))!, { disabled: false });
    assert.equal((await sched.selectDestinations(requestSpec(), 1))[0]!.host, 'up-1');
  });
});

test('a flavor too big for every host: placement finds nothing, and the fault says which resource is short', async () => {
  await withHarness(async (h) => {
    await h.addHost('small-1', { vcpus: 4, memoryMb: 4096, localGb: 40 });
    await h.addHost('small-2', { vcpus: 4, memoryMb: 4096, localGb: 40 });
    const sched = h.scheduler();
    const big = requestSpec({ flavor: { vcpus: 2, memoryMb: 8192, rootGb: 1, name: 'm1.large' } });
    const msg = await noValidHost(sched.selectDestinations(big, 1));
    assert.equal(msg, 'No valid host was found. Placement found no host with 8192 MB RAM, 2 VCPU, 1 GB disk free among 2 hosts (hosts with enough free: RAM 0, VCPU 2, disk 2).');
    assert.deepEqual(await allocationsOn(h, big.instanceUuids[0]!), [], 'nothing claimed');
    const disk = await noValidHost(sched.selectDestinations(requestSpec({ flavor: { vcpus: 1, memoryMb: 512, rootGb: 100 } }), 1));
    assert.match(disk, /hosts with enough free: RAM 2, VCPU 2, disk 0/);
  });
});

test('required traits: a host lacking them is never chosen; the fault says hosts have room but none has the trait', async () => {
  await withHarness(async (h) => {
    await h.addHost('tcg-1');
    await h.addHost('tcg-2');
    const sched = h.scheduler();
    const ok = await sched.selectDestinations(requestSpec({ flavor: { vcpus: 1, memoryMb: 512, rootGb: 1, extraSpecs: { 'trait:COMPUTE_NET_ATTACH_INTERFACE': 'required' } } }), 1);
    assert.equal(ok.length, 1);
    const msg = await noValidHost(sched.selectDestinations(requestSpec({ flavor: { vcpus: 1, memoryMb: 512, rootGb: 1, extraSpecs: { 'trait:HW_CPU_X86_AVX2': 'required' } } }), 1));
    assert.equal(msg, 'No valid host was found. Placement found no host with 512 MB RAM, 1 VCPU, 1 GB disk free with HW_CPU_X86_AVX2 among 2 hosts: 2 hosts have room, but none with HW_CPU_X86_AVX2.');
    const img = await noValidHost(sched.selectDestinations(requestSpec({ image: { properties: { 'trait:HW_CPU_X86_AVX512F': 'required' } } }), 1));
    assert.match(img, /none with HW_CPU_X86_AVX512F/);
    const unknown = await noValidHost(sched.selectDestinations(requestSpec({ flavor: { vcpus: 1, memoryMb: 512, rootGb: 1, extraSpecs: { 'trait:CUSTOM_NOPE': 'required' } } }), 1));
    assert.match(unknown, /Placement refused the request: .*CUSTOM_NOPE/);
  });
});

test('AggregateInstanceExtraSpecsFilter: flavor extra specs must match the host aggregates\' metadata', async () => {
  await withHarness(async (h) => {
    await h.addHost('ssd-1');
    await h.addHost('hdd-1');
    await h.addHost('plain-1');
    await h.addAggregate('fast', ['ssd-1'], { metadata: { ssd: 'true', cores: '64' } });
    await h.addAggregate('slow', ['hdd-1'], { metadata: { ssd: 'false' } });
    const sched = h.scheduler();
    const flavor = (extraSpecs: Record<string, string>) => ({ vcpus: 1, memoryMb: 512, rootGb: 1, extraSpecs });
    for (let i = 0; i < 2; i++) {
      const [sel] = await sched.selectDestinations(requestSpec({ flavor: flavor({ 'aggregate_instance_extra_specs:ssd': 'true' }) }), 1);
      assert.equal(sel!.host, 'ssd-1');
    }
    assert.equal((await sched.selectDestinations(requestSpec({ flavor: flavor({ ssd: 'false' }) }), 1))[0]!.host, 'hdd-1', 'unscoped keys are checked too');
    assert.equal((await sched.selectDestinations(requestSpec({ flavor: flavor({ 'aggregate_instance_extra_specs:cores': '>= 32' }) }), 1))[0]!.host, 'ssd-1');
    assert.ok((await sched.selectDestinations(requestSpec({ flavor: flavor({ 'hw:cpu_policy': 'shared', group_policy: 'none' }) }), 1)).length, 'other namespaces are not aggregate requirements');
    const msg = await noValidHost(sched.selectDestinations(requestSpec({ flavor: flavor({ 'aggregate_instance_extra_specs:ssd': '<or> yes <or> 1' }) }), 1));
    assert.match(msg, /^No valid host was found\. 3 hosts: AggregateInstanceExtraSpecsFilter removed 3 \(/);
    assert.match(msg, /no aggregate with metadata ssd/);
    assert.match(msg, /aggregate metadata ssd=true does not match "<or> yes <or> 1"/);
  });
});

test('ImagePropertiesFilter: architecture, hypervisor type and version of the image against what each host runs', async () => {
  await withHarness(async (h) => {
    await h.addHost('x86-1');
    await h.compute.db.updateTable('compute_node').set({ cpu_info: JSON.stringify({ arch: 'aarch64' }) }).where('host', '=', 'x86-1').execute();
    await h.addHost('x86-2');
    const sched = h.scheduler();
    const img = (properties: Record<string, unknown>) => requestSpec({ image: { id: '4a0b7b1c-0000-4000-8000-00000000000a', properties } });
    assert.equal((await sched.selectDestinations(img({ hw_architecture: 'x86_64', img_hv_type: 'qemu', hw_vm_mode: 'hvm' }), 1))[0]!.host, 'x86-2');
    assert.equal((await sched.selectDestinations(img({ architecture: 'aarch64' }), 1))[0]!.host, 'x86-1', 'legacy property names count');
    assert.equal((await sched.selectDestinations(img({ hw_architecture: 'i686', img_hv_requested_version: '>= 6.0' }), 1))[0]!.host, 'x86-2', 'x86_64 hosts run i686 guests');
    const kvm = await noValidHost(sched.selectDestinations(img({ hypervisor_type: 'kvm' }), 1));
    assert.match(kvm, /ImagePropertiesFilter removed 2 \(cannot run img_hv_type=kvm/);
    assert.match(kvm, /runs x86_64\/qemu\/hvm, i686\/qemu\/hvm/);
    const newer = await noValidHost(sched.selectDestinations(img({ hw_architecture: 'x86_64', img_hv_requested_version: '>= 9.1' }), 1));
    assert.match(newer, /hypervisor version 7002000 does not satisfy img_hv_requested_version >= 9\.1/);
  });
});

test('forced host (az:host) skips the filters; requested destination and ignore_hosts limit the hosts', async () => {
  await withHarness(async (h) => {
    await h.addHost('node-1');
    await h.addHost('node-2');
    await h.addHost('node-3');
    await updateService(h.compute, (await computeServiceOf(h.compute, 'node-2'))!, { disabled: true, disabled_reason: 'drain' });
    const sched = h.scheduler();
    assert.equal((await sched.selectDestinations(requestSpec({ forceHost: 'node-2' }), 1))[0]!.host, 'node-2', 'an admin may force a disabled host');
    assert.equal((await sched.selectDestinations(requestSpec({ forceNode: 'node-3' }), 1))[0]!.host, 'node-3');
    const req = await noValidHost(sched.selectDestinations(requestSpec({ requestedDestination: { host: 'node-2' } }), 1));
    assert.equal(req, 'No valid host was found. 1 host: ComputeFilter removed 1 (service disabled: drain)');
    assert.match(await noValidHost(sched.selectDestinations(requestSpec({ forceHost: 'node-9' }), 1)), /The forced host node-9 has no compute node/);
    for (let i = 0; i < 3; i++) assert.equal((await sched.selectDestinations(requestSpec({ ignoreHosts: ['node-1'] }), 1))[0]!.host, 'node-3');
    const ignored = await noValidHost(sched.selectDestinations(requestSpec({ ignoreHosts: ['node-1', 'node-3'] }), 1));
    assert.equal(ignored, 'No valid host was found. 3 hosts: IgnoreHosts removed 2 (tried before or the source host), ComputeFilter removed 1 (service disabled: drain)');
    const big = await noValidHost(sched.selectDestinations(requestSpec({ forceHost: 'node-1', flavor: { vcpus: 1, memoryMb: 10 ** 6, rootGb: 1 } }), 1));
    assert.equal(big, 'No valid host was found. Placement found no room for 1000000 MB RAM, 1 VCPU, 1 GB disk on the forced host node-1.');
  });
});
