import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_KERNEL_CMDLINE, optValue, qemuArgs } from './command-line.js';
import { instancePaths, type InstanceConfig } from './instance-config.js';

const ID = '0b6e5a1c-3f0e-4d7e-9a59-2f1a7c1b9e01';
const PORT = 'c2a4b8e0-1111-4a6e-8f00-aaaaaaaaaaaa';

const cfg = (over: Partial<InstanceConfig> = {}): InstanceConfig => ({
  version: 1, instanceId: ID, name: 'vm, "one"', namespace: 'nephos-h1',
  flavor: { vcpus: 2, memoryMb: 512, rootGb: 1, ephemeralGb: 0, swapMb: 0 },
  image: { id: 'img', format: 'qcow2', kernel: false, ramdisk: false, kernelCmdline: null },
  nics: [{ portId: PORT, tapName: 'tapc2a4b8e0-11', mac: 'fa:16:3e:00:00:01', mtu: 1450, slot: 0x10 }],
  configDrive: true, rescue: null, createdAt: '2025-01-01T00:00:00Z', ...over,
});

/** The value after each occurrence of flag. */
const values = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

test('a disk boot: TCG, daemonized, pid file, two QMP monitors, console appended, SMBIOS with the UUID', () => {
  const p = instancePaths('/var/lib/nephos/instances', ID);
  const args = qemuArgs(cfg(), p, { virtType: 'qemu', qboot: '/q/qboot.rom' });
  assert.deepEqual(values(args, '-accel'), ['tcg']);
  assert.deepEqual(values(args, '-uuid'), [ID]);
  assert.deepEqual(values(args, '-m'), ['512']);
  assert.deepEqual(values(args, '-smp'), ['2,sockets=2,cores=1,threads=1']);
  assert.deepEqual(values(args, '-pidfile'), [p.pid]);
  assert.ok(args.includes('-daemonize') && args.includes('-nodefaults'));
  assert.ok(!args.includes('-cpu'), 'TCG keeps the default CPU model');
  assert.ok(!args.includes('-kernel') && !args.includes('-bios'), 'no direct boot, no qboot for a disk boot');
  assert.match(values(args, '-smbios')[0]!, new RegExp(`product=OpenStack Nova,serial=${ID},uuid=${ID}`));
  const chardevs = values(args, '-chardev');
  assert.ok(chardevs.includes(`file,id=charserial0,path=${p.console},append=on`));
  assert.ok(chardevs.includes(`socket,id=charmonitor,path=${p.qmp},server=on,wait=off`));
  assert.ok(chardevs.includes(`socket,id=charstatus,path=${p.qmpStatus},server=on,wait=off`));
  assert.equal(values(args, '-mon').length, 2);
  assert.ok(!args.some((a) => a.includes('"one"')), 'the display name never reaches the command line');
});

test('disks: root boots first, the config drive read-only on virtio; fixed slots', () => {
  const p = instancePaths('/i', ID);
  const args = qemuArgs(cfg({ flavor: { vcpus: 1, memoryMb: 256, rootGb: 1, ephemeralGb: 2, swapMb: 64 } }), p, { virtType: 'qemu', qboot: null });
  assert.deepEqual(values(args, '-drive'), [
    `file=${p.disk},format=qcow2,if=none,id=drive-root,node-name=disk-root,discard=unmap`,
    `file=${p.diskLocal},format=qcow2,if=none,id=drive-local,node-name=disk-local,discard=unmap`,
    `file=${p.diskSwap},format=qcow2,if=none,id=drive-swap,node-name=disk-swap,discard=unmap`,
    `file=${p.diskConfig},format=raw,if=none,id=drive-config,node-name=disk-config,readonly=on`,
  ]);
  const blk = values(args, '-device').filter((d) => d.startsWith('virtio-blk-pci'));
  assert.deepEqual(blk, [
    'virtio-blk-pci,drive=drive-root,id=virtio-disk-root,addr=0x4,bootindex=1',
    'virtio-blk-pci,drive=drive-local,id=virtio-disk-local,addr=0x5',
    'virtio-blk-pci,drive=drive-swap,id=virtio-disk-swap,addr=0x6',
    'virtio-blk-pci,drive=drive-config,id=virtio-disk-config,addr=0x7',
  ]);
});

test('NICs: the existing TAP (no scripts, no vhost), the port MAC and MTU, no option ROM, the stored slot', () => {
  const args = qemuArgs(cfg(), instancePaths('/i', ID), { virtType: 'qemu', qboot: null });
  assert.deepEqual(values(args, '-netdev'), [`tap,id=hostnet-${PORT},ifname=tapc2a4b8e0-11,script=no,downscript=no,vhost=off`]);
  assert.ok(values(args, '-device').includes(`virtio-net-pci,id=net-${PORT},netdev=hostnet-${PORT},mac=fa:16:3e:00:00:01,host_mtu=1450,romfile=,addr=0x10`));
});

test('direct kernel boot with qboot; rescue boots its own disk and kernel with the root disk second; KVM uses -cpu host', () => {
  const p = instancePaths('/i', ID);
  const direct = cfg({ image: { id: 'k', format: 'qcow2', kernel: true, ramdisk: true, kernelCmdline: null } });
  let args = qemuArgs(direct, p, { virtType: 'kvm', qboot: '/q/qboot.rom' });
  assert.deepEqual(values(args, '-kernel'), [p.kernel]);
  assert.deepEqual(values(args, '-initrd'), [p.ramdisk]);
  assert.deepEqual(values(args, '-append'), [DEFAULT_KERNEL_CMDLINE]);
  assert.deepEqual(values(args, '-bios'), ['/q/qboot.rom']);
  assert.deepEqual(values(args, '-accel'), ['kvm']);
  assert.deepEqual(values(args, '-cpu'), ['host']);
  args = qemuArgs({ ...direct, rescue: { id: 'r', format: 'raw', kernel: true, ramdisk: false, kernelCmdline: 'console=ttyS0' } }, p, { virtType: 'qemu', qboot: null });
  assert.deepEqual(values(args, '-kernel'), [p.kernelRescue]);
  assert.deepEqual(values(args, '-initrd'), []);
  assert.deepEqual(values(args, '-append'), ['console=ttyS0']);
  const drives = values(args, '-drive');
  assert.match(drives[0]!, /id=drive-rescue/);
  assert.match(drives[1]!, /id=drive-root/);
  assert.match(values(args, '-device').find((d) => d.includes('drive-rescue'))!, /bootindex=1/);
  assert.doesNotMatch(values(args, '-device').find((d) => d.includes('drive=drive-root'))!, /bootindex/);
});

test('restore adds -incoming; commas in paths are doubled', () => {
  const p = instancePaths('/srv/a,b', ID);
  const args = qemuArgs(cfg(), p, { virtType: 'qemu', qboot: null }, { incoming: "exec:cat '/x'" });
  assert.deepEqual(values(args, '-incoming'), ["exec:cat '/x'"]);
  assert.ok(values(args, '-drive')[0]!.startsWith(`file=/srv/a,,b/${ID}/disk,`));
  assert.equal(optValue('a,b,,c'), 'a,,b,,,,c');
});
