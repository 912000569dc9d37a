// The QEMU compute driver end to end, with real QEMU (TCG) booting the Nephos guest (built as in
// test/guest/boot.test.ts, cached in /tmp/nephos-guest-cache) on a real network: a host namespace
// `qx<pid>` with a bridge and one TAP per port, named as the network agent names them, and a DHCP
// namespace `qxd<pid>` (veth to the bridge) running dnsmasq, which gives each port's MAC a fixed
// address and the network's MTU. The guest's boot-complete line on the serial console says which
// address (so which MAC), MTU, host name and metadata source it got.
//
// One instance goes through the lifecycle: spawn, adoption by a new driver object (an agent
// restart), pause, NIC hot-plug, suspend/resume, ACPI power-off/on, hard and soft reboot, snapshot
// (booted as a new instance), rescue/unrescue, resize, rebuild, an unclean QEMU death, destroy.
// Prints spawn → boot-complete times and suspend/resume times.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGuest, type GuestArtifacts } from '../../src/guest/build.js';
import { isDriverError } from '../../src/compute/driver/errors.js';
import type { ImageSpec, NicSpec } from '../../src/compute/driver/types.js';
import { QemuDriver } from '../../src/compute/driver/qemu/driver.js';
import { withQmp, type QmpClient } from '../../src/compute/driver/qemu/qmp.js';
import { imageInfo, GiB, MiB } from '../../src/compute/driver/qemu/qemu-img.js';
import { addrAdd, linkAddBridge, linkAddTap, linkAddVeth, linkGet, linkSet, netnsAdd, netnsDelete } from '../../src/network/host/ip.js';
import { bridgeName, tapName, dhcpInterfaceName } from '../../src/network/host/names.js';

const exec = promisify(execFile);
const CACHE = process.env.NEPHOS_GUEST_CACHE ?? '/tmp/nephos-guest-cache';
const BOOT_MS = 120_000;
const BOOT_LINE = /nephos-guest: boot complete in ([\d.]+)s \(uptime ([\d.]+)[^)]*\) hostname=(\S+) ip=(\S+) mtu=(\S+) metadata=(\S+)\r?\n/g;
const MTU = 1400;
const HOST_NS = `qx${process.pid}`;
const DHCP_NS = `qxd${process.pid}`;
const NET_ID = 'a77e0000-0000-4000-8000-000000000001';
const BRIDGE = bridgeName(NET_ID);
const DHCP_PORT = 'd0000000-0000-4000-8000-000000000001';

/** Ports: id, MAC and the address dnsmasq gives that MAC. */
const port = (n: number): NicSpec & { ip: string } => {
  const portId = `${(0xc0000000 + n).toString(16)}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  return { portId, tapName: tapName(portId), mac: `fa:16:3e:77:00:${n.toString(16).padStart(2, '0')}`, mtu: MTU, ip: `10.77.0.${10 + n}` };
};
const P1 = port(1), P2 = port(2), P3 = port(3), P4 = port(4), P5 = port(5);
const PORTS = [P1, P2, P3, P4, P5];
const nic = ({ portId, tapName: t, mac, mtu }: NicSpec): NicSpec => ({ portId, tapName: t, mac, mtu });

const uuid = (n: number) => `5e1f0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const MAIN = uuid(1);

let guest: GuestArtifacts;
let work: string;
let instancesDir: string;
let driver: QemuDriver;
let dnsmasq: ChildProcess | undefined;
let diskImage: ImageSpec;
let directImage: ImageSpec;
let mainIso: string;
const figures: { spawnToBootMs: number[]; suspendMs?: number; resumeMs?: number; stateBytes?: number; snapshotMs?: number; powerOffMs?: number } = { spawnToBootMs: [] };

before(async () => {
  guest = await buildGuest({ outDir: CACHE });
  work = mkdtempSync('/tmp/nephos-qx-');
  instancesDir = join(work, 'instances');
  driver = new QemuDriver({ instancesDir, virtType: 'auto', shutdownTimeoutSec: 30 });
  diskImage = { id: `nephos-guest-disk-${guest.version}`, path: guest.disk, format: 'qcow2' };
  directImage = { id: `nephos-guest-direct-${guest.version}`, path: guest.disk, format: 'qcow2', kernelPath: guest.kernel, ramdiskPath: guest.ramdisk, kernelCmdline: guest.cmdline };

  // The host namespace as the network agent makes it: a bridge, one TAP per port (MTU of the network).
  await netnsAdd(HOST_NS);
  await linkSet(HOST_NS, 'lo', { up: true });
  await linkAddBridge(HOST_NS, BRIDGE, { mtu: MTU });
  await linkSet(HOST_NS, BRIDGE, { up: true });
  for (const p of PORTS) {
    await linkAddTap(HOST_NS, p.tapName, { mtu: MTU });
    await linkSet(HOST_NS, p.tapName, { master: BRIDGE, up: true });
  }
  // The DHCP namespace: a veth from the bridge, dnsmasq with a fixed address per MAC, MTU option,
  // no router (so the guest does not wait for a metadata service it cannot reach).
  await netnsAdd(DHCP_NS);
  await linkSet(DHCP_NS, 'lo', { up: true });
  const dhcpIf = dhcpInterfaceName(DHCP_PORT);
  await linkAddVeth(DHCP_NS, dhcpIf, { name: tapName(DHCP_PORT), netns: HOST_NS }, { mtu: MTU });
  await linkSet(HOST_NS, tapName(DHCP_PORT), { master: BRIDGE, up: true });
  await linkSet(DHCP_NS, dhcpIf, { up: true });
  await addrAdd(DHCP_NS, dhcpIf, '10.77.0.2/24');
  dnsmasq = spawn('ip', ['netns', 'exec', DHCP_NS, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0',
    `--interface=${dhcpIf}`, '--bind-interfaces', '--user=root', `--dhcp-leasefile=${join(work, 'leases')}`, '--dhcp-range=10.77.0.100,10.77.0.200,255.255.255.0,1h',
    ...PORTS.map((p) => `--dhcp-host=${p.mac},${p.ip}`), '--dhcp-option=option:router', `--dhcp-option=option:mtu,${MTU}`], { stdio: 'ignore' });
  await sleep(300);
  assert.equal(dnsmasq.exitCode, null, 'dnsmasq runs');

  mainIso = await configDrive('main', 'qx-main');
});

after(async () => {
  // Clean up everything, also after a failure: instances (by the driver), dnsmasq, namespaces, files.
  if (driver) for (const i of await driver.listInstances().catch(() => [])) await driver.destroy(i.instanceId).catch(() => undefined);
  if (dnsmasq?.pid && dnsmasq.exitCode === null) dnsmasq.kill('SIGKILL');
  await netnsDelete(DHCP_NS).catch(() => undefined);
  await netnsDelete(HOST_NS).catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`qemu driver figures: spawn → boot-complete ms ${JSON.stringify(figures.spawnToBootMs)} (median ${median(figures.spawnToBootMs)}); `
    + `suspend ${figures.suspendMs} ms (${((figures.stateBytes ?? 0) / MiB).toFixed(1)} MiB state), resume ${figures.resumeMs} ms, `
    + `snapshot ${figures.snapshotMs} ms, ACPI power-off ${figures.powerOffMs} ms`);
});

async function configDrive(name: string, hostname: string): Promise<string> {
  const tree = join(work, `${name}-tree`);
  const latest = join(tree, 'openstack', 'latest');
  mkdirSync(latest, { recursive: true });
  writeFileSync(join(latest, 'meta_data.json'), JSON.stringify({ uuid: MAIN, name: hostname, hostname: `${hostname}.novalocal`, launch_index: 0, availability_zone: 'nova', project_id: 'p' }));
  const iso = join(work, `${name}.iso`);
  await exec('genisoimage', ['-quiet', '-o', iso, '-V', 'config-2', '-r', '-J', tree]);
  return iso;
}

interface Boot { uptime: number; hostname: string; ip: string; mtu: string; metadata: string }

/** Boot-complete lines so far on the instance's console (via the driver's consoleOutput). */
async function boots(id: string): Promise<Boot[]> {
  const out = await driver.consoleOutput(id);
  return [...out.matchAll(BOOT_LINE)].map((m) => ({ uptime: Number(m[2]), hostname: m[3]!, ip: m[4]!, mtu: m[5]!, metadata: m[6]! }));
}

/** Waits for the `n`th boot-complete line (1-based) and returns it. */
async function waitBoot(id: string, n: number): Promise<Boot> {
  const until = Date.now() + BOOT_MS;
  while (Date.now() < until) {
    const b = await boots(id);
    if (b.length >= n) return b[n - 1]!;
    await sleep(100);
  }
  throw new Error(`instance ${id}: boot-complete line #${n} not seen within ${BOOT_MS / 1000} s; console:\n${(await driver.consoleOutput(id, 40)).slice(-3000)}`);
}

const count = async (id: string, re: RegExp) => [...(await driver.consoleOutput(id)).matchAll(new RegExp(re.source, 'g'))].length;

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** Parent and session of a process (/proc/<pid>/stat fields 4 and 6). */
function procStat(pid: number): { ppid: number; session: number } {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), session: Number(f[3]) };
}

async function qmpOf<T>(id: string, fn: (q: QmpClient) => Promise<T>): Promise<T> {
  return withQmp(join(instancesDir, id, 'qmp.sock'), fn);
}

test('host info: QEMU, TCG unless KVM works, the capacity of the instances file system; kvm required but unusable is a clear error', async () => {
  const h = await driver.hostInfo();
  assert.equal(h.hypervisorType, 'QEMU');
  assert.match(h.version, /^\d+\.\d+\.\d+$/);
  assert.ok(h.vcpus >= 1 && h.memoryMb > 512 && h.localGb >= 1);
  if (!existsSync('/dev/kvm')) {
    assert.equal(h.virtType, 'qemu');
    await assert.rejects(new QemuDriver({ instancesDir, virtType: 'kvm' }).hostInfo(), (e: unknown) => isDriverError(e, 'HypervisorUnavailable'));
  }
});

test('spawn: the qcow2 image boots with a config drive, gets its address by its MAC and the network MTU', { timeout: BOOT_MS + 30_000 }, async () => {
  const t0 = Date.now();
  const info = await driver.spawn({
    instanceId: MAIN, name: 'main', vcpus: 1, memoryMb: 256, rootGb: 1, ephemeralGb: 1, swapMb: 32,
    image: diskImage, nics: [nic(P1)], namespace: HOST_NS, configDriveIso: mainIso,
  });
  assert.equal(info.state, 'running');
  assert.ok(info.pid && alive(info.pid));
  const b = await waitBoot(MAIN, 1);
  figures.spawnToBootMs.push(Date.now() - t0);
  assert.equal(b.hostname, 'qx-main', 'host name from the config drive');
  assert.equal(b.ip, `${P1.ip}/24`, 'the address dnsmasq gives the port\'s MAC');
  assert.equal(b.mtu, String(MTU));
  assert.match(b.metadata, /^config-drive:\/dev\/vd[b-z]$/, 'config drive found on virtio');
  // The root disk is an overlay of the cached base, grown to the flavor's size.
  const root = await imageInfo(join(instancesDir, MAIN, 'disk'), { forceShare: true });
  assert.equal(root.virtualSize, GiB);
  assert.equal(root.backingFile, join(instancesDir, '_base', diskImage.id));
  // The guest's MAC is on the TAP's side of the bridge; the TAP has carrier (QEMU holds it).
  const { stdout: fdb } = await exec('bridge', ['-n', HOST_NS, 'fdb', 'show', 'br', BRIDGE]);
  assert.match(fdb, new RegExp(`^${P1.mac} dev ${P1.tapName} `, 'm'));
  assert.equal((await linkGet(HOST_NS, P1.tapName))?.lowerUp, true);
  // QEMU runs in the host namespace.
  const ns = statSync(`/proc/${info.pid}/ns/net`);
  assert.equal(ns.ino, statSync(`/run/netns/${HOST_NS}`).ino);
  await assert.rejects(driver.spawn({ instanceId: MAIN, name: 'again', vcpus: 1, memoryMb: 256, rootGb: 1, image: diskImage, nics: [], namespace: HOST_NS }),
    (e: unknown) => isDriverError(e, 'InstanceExists'));
});

test('an agent restart: QEMU is not the agent\'s child, and a new driver adopts it as running', async () => {
  const { pid } = (await driver.getInstance(MAIN))!;
  const qemu = procStat(pid!);
  assert.notEqual(qemu.ppid, process.pid, 'daemonized: re-parented away from the agent');
  assert.notEqual(qemu.session, procStat(process.pid).session, 'in its own session');
  const restarted = new QemuDriver({ instancesDir, virtType: 'auto' });
  const list = await restarted.listInstances();
  assert.deepEqual(list.map((i) => [i.instanceId, i.state, i.pid]), [[MAIN, 'running', pid]]);
  assert.equal(await restarted.state(MAIN), 'running');
  assert.equal(await restarted.state(uuid(999)), 'missing');
  driver = restarted; // the rest of the suite drives the instance through the adopting driver
});

test('pause and unpause (idempotent)', async () => {
  await driver.pause(MAIN);
  assert.equal(await driver.state(MAIN), 'paused');
  await driver.pause(MAIN);
  assert.equal((await qmpOf(MAIN, (q) => q.execute<{ status: string }>('query-status'))).status, 'paused');
  await assert.rejects(driver.detachInterface(MAIN, P1.portId), (e: unknown) => isDriverError(e, 'InvalidState'), 'a paused guest cannot release a NIC');
  await driver.unpause(MAIN);
  await driver.unpause(MAIN);
  assert.equal(await driver.state(MAIN), 'running');
});

test('NIC hot-plug: the TAP gets carrier; unplug waits for the guest to release it; the TAP stays', { timeout: 90_000 }, async () => {
  await driver.attachInterface(MAIN, nic(P2));
  assert.equal((await linkGet(HOST_NS, P2.tapName))?.lowerUp, true, 'QEMU opened the second TAP');
  assert.deepEqual((await driver.getInstance(MAIN))!.nics.map((n) => n.portId), [P1.portId, P2.portId]);
  await assert.rejects(driver.attachInterface(MAIN, nic(P2)), (e: unknown) => isDriverError(e, 'InterfaceExists'));
  const pci = await qmpOf(MAIN, (q) => q.execute<{ devices: { qdev_id: string; slot: number }[] }[]>('query-pci'));
  assert.ok(pci[0]!.devices.some((d) => d.qdev_id === `net-${P2.portId}` && d.slot === 0x11), 'hot-plugged into the next NIC slot');
  await driver.detachInterface(MAIN, P2.portId);
  assert.equal((await linkGet(HOST_NS, P2.tapName))?.lowerUp, false, 'QEMU let go of the TAP');
  assert.ok(await linkGet(HOST_NS, P2.tapName), 'the TAP itself is the network agent\'s: still there');
  assert.deepEqual((await driver.getInstance(MAIN))!.nics.map((n) => n.portId), [P1.portId]);
  await assert.rejects(driver.detachInterface(MAIN, P2.portId), (e: unknown) => isDriverError(e, 'InterfaceNotFound'));
});

test('suspend saves the memory and ends QEMU; resume continues the same boot', { timeout: 120_000 }, async () => {
  const { pid } = (await driver.getInstance(MAIN))!;
  let t0 = Date.now();
  await driver.suspend(MAIN);
  figures.suspendMs = Date.now() - t0;
  const state = join(instancesDir, MAIN, 'memory.state');
  assert.ok(existsSync(state), 'the saved memory is on disk');
  figures.stateBytes = statSync(state).size;
  assert.ok(!alive(pid!), 'no process while suspended');
  assert.equal(await driver.state(MAIN), 'suspended');
  assert.equal((await new QemuDriver({ instancesDir }).listInstances())[0]?.state, 'suspended');
  assert.ok(await linkGet(HOST_NS, P1.tapName), 'the TAP stays');
  await assert.rejects(driver.pause(MAIN), (e: unknown) => isDriverError(e, 'InvalidState'));
  // A damaged state file: resume fails with QEMU's reason, and the instance stays suspended.
  const saved = readFileSync(state);
  writeFileSync(state, saved.subarray(0, 4096));
  await assert.rejects(driver.resume(MAIN), (e: unknown) => isDriverError(e, 'HypervisorError') && /restoring the saved memory/.test((e as Error).message));
  assert.equal(await driver.state(MAIN), 'suspended');
  writeFileSync(state, saved);
  t0 = Date.now();
  await driver.resume(MAIN);
  figures.resumeMs = Date.now() - t0;
  assert.equal(await driver.state(MAIN), 'running');
  assert.ok(!existsSync(state), 'the saved memory is gone once restored');
  await sleep(1500);
  assert.equal((await boots(MAIN)).length, 1, 'no second boot: the guest continued');
});

test('power off by the ACPI button (the guest shuts down cleanly); power on boots it again', { timeout: BOOT_MS + 60_000 }, async () => {
  const shutdowns = await count(MAIN, /nephos-guest: shutting down/);
  const t0 = Date.now();
  await driver.powerOff(MAIN, { timeoutSec: 30 });
  figures.powerOffMs = Date.now() - t0;
  assert.ok(figures.powerOffMs < 30_000, 'the guest powered off before the timeout (no hard stop)');
  assert.equal(await count(MAIN, /nephos-guest: shutting down/), shutdowns + 1, 'the resumed guest ran its shutdown');
  assert.equal(await driver.state(MAIN), 'shutdown');
  assert.ok(!existsSync(join(instancesDir, MAIN, 'qemu.pid')) && !existsSync(join(instancesDir, MAIN, 'qmp.sock')));
  await driver.powerOff(MAIN); // idempotent
  const cold = await driver.snapshot(MAIN);
  assert.equal(cold.method, 'qemu-img-convert', 'no process: the disk is converted');
  assert.equal((await imageInfo(cold.path)).backingFile, null);
  rmSync(cold.path);
  await driver.powerOn(MAIN);
  assert.equal(await driver.state(MAIN), 'running');
  const b = await waitBoot(MAIN, 2);
  assert.equal(b.ip, `${P1.ip}/24`);
});

test('hard reboot resets the machine (same process, a new boot); soft reboot shuts down and starts', { timeout: 2 * BOOT_MS + 60_000 }, async () => {
  const { pid } = (await driver.getInstance(MAIN))!;
  await driver.reboot(MAIN, 'hard');
  const b3 = await waitBoot(MAIN, 3);
  assert.ok(b3.uptime < 60);
  assert.equal((await driver.getInstance(MAIN))!.pid, pid, 'system_reset: the same QEMU');
  const shutdowns = await count(MAIN, /nephos-guest: shutting down/);
  await driver.reboot(MAIN, 'soft', { timeoutSec: 30 });
  await waitBoot(MAIN, 4);
  assert.equal(await count(MAIN, /nephos-guest: shutting down/), shutdowns + 1, 'the guest shut down gracefully first');
  const after = (await driver.getInstance(MAIN))!;
  assert.equal(after.state, 'running');
  assert.notEqual(after.pid, pid);
});

test('snapshot of the running instance is a standalone qcow2 that boots', { timeout: BOOT_MS + 60_000 }, async () => {
  const t0 = Date.now();
  const snap = await driver.snapshot(MAIN);
  figures.snapshotMs = Date.now() - t0;
  assert.equal(snap.method, 'blockdev-backup');
  assert.equal(await driver.state(MAIN), 'running', 'the guest kept running');
  const info = await imageInfo(snap.path);
  assert.equal(info.format, 'qcow2');
  assert.equal(info.backingFile, null, 'flattened: no backing file');
  assert.equal(info.virtualSize, GiB);
  const id = uuid(2);
  await driver.spawn({ instanceId: id, name: 'from-snapshot', vcpus: 1, memoryMb: 256, rootGb: 1, image: { id: 'snapshot-1', path: snap.path, format: 'qcow2' }, nics: [nic(P3)], namespace: HOST_NS });
  const b = await waitBoot(id, 1);
  assert.equal(b.ip, `${P3.ip}/24`);
  assert.equal(b.metadata, 'none');
  await driver.destroy(id);
  rmSync(snap.path);
});

test('rescue boots the rescue image (direct kernel) with the root disk second; unrescue boots the instance again', { timeout: 2 * BOOT_MS + 60_000 }, async () => {
  const n = (await boots(MAIN)).length;
  await driver.rescue(MAIN, directImage, { timeoutSec: 30 });
  const r = await waitBoot(MAIN, n + 1);
  assert.equal(r.hostname, 'qx-main', 'the config drive is attached in rescue too');
  const info = (await driver.getInstance(MAIN))!;
  assert.equal(info.rescued, true);
  assert.match(readFileSync(`/proc/${info.pid}/cmdline`, 'utf8'), /-kernel\0[^\0]*\/kernel\.rescue\0/);
  const blocks = await qmpOf(MAIN, (q) => q.execute<{ device: string }[]>('query-block'));
  assert.deepEqual(blocks.map((b) => b.device).slice(0, 2), ['drive-rescue', 'drive-root']);
  await assert.rejects(driver.snapshot(MAIN), (e: unknown) => isDriverError(e, 'InvalidState'));
  await driver.unrescue(MAIN);
  await waitBoot(MAIN, n + 2);
  const back = (await driver.getInstance(MAIN))!;
  assert.equal(back.rescued, false);
  assert.doesNotMatch(readFileSync(`/proc/${back.pid}/cmdline`, 'utf8'), /-kernel/);
  assert.ok(!existsSync(join(instancesDir, MAIN, 'disk.rescue')));
});

test('resize: more vCPUs and memory, disks grown (never shrunk); revert brings the disks and flavor back; confirm drops the kept disks', { timeout: 3 * BOOT_MS + 90_000 }, async () => {
  let n = (await boots(MAIN)).length;
  await assert.rejects(driver.resize(MAIN, { vcpus: 1, memoryMb: 256, rootGb: 1, ephemeralGb: 0 }), (e: unknown) => isDriverError(e, 'ResizeError'));
  await driver.resize(MAIN, { vcpus: 2, memoryMb: 384, rootGb: 2, ephemeralGb: 2, swapMb: 64 }, { timeoutSec: 30 });
  await waitBoot(MAIN, n + 1);
  const cpus = await qmpOf(MAIN, (q) => q.execute<unknown[]>('query-cpus-fast'));
  assert.equal(cpus.length, 2);
  const mem = await qmpOf(MAIN, (q) => q.execute<{ 'base-memory': number }>('query-memory-size-summary'));
  assert.equal(mem['base-memory'], 384 * MiB);
  const dir = join(instancesDir, MAIN);
  assert.equal((await imageInfo(join(dir, 'disk'), { forceShare: true })).virtualSize, 2 * GiB);
  assert.equal((await imageInfo(join(dir, 'disk.local'), { forceShare: true })).virtualSize, 2 * GiB);
  assert.equal((await imageInfo(join(dir, 'disk.swap'), { forceShare: true })).virtualSize, 64 * MiB);
  assert.deepEqual((await driver.getInstance(MAIN))!.flavor, { vcpus: 2, memoryMb: 384, rootGb: 2, ephemeralGb: 2, swapMb: 64 });
  const kept = ['disk', 'disk.local', 'disk.swap'].map((f) => join(dir, `${f}.pre-resize`));
  assert.deepEqual(kept.map((f) => existsSync(f)), [true, true, true], 'the pre-resize disks are kept');

  // Revert: the old sizes and flavor, booted again.
  n = (await boots(MAIN)).length;
  assert.equal(await driver.finishResize(MAIN, true, { timeoutSec: 30 }), true);
  await waitBoot(MAIN, n + 1);
  assert.equal((await qmpOf(MAIN, (q) => q.execute<unknown[]>('query-cpus-fast'))).length, 1);
  assert.equal((await imageInfo(join(dir, 'disk'), { forceShare: true })).virtualSize, 1 * GiB);
  assert.equal((await imageInfo(join(dir, 'disk.local'), { forceShare: true })).virtualSize, 1 * GiB);
  assert.equal((await imageInfo(join(dir, 'disk.swap'), { forceShare: true })).virtualSize, 32 * MiB);
  assert.deepEqual((await driver.getInstance(MAIN))!.flavor, { vcpus: 1, memoryMb: 256, rootGb: 1, ephemeralGb: 1, swapMb: 32 });
  assert.deepEqual(kept.map((f) => existsSync(f)), [false, false, false]);
  assert.equal(await driver.finishResize(MAIN, true), false, 'no resize pending any more');

  // Again, confirmed: the kept disks go, the new sizes stay (the rebuild below relies on them).
  n = (await boots(MAIN)).length;
  await driver.resize(MAIN, { vcpus: 2, memoryMb: 384, rootGb: 2, ephemeralGb: 2, swapMb: 64 }, { timeoutSec: 30 });
  await waitBoot(MAIN, n + 1);
  assert.equal(await driver.finishResize(MAIN, false), true);
  assert.deepEqual(kept.map((f) => existsSync(f)), [false, false, false]);
  assert.equal((await imageInfo(join(dir, 'disk'), { forceShare: true })).virtualSize, 2 * GiB);
});

test('rebuild on the direct-boot image: a new root disk, booted from the image\'s kernel', { timeout: BOOT_MS + 60_000 }, async () => {
  const n = (await boots(MAIN)).length;
  await driver.rebuild(MAIN, directImage, { timeoutSec: 30 });
  const b = await waitBoot(MAIN, n + 1);
  assert.equal(b.ip, `${P1.ip}/24`);
  const { pid } = (await driver.getInstance(MAIN))!;
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /-kernel\0/);
  const root = await imageInfo(join(instancesDir, MAIN, 'disk'), { forceShare: true });
  assert.equal(root.backingFile, join(instancesDir, '_base', directImage.id));
  assert.equal(root.virtualSize, 2 * GiB, 'the flavor\'s root size is kept');
});

test('a QEMU killed behind the driver\'s back is reported crashed; adoption cleans its leftovers; power on recovers', { timeout: BOOT_MS + 30_000 }, async () => {
  const { pid } = (await driver.getInstance(MAIN))!;
  process.kill(pid!, 'SIGKILL');
  for (let i = 0; i < 100 && alive(pid!); i++) await sleep(20);
  assert.equal(await driver.state(MAIN), 'crashed');
  const dir = join(instancesDir, MAIN);
  assert.ok(existsSync(join(dir, 'qemu.pid')), 'the stale pid file is still there');
  const listed = await new QemuDriver({ instancesDir }).listInstances();
  assert.equal(listed[0]?.state, 'crashed');
  assert.ok(!existsSync(join(dir, 'qemu.pid')) && !existsSync(join(dir, 'qmp.sock')), 'stale pid file and sockets cleaned');
  assert.equal(await driver.state(MAIN), 'crashed', 'still crashed after the cleanup');
  const n = (await boots(MAIN)).length;
  await driver.powerOn(MAIN);
  await waitBoot(MAIN, n + 1);
  assert.equal(await driver.state(MAIN), 'running');
});

test('destroy removes the process, the files and the disks, leaves the TAP alone, and is idempotent', async () => {
  const { pid } = (await driver.getInstance(MAIN))!;
  await driver.destroy(MAIN);
  assert.ok(!alive(pid!));
  assert.ok(!existsSync(join(instancesDir, MAIN)));
  assert.equal(await driver.state(MAIN), 'missing');
  assert.ok(await linkGet(HOST_NS, P1.tapName), 'the TAP stays');
  await driver.destroy(MAIN);
  await assert.rejects(driver.powerOn(MAIN), (e: unknown) => isDriverError(e, 'InstanceNotFound'));
  assert.deepEqual(await driver.listInstances(), []);
});

test('spawn refuses what cannot work and leaves nothing behind', async () => {
  const big = join(work, 'big.raw');
  await exec('qemu-img', ['create', '-q', '-f', 'raw', big, String(2 * GiB)]);
  const base = { name: 'x', vcpus: 1, memoryMb: 256, namespace: HOST_NS, nics: [] };
  await assert.rejects(driver.spawn({ ...base, instanceId: uuid(3), rootGb: 1, image: { id: 'big', path: big, format: 'raw' } }),
    (e: unknown) => isDriverError(e, 'FlavorDiskSmallerThanImage'));
  assert.ok(!existsSync(join(instancesDir, uuid(3))));
  const ghost = port(9);
  await assert.rejects(driver.spawn({ ...base, instanceId: uuid(4), rootGb: 1, image: diskImage, nics: [nic(ghost)] }),
    (e: unknown) => isDriverError(e, 'NetworkNotReady') && (e as Error).message.includes(ghost.tapName));
  assert.ok(!existsSync(join(instancesDir, uuid(4))));
  assert.equal(await linkGet(HOST_NS, ghost.tapName), null, 'QEMU never made a TAP of its own');
  await assert.rejects(driver.spawn({ ...base, instanceId: uuid(5), rootGb: 1, image: diskImage, namespace: `${HOST_NS}-absent` }),
    (e: unknown) => isDriverError(e, 'NetworkNotReady'));
  // The directory of a spawn that died before writing instance.json, an hour ago, is cleaned up on listing.
  const orphan = join(instancesDir, uuid(8));
  mkdirSync(orphan);
  writeFileSync(join(orphan, 'disk'), '');
  await driver.listInstances();
  assert.ok(existsSync(orphan), 'a recent one may be a spawn under way: kept');
  utimesSync(orphan, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
  await driver.listInstances();
  assert.ok(!existsSync(orphan));
  assert.deepEqual(readdirSync(instancesDir).filter((e) => !e.startsWith('_')), []);
});

test('spawn → boot-complete, a few more times (fresh instances, config drive)', { timeout: 3 * BOOT_MS }, async () => {
  for (const [i, p] of [[6, P4], [7, P5]] as const) {
    const id = uuid(i);
    const t0 = Date.now();
    await driver.spawn({ instanceId: id, name: `t${i}`, vcpus: 1, memoryMb: 256, rootGb: 1, image: diskImage, nics: [nic(p)], namespace: HOST_NS, configDriveIso: mainIso });
    const b = await waitBoot(id, 1);
    figures.spawnToBootMs.push(Date.now() - t0);
    assert.equal(b.ip, `${p.ip}/24`);
    await driver.destroy(id);
  }
  // Nothing of ours runs any more.
  const ours = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(instancesDir); } catch { return false; }
  });
  assert.deepEqual(ours, []);
});
