// Builds the Nephos guest (cached across runs in /tmp/nephos-guest-cache) and boots it with QEMU
// under TCG, as the compute service will: the kernel + ramdisk directly and the qcow2 disk by
// itself, each with a config drive (label config-2) carrying a host name, an SSH key and a
// user_data script; once more with the metadata served over HTTP at 169.254.169.254. Asserts
// the boot-complete line, the host name, the user_data marker (with the bound virtio-rng) on the
// serial console, an SSH login with the injected key, and a graceful stop by the ACPI power button.
//
// The QEMU flags are the ones the compute driver should use (see QEMU_BASE): `romfile=` on the
// NIC spares SeaBIOS the iPXE option ROM (~0.1 s; nothing boots from the network).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildGuest, type GuestArtifacts } from '../../src/guest/build.js';

const exec = promisify(execFile);
const CACHE = process.env.NEPHOS_GUEST_CACHE ?? '/tmp/nephos-guest-cache';
const BOOT_TIMEOUT_MS = 60_000;
const BOOT_LINE = /nephos-guest: boot complete in ([\d.]+)s \(uptime ([\d.]+)[^)]*\) hostname=(\S+) ip=(\S+) mtu=(\S+) metadata=(\S+)\r?\n/;

let guest: GuestArtifacts;
let work: string;
const times: Record<string, number[]> = {};

before(async () => {
  guest = await buildGuest({ outDir: CACHE });
  work = mkdtempSync('/tmp/nephos-test-guest-');
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nephos-test', '-f', join(work, 'key')]);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`guest ${guest?.version}: sizes ${JSON.stringify(guest?.sizes)}; guest uptime at boot complete (s): ${JSON.stringify(times)}`);
});

/** An OpenStack metadata tree (openstack/latest/{meta_data.json,user_data}) under dir. */
function metadataTree(dir: string, hostname: string, marker: string): void {
  const latest = join(dir, 'openstack', 'latest');
  mkdirSync(latest, { recursive: true });
  writeFileSync(join(latest, 'meta_data.json'), JSON.stringify({
    uuid: '6b3a9d52-0d8e-4a57-9b5e-3f4a8f2a1c11', name: `${hostname} instance`, hostname: `${hostname}.novalocal`,
    public_keys: { 'nephos-test': readFileSync(join(work, 'key.pub'), 'utf8') },
    launch_index: 0, availability_zone: 'nova', project_id: 'p', meta: { role: 'test "quoted"' }, devices: [],
  }));
  writeFileSync(join(latest, 'user_data'), `#!/bin/sh\necho "${marker} on $(hostname) rng=$(cat /sys/class/misc/hw_random/rng_current)"\n`);
}

async function configDrive(name: string, hostname: string, marker: string): Promise<string> {
  const tree = join(work, `${name}-tree`);
  metadataTree(tree, hostname, marker);
  const iso = join(work, `${name}.iso`);
  await exec('genisoimage', ['-quiet', '-o', iso, '-V', 'config-2', '-r', '-J', tree]);
  return iso;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    }).on('error', reject);
  });
}

interface Booted { qemu: ChildProcess; console: () => string; wallMs: number; line: RegExpExecArray }

/** QEMU's flags for the guest; `boot` adds the network's, the disks and the console. */
const QEMU_BASE = ['-accel', 'tcg', '-smp', '1', '-m', '256', '-display', 'none', '-serial', 'stdio', '-no-reboot'];

/** Starts QEMU (TCG) and waits for the boot-complete line; the caller stops it with stop(). */
async function boot(args: string[], opts: { netExtra?: string; sshPort?: number; monitor?: string } = {}): Promise<Booted> {
  const fwd = opts.sshPort ? `,hostfwd=tcp:127.0.0.1:${opts.sshPort}-:22` : '';
  const qemu = spawn('qemu-system-x86_64', [
    ...QEMU_BASE, '-monitor', opts.monitor ? `unix:${opts.monitor},server=on,wait=off` : 'none',
    // restrict=on: the guest reaches nothing beyond QEMU's own DHCP/forwards (never the host's network).
    '-netdev', `user,id=n0,restrict=on${opts.netExtra ?? ''}${fwd}`, '-device', 'virtio-net-pci,netdev=n0,romfile=',
    '-device', 'virtio-rng-pci', ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  qemu.stdout!.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  qemu.stderr!.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  const started = Date.now();
  const line = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = BOOT_LINE.exec(out);
      if (m) { clearInterval(timer); resolve(m); return; }
      if (qemu.exitCode !== null || Date.now() - started > BOOT_TIMEOUT_MS) {
        clearInterval(timer);
        stop(qemu);
        reject(new Error(`no boot-complete line within ${BOOT_TIMEOUT_MS / 1000} s (qemu exit ${qemu.exitCode}); console:\n${out.slice(-3000)}`));
      }
    }, 50);
  });
  return { qemu, console: () => out, wallMs: Date.now() - started, line };
}

function stop(qemu: ChildProcess): void {
  if (qemu.exitCode === null && qemu.pid) {
    qemu.kill('SIGTERM');
    setTimeout(() => { if (qemu.exitCode === null) qemu.kill('SIGKILL'); }, 3000).unref();
  }
}

async function waitFor(what: string, get: () => string, re: RegExp, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(get())) {
    if (Date.now() > end) throw new Error(`${what}: ${re} not seen; console:\n${get().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sshHostname(port: number): Promise<string> {
  const { stdout } = await exec('ssh', ['-i', join(work, 'key'), '-p', String(port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=20', '-o', 'LogLevel=ERROR', 'root@127.0.0.1', 'hostname; id -u'], { timeout: 40_000 });
  return stdout;
}

/** Presses the ACPI power button (QEMU monitor `system_powerdown`) and waits for QEMU to exit. */
async function powerButton(qemu: ChildProcess, monitor: string, ms = 20_000): Promise<void> {
  const exited = new Promise<void>((resolve) => { if (qemu.exitCode !== null) resolve(); else qemu.once('exit', () => resolve()); });
  await new Promise<void>((resolve, reject) => {
    const c = createConnection(monitor, () => c.end('system_powerdown\n', () => resolve())).on('error', reject);
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the guest did not power off within ${ms} ms`)), ms); });
  try { await Promise.race([exited, timeout]); } finally { clearTimeout(timer); }
}

async function checkBoot(variant: string, args: string[], hostname: string, marker: string, metadata: RegExp,
  opts: { netExtra?: string; ssh?: boolean; powerButton?: boolean } = {}) {
  const port = opts.ssh ? await freePort() : undefined;
  const monitor = opts.powerButton ? join(work, `${variant}.monitor`) : undefined;
  const b = await boot(args, { netExtra: opts.netExtra, sshPort: port, monitor });
  try {
    const [, seconds, uptime, host, ip, mtu, source] = b.line;
    (times[variant] ??= []).push(Number(uptime));
    console.log(`${variant}: boot complete at guest uptime ${uptime}s, ${b.wallMs} ms after QEMU started`);
    assert.equal(seconds, uptime);
    assert.ok(Number(uptime) > 0 && Number(uptime) < 60);
    assert.equal(host, hostname, 'host name from the metadata (short form)');
    assert.match(ip!, /^\d+\.\d+\.\d+\.\d+\/\d+$/, 'an address from DHCP');
    assert.equal(mtu, '1500');
    assert.match(source!, metadata);
    // rng=virtio_rng.N: the hardware RNG feeding the kernel's entropy pool is the virtio one.
    await waitFor(`${variant} user_data`, b.console, new RegExp(`${marker} on ${hostname} rng=virtio_rng\\.\\d+`));
    await waitFor(`${variant} user_data exit`, b.console, /nephos-guest: user_data exited with status 0/);
    // The summary after the line: the NIC as configured and the key the metadata gave.
    assert.match(b.console(), new RegExp(`nephos-guest: eth0: ip=${ip!.replace(/[./]/g, '\\$&')} mac=([0-9a-f]{2}:){5}[0-9a-f]{2} mtu=1500\\r?\\n`));
    assert.match(b.console(), /nephos-guest: ssh: dropbear on port 22, 1 authorized key\(s\) for root\r?\n/);
    if (port) assert.equal(await sshHostname(port), `${hostname}\n0\n`, 'SSH login as root with the injected key');
    if (monitor) {
      await powerButton(b.qemu, monitor);
      assert.match(b.console(), /nephos-guest: shutting down/, 'the power button ran the shutdown script');
    }
  } finally {
    stop(b.qemu);
  }
}

test('kernel + ramdisk boot directly, with a config drive on virtio; SSH with the injected key', { timeout: 150_000 }, async () => {
  const iso = await configDrive('direct', 'nephos-direct', 'MARKER-DIRECT');
  const args = ['-kernel', guest.kernel, '-initrd', guest.ramdisk, '-append', guest.cmdline,
    '-drive', `file=${iso},if=virtio,format=raw,readonly=on`];
  await checkBoot('direct', args, 'nephos-direct', 'MARKER-DIRECT', /^config-drive:\/dev\/vda$/, { ssh: true });
  // A second boot: warm page cache, as most boots are.
  await checkBoot('direct', args, 'nephos-direct', 'MARKER-DIRECT', /^config-drive:/);
});

test('the qcow2 disk boots by itself (SeaBIOS → SYSLINUX), config drive on an IDE CD-ROM', { timeout: 150_000 }, async () => {
  const iso = await configDrive('disk', 'nephos-disk', 'MARKER-DISK');
  // QEMU opens the disk read-write: boot a copy so that the cached one stays pristine.
  const disk = join(work, 'disk.qcow2');
  copyFileSync(guest.disk, disk);
  await checkBoot('disk', ['-drive', `file=${disk},if=virtio,format=qcow2`, '-drive', `file=${iso},media=cdrom,readonly=on`],
    'nephos-disk', 'MARKER-DISK', /^config-drive:\/dev\/sr0$/);
});

test('without a config drive, metadata comes over HTTP from 169.254.169.254; the ACPI power button stops the guest', { timeout: 150_000 }, async () => {
  const tree = join(work, 'http-tree');
  metadataTree(tree, 'nephos-http', 'MARKER-HTTP');
  // QEMU runs the command per guest connection to 169.254.169.254:80 (slirp's guestfwd); that
  // address must lie in the user network, hence a link-local user network for this boot.
  const server = join(work, 'metadata-server.sh');
  writeFileSync(server, `#!/bin/sh\nexec busybox httpd -i -h ${tree}\n`);
  chmodSync(server, 0o755);
  const net = `,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,dns=169.254.0.3,guestfwd=tcp:169.254.169.254:80-cmd:${server}`;
  await checkBoot('http', ['-kernel', guest.kernel, '-initrd', guest.ramdisk, '-append', guest.cmdline],
    'nephos-http', 'MARKER-HTTP', /^http-openstack$/, { netExtra: net, powerButton: true });
});

test('artifacts are small and a second build is served from the cache', async () => {
  assert.ok(guest.sizes.kernel + guest.sizes.ramdisk < 30e6, `kernel + ramdisk ${guest.sizes.kernel + guest.sizes.ramdisk} bytes`);
  assert.ok(guest.sizes.disk < 30e6, `disk ${guest.sizes.disk} bytes`);
  const again = await buildGuest({ outDir: CACHE });
  assert.equal(again.built, false);
  assert.equal(again.version, guest.version);
  const { stdout } = await exec('qemu-img', ['info', '--output=json', guest.disk]);
  const info = JSON.parse(stdout) as { format: string; 'virtual-size': number; 'backing-filename'?: string };
  assert.equal(info.format, 'qcow2');
  assert.equal(info['virtual-size'], guest.sizes.diskVirtual);
  assert.equal(info['backing-filename'], undefined);
});
