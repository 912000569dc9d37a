// The fake compute driver (simulated hosts for scale work only): lifecycle, the same errors as the
// qemu driver, a real qcow2 snapshot file, and FakeHosts naming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeDriver } from '../../src/compute/driver/fake/driver.js';
import { FakeHosts } from '../../src/compute/driver/fake/hosts.js';
import { isDriverError } from '../../src/compute/driver/errors.js';
import { imageInfo } from '../../src/compute/driver/qemu/qemu-img.js';
import type { InstanceSpec, NicSpec } from '../../src/compute/driver/types.js';

const nic = (n: number): NicSpec => ({ portId: randomUUID(), tapName: `tap${String(n).padStart(11, '0')}`, mac: `fa:16:3e:00:00:${String(n).padStart(2, '0')}`, mtu: 1450 });

const spec = (o: Partial<InstanceSpec> = {}): InstanceSpec => ({
  instanceId: randomUUID(), name: 'vm-1', vcpus: 1, memoryMb: 512, rootGb: 2, ephemeralGb: 1, swapMb: 0,
  image: { id: randomUUID(), path: '/nonexistent/fake/needs/no/file', format: 'qcow2' }, nics: [nic(1)], namespace: 'nephos-fake-0001', ...o,
});

const code = (c: string) => (err: unknown) => isDriverError(err) && err.code === c;

test('FakeDriver: spawn runs at once with a boot-complete console line; power transitions follow the qemu driver\'s rules', async () => {
  const d = new FakeDriver({ host: 'fake-0001', vcpus: 8, memoryMb: 16384, localGb: 100 });
  const info = await d.hostInfo();
  assert.deepEqual([info.vcpus, info.memoryMb, info.localGb, info.localGbFree, info.hypervisorType, info.virtType], [8, 16384, 100, 100, 'QEMU', 'qemu']);
  const s = spec();
  const vm = await d.spawn(s);
  assert.equal(vm.state, 'running');
  assert.equal(vm.pid, null);
  assert.deepEqual(vm.flavor, { vcpus: 1, memoryMb: 512, rootGb: 2, ephemeralGb: 1, swapMb: 0 });
  assert.match(await d.consoleOutput(s.instanceId), /nephos-guest: boot complete in [\d.]+s \(uptime [\d.]+, userspace [\d.]+s\) hostname=vm-1 /);
  assert.equal((await d.consoleOutput(s.instanceId, 1)).split('\n').length, 2, 'one line and its newline');
  assert.equal((await d.hostInfo()).localGbFree, 97);
  await assert.rejects(d.spawn(s), code('InstanceExists'));

  await d.unpause(s.instanceId); // running already: nothing to do, as with qemu
  await d.pause(s.instanceId);
  assert.equal(await d.state(s.instanceId), 'paused');
  await d.pause(s.instanceId); // idempotent
  await d.unpause(s.instanceId);
  await d.suspend(s.instanceId);
  assert.equal(await d.state(s.instanceId), 'suspended');
  await d.resume(s.instanceId);
  await d.powerOff(s.instanceId);
  assert.equal(await d.state(s.instanceId), 'shutdown');
  await d.powerOff(s.instanceId);
  await assert.rejects(d.pause(s.instanceId), code('InvalidState'));
  await assert.rejects(d.unpause(s.instanceId), code('InvalidState'));
  await assert.rejects(d.suspend(s.instanceId), code('InvalidState'));
  await assert.rejects(d.resume(s.instanceId), code('InvalidState'));
  const boots = d.bootCount(s.instanceId);
  await d.reboot(s.instanceId, 'soft'); // a stopped instance: a fresh start
  assert.equal(await d.state(s.instanceId), 'running');
  await d.reboot(s.instanceId, 'hard');
  assert.equal(d.bootCount(s.instanceId), boots + 2);
  await d.powerOn(s.instanceId);
  assert.equal(d.bootCount(s.instanceId), boots + 2, 'powerOn of a running instance does nothing');

  assert.equal((await d.listInstances()).length, 1);
  await d.destroy(s.instanceId);
  await d.destroy(s.instanceId);
  assert.equal(await d.state(s.instanceId), 'missing');
  assert.equal(await d.getInstance(s.instanceId), null);
  await assert.rejects(d.powerOn(s.instanceId), code('InstanceNotFound'));
});

test('FakeDriver: validation, resize, rebuild, interfaces, rescue, injected failures', async () => {
  const d = new FakeDriver();
  await assert.rejects(d.spawn(spec({ instanceId: 'not-a-uuid' })), code('InvalidSpec'));
  await assert.rejects(d.spawn(spec({ memoryMb: 1 })), code('InvalidSpec'));
  await assert.rejects(d.spawn(spec({ nics: [nic(1), nic(1)] })), code('InvalidSpec'));
  const s = spec();
  await d.spawn(s);
  await assert.rejects(d.resize(s.instanceId, { vcpus: 2, memoryMb: 1024, rootGb: 1 }), code('ResizeError'));
  await d.resize(s.instanceId, { vcpus: 2, memoryMb: 1024, rootGb: 4, ephemeralGb: 1, swapMb: 256 });
  const resized = (await d.getInstance(s.instanceId))!;
  assert.deepEqual(resized.flavor, { vcpus: 2, memoryMb: 1024, rootGb: 4, ephemeralGb: 1, swapMb: 256 });
  assert.equal(resized.state, 'running', 'a running instance runs again after a resize');
  assert.equal(await d.finishResize(s.instanceId, true), true, 'revert');
  assert.deepEqual((await d.getInstance(s.instanceId))!.flavor, { vcpus: 1, memoryMb: 512, rootGb: 2, ephemeralGb: 1, swapMb: 0 });
  assert.equal(await d.finishResize(s.instanceId, true), false, 'nothing pending');
  await d.resize(s.instanceId, { vcpus: 2, memoryMb: 1024, rootGb: 4, ephemeralGb: 1, swapMb: 256 });
  assert.equal(await d.finishResize(s.instanceId, false), true, 'confirm');
  assert.deepEqual((await d.getInstance(s.instanceId))!.flavor, { vcpus: 2, memoryMb: 1024, rootGb: 4, ephemeralGb: 1, swapMb: 256 });
  const image2 = { id: randomUUID(), path: '/x', format: 'raw' as const };
  await d.rebuild(s.instanceId, image2, { configDriveIso: '/tmp/cd.iso' });
  const rebuilt = (await d.getInstance(s.instanceId))!;
  assert.equal(rebuilt.imageId, image2.id);
  assert.equal(rebuilt.configDrive, true);
  const extra = nic(2);
  await d.attachInterface(s.instanceId, extra);
  await assert.rejects(d.attachInterface(s.instanceId, extra), code('InterfaceExists'));
  await d.detachInterface(s.instanceId, extra.portId);
  await assert.rejects(d.detachInterface(s.instanceId, extra.portId), code('InterfaceNotFound'));
  await d.rescue(s.instanceId, image2);
  assert.equal((await d.getInstance(s.instanceId))!.rescued, true);
  await assert.rejects(d.rescue(s.instanceId, image2), code('InvalidState'));
  await assert.rejects(d.resize(s.instanceId, { vcpus: 2, memoryMb: 1024, rootGb: 8 }), code('InvalidState'));
  await d.unrescue(s.instanceId);
  await assert.rejects(d.unrescue(s.instanceId), code('InvalidState'));

  d.failNext('spawn', 'HypervisorError', 'no room at the inn');
  const t = spec();
  await assert.rejects(d.spawn(t), (err: unknown) => isDriverError(err, 'HypervisorError') && /no room at the inn/.test(err.message));
  assert.equal(await d.state(t.instanceId), 'missing', 'a failed spawn leaves nothing');
  await d.spawn(t); // the fault fired once
  assert.equal(await d.state(t.instanceId), 'running');
});

test('FakeDriver snapshot: a real, standalone qcow2 of the root disk\'s size (qemu-img create), refused while rescued', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fake-snap-'));
  try {
    const d = new FakeDriver({ snapshotDir: dir });
    const s = spec({ rootGb: 3 });
    await d.spawn(s);
    const snap = await d.snapshot(s.instanceId);
    assert.equal(snap.format, 'qcow2');
    assert.ok(snap.path.startsWith(dir));
    const info = await imageInfo(snap.path);
    assert.equal(info.format, 'qcow2');
    assert.equal(info.virtualSize, 3 * 1024 ** 3);
    assert.equal(snap.virtualSize, info.virtualSize);
    assert.equal(info.backingFile, null);
    assert.ok(snap.size > 0 && snap.size < 1024 * 1024, `a small file: ${snap.size} bytes`);
    await d.rescue(s.instanceId, s.image);
    await assert.rejects(d.snapshot(s.instanceId), code('InvalidState'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FakeHosts: N named simulated hosts, each with its own driver and size', async () => {
  const fleet = new FakeHosts({ count: 12, vcpus: 4, sizeOf: (name) => (name === 'fake-0003' ? { vcpus: 64 } : undefined) });
  assert.equal(fleet.size, 12);
  assert.deepEqual(fleet.names.slice(0, 3), ['fake-0001', 'fake-0002', 'fake-0003']);
  assert.equal(fleet.names[11], 'fake-0012');
  assert.equal((await fleet.driver('fake-0001')!.hostInfo()).vcpus, 4);
  assert.equal((await fleet.driver('fake-0003')!.hostInfo()).vcpus, 64);
  assert.equal(fleet.driver('fake-9999'), undefined);
  const s = spec();
  await fleet.driver('fake-0002')!.spawn(s);
  assert.equal(await fleet.driver('fake-0001')!.state(s.instanceId), 'missing', 'hosts are independent');
  assert.equal([...fleet].length, 12);
  assert.equal(new FakeHosts({ count: 10001 }).names[0], 'fake-00001', 'wider numbers past 9999 hosts');
  assert.throws(() => new FakeHosts({ count: -1 }), RangeError);
  assert.throws(() => new FakeHosts({ count: 1, prefix: 'bad name' }), RangeError);
});
