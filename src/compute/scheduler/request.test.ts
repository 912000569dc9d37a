import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeResources, diskGbOf, imageRequiredTraits, parseAvailabilityZone, placementRequest } from './request.js';
import type { RequestSpec } from './types.js';

const spec = (o: Partial<RequestSpec> = {}): RequestSpec => ({
  instanceUuids: ['5c0a2bd6-1b8a-4a38-9a0e-000000000001'], projectId: 'p', userId: 'u',
  flavor: { vcpus: 2, memoryMb: 2048, rootGb: 20, ephemeralGb: 5, swapMb: 1536 }, ...o,
});

test('DISK_GB is root + ephemeral + swap rounded up to whole GiB; boot from volume drops the root', () => {
  assert.equal(diskGbOf({ vcpus: 1, memoryMb: 1, rootGb: 20, ephemeralGb: 5, swapMb: 1536 }), 27);
  assert.equal(diskGbOf({ vcpus: 1, memoryMb: 1, rootGb: 20, swapMb: 1024 }), 21);
  assert.equal(diskGbOf({ vcpus: 1, memoryMb: 1, rootGb: 20, swapMb: 1 }, true), 1);
  const q = placementRequest(spec()).query;
  assert.deepEqual(q.resources, { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 27 });
});

test('resources: and trait: extra specs override, remove, add and group; image traits are required', () => {
  const r = placementRequest(spec({
    flavor: {
      vcpus: 2, memoryMb: 2048, rootGb: 0,
      extraSpecs: {
        'resources:VCPU': '4', 'resources:CUSTOM_GPU': '1', 'trait:HW_CPU_X86_AVX2': 'required', 'trait:COMPUTE_STATUS_DISABLED': 'forbidden',
        'resources1:SRIOV_NET_VF': '1', 'trait1:CUSTOM_PHYSNET_A': 'required', group_policy: 'isolate', 'hw:cpu_policy': 'shared',
      },
    },
    image: { properties: { 'trait:COMPUTE_IMAGE_TYPE_QCOW2': 'required', traits_required: ['CUSTOM_IMG'] } },
  }), { zoneAggregates: ['a1', 'a2'], limit: 7 });
  assert.deepEqual(r.query.resources, { VCPU: 4, MEMORY_MB: 2048, CUSTOM_GPU: 1 }, 'root_gb 0: no DISK_GB');
  assert.deepEqual([...r.query.required!].sort(), ['COMPUTE_IMAGE_TYPE_QCOW2', 'CUSTOM_IMG', 'HW_CPU_X86_AVX2']);
  assert.deepEqual(r.query.forbidden, ['COMPUTE_STATUS_DISABLED']);
  assert.deepEqual(r.query.groups, { 1: { resources: { SRIOV_NET_VF: 1 }, required: ['CUSTOM_PHYSNET_A'], forbidden: [], memberOf: [['a1', 'a2']] } });
  assert.equal(r.query.groupPolicy, 'isolate');
  assert.deepEqual(r.query.memberOf, [['a1', 'a2']]);
  assert.equal(r.query.limit, 7);
  const zero = placementRequest(spec({ flavor: { vcpus: 1, memoryMb: 64, rootGb: 1, extraSpecs: { 'resources:DISK_GB': '0' } } })).query;
  assert.deepEqual(zero.resources, { VCPU: 1, MEMORY_MB: 64 });
  const dedicated = placementRequest(spec({ flavor: { vcpus: 2, memoryMb: 64, rootGb: 1, extraSpecs: { 'hw:cpu_policy': 'dedicated' } } })).query;
  assert.deepEqual(dedicated.resources, { PCPU: 2, MEMORY_MB: 64, DISK_GB: 1 });
  assert.throws(() => placementRequest(spec({ flavor: { vcpus: 1, memoryMb: 64, rootGb: 1, extraSpecs: { 'trait:X': 'maybe' } } })), /required or forbidden/);
  assert.throws(() => placementRequest(spec({ flavor: { vcpus: 1, memoryMb: 64, rootGb: 1, extraSpecs: { 'resources:VCPU': '-1' } } })), /non-negative/);
});

test('image traits: trait:X=required (any case) and traits_required; other values ignored', () => {
  assert.deepEqual(imageRequiredTraits({ properties: { 'trait:B': 'Required', 'trait:A': 'required', 'trait:C': 'forbidden', traits_required: ['D', 3] } }), ['A', 'B', 'D']);
  assert.deepEqual(imageRequiredTraits(undefined), []);
});

test('describeResources words the classes for people', () => {
  assert.equal(describeResources({ DISK_GB: 1, VCPU: 2, MEMORY_MB: 4096, CUSTOM_X: 3 }), '4096 MB RAM, 2 VCPU, 1 GB disk, 3 CUSTOM_X');
});

test('availability_zone az, az:host, az:host:node, az::node, :host; three colons is a 400', () => {
  assert.deepEqual(parseAvailabilityZone('az1'), { zone: 'az1', host: null, node: null });
  assert.deepEqual(parseAvailabilityZone('az1:h1'), { zone: 'az1', host: 'h1', node: null });
  assert.deepEqual(parseAvailabilityZone('az1:h1:n1'), { zone: 'az1', host: 'h1', node: 'n1' });
  assert.deepEqual(parseAvailabilityZone('az1::n1'), { zone: 'az1', host: null, node: 'n1' });
  assert.deepEqual(parseAvailabilityZone(':h1'), { zone: null, host: 'h1', node: null });
  assert.deepEqual(parseAvailabilityZone(null), { zone: null, host: null, node: null });
  assert.throws(() => parseAvailabilityZone('a:b:c:d'), (e: any) => e.status === 400 && /Unable to parse availability_zone/.test(e.message));
});

test('a stored flavor becomes a FlavorRequest', async () => {
  const { flavorRequestOf } = await import('./request.js');
  const f = flavorRequestOf({
    id: 1, flavorid: 'f1', name: 'm1.small', memory_mb: 2048, vcpus: 1, root_gb: 20, ephemeral_gb: 2, swap: 512, rxtx_factor: 1, vcpu_weight: null,
    disabled: 0, is_public: 1, description: null, created_at: 'x', updated_at: null, extra_specs: { 'trait:X': 'required' },
  });
  assert.deepEqual(f, { vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 2, swapMb: 512, name: 'm1.small', flavorId: 'f1', extraSpecs: { 'trait:X': 'required' } });
  assert.equal(diskGbOf(f), 23);
});
