import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDriverError } from '../errors.js';
import type { InstanceSpec } from '../types.js';
import { checkSpec, freeNicSlot, instancePaths, NIC_SLOT_FIRST } from './instance-config.js';

const ID = '0b6e5a1c-3f0e-4d7e-9a59-2f1a7c1b9e01';
const spec = (over: Record<string, unknown> = {}): InstanceSpec => ({
  instanceId: ID, name: 'vm', vcpus: 1, memoryMb: 256, rootGb: 1,
  image: { id: 'a1b2', path: '/cache/a1b2', format: 'qcow2' }, namespace: 'nephos-h1',
  nics: [{ portId: 'c2a4b8e0-1111-4a6e-8f00-aaaaaaaaaaaa', tapName: 'tapc2a4b8e0-11', mac: 'FA:16:3E:00:00:01', mtu: 1450 }],
  ...over,
} as InstanceSpec);

const invalid = (s: InstanceSpec, re: RegExp) => assert.throws(() => checkSpec(s), (e: unknown) => isDriverError(e, 'InvalidSpec') && re.test((e as Error).message));

test('a good spec passes; defaults filled; MAC lower-cased', () => {
  const { flavor, nics } = checkSpec(spec());
  assert.deepEqual(flavor, { vcpus: 1, memoryMb: 256, rootGb: 1, ephemeralGb: 0, swapMb: 0 });
  assert.equal(nics[0]!.mac, 'fa:16:3e:00:00:01');
});

test('bad specs are InvalidSpec naming the field', () => {
  invalid(spec({ instanceId: '../etc' }), /instanceId must be a UUID/);
  invalid(spec({ vcpus: 0 }), /vcpus/);
  invalid(spec({ memoryMb: 1.5 }), /memoryMb/);
  invalid(spec({ rootGb: -1 }), /rootGb/);
  invalid(spec({ image: { id: '../x', path: '/a', format: 'qcow2' } }), /image id/);
  invalid(spec({ image: { id: 'x', path: 'rel/a', format: 'qcow2' } }), /image.path/);
  invalid(spec({ image: { id: 'x', path: '/a', format: 'vmdk' } }), /image.format/);
  invalid(spec({ image: { id: 'x', path: '/a', format: 'raw', ramdiskPath: '/r' } }), /needs image.kernelPath/);
  invalid(spec({ image: { id: 'x', path: '/a', format: 'raw', kernelPath: '/k', kernelCmdline: 'a\nb' } }), /kernelCmdline/);
  invalid(spec({ namespace: 'a b' }), /namespace/);
  invalid(spec({ configDriveIso: 'x.iso' }), /configDriveIso/);
  const nic = spec().nics[0]!;
  invalid(spec({ nics: [{ ...nic, tapName: 'tap-name-longer-than-15' }] }), /TAP name/);
  invalid(spec({ nics: [{ ...nic, mac: '01:00:5e:00:00:01' }] }), /multicast/);
  invalid(spec({ nics: [{ ...nic, mac: 'fa:16:3e:00:00' }] }), /MAC/);
  invalid(spec({ nics: [{ ...nic, mtu: 67 }] }), /mtu/);
  invalid(spec({ nics: [nic, { ...nic, portId: 'other' }] }), /tapName .* twice/);
});

test('instance files live under <instances_dir>/<uuid>; NIC slots are reused lowest first', () => {
  const p = instancePaths('/var/lib/nephos/instances', ID);
  assert.equal(p.dir, `/var/lib/nephos/instances/${ID}`);
  assert.equal(p.disk, `${p.dir}/disk`);
  assert.equal(p.diskConfig, `${p.dir}/disk.config`);
  assert.throws(() => instancePaths('/i', 'not-a-uuid'), /UUID/);
  const nic = { portId: 'p', tapName: 't', mac: 'fa:16:3e:00:00:01', mtu: 1500 };
  assert.equal(freeNicSlot([]), NIC_SLOT_FIRST);
  assert.equal(freeNicSlot([{ ...nic, slot: NIC_SLOT_FIRST }, { ...nic, slot: NIC_SLOT_FIRST + 2 }]), NIC_SLOT_FIRST + 1);
});
