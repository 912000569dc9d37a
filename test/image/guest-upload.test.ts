// First start of the all-in-one: the Nephos guest is uploaded as public images (once), and the
// kernel + ramdisk downloaded back from the image API boot under QEMU (TCG) to the guest's
// boot-complete line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { uploadGuestImages } from '../../src/image/guest-upload.js';
import { buildGuest } from '../../src/guest/build.js';

const CACHE = process.env.NEPHOS_GUEST_CACHE ?? '/tmp/nephos-guest-cache';
const BOOT_LINE = /nephos-guest: boot complete in ([\d.]+)s \(uptime ([\d.]+)[^)]*\) hostname=(\S+) .*\r?\n/;

let h: IdentityHarness;
let dir: string;
let demo: string;

before(async () => {
  h = await startIdentity();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  dir = mkdtempSync(join(tmpdir(), 'nephos-test-guest-upload-'));
});
after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<Response> {
  const r = await fetch(`${h.imageUrl}${path}`, { headers: { 'x-auth-token': demo } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r;
}

test('the guest images are uploaded once, public, and the direct-boot variant boots from the downloaded files', async () => {
  const adminProject = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
  const ids = await uploadGuestImages(h.cloud.image.ctx, { ownerProjectId: adminProject, outDir: CACHE });
  const again = await uploadGuestImages(h.cloud.image.ctx, { ownerProjectId: adminProject, outDir: CACHE });
  assert.deepEqual(again, ids, 'a second start uploads nothing new');

  const list = await (await get('/v2/images?tag=nephos')).json() as { images: any[] };
  assert.deepEqual(list.images.map((i) => i.name).sort(), ['nephos-guest', 'nephos-guest-direct', 'nephos-guest-kernel', 'nephos-guest-ramdisk']);
  for (const img of list.images) {
    assert.equal(img.visibility, 'public');
    assert.equal(img.status, 'active');
  }
  const byName = Object.fromEntries(list.images.map((i) => [i.name, i]));
  assert.equal(byName['nephos-guest'].disk_format, 'qcow2');
  assert.ok(byName['nephos-guest'].size < 30e6, `qcow2 under 30 MB: ${byName['nephos-guest'].size}`);
  assert.equal(byName['nephos-guest-direct'].kernel_id, ids['nephos-guest-kernel']);
  assert.equal(byName['nephos-guest-direct'].ramdisk_id, ids['nephos-guest-ramdisk']);

  const guest = await buildGuest({ outDir: CACHE });
  const disk = Buffer.from(await (await get(`/v2/images/${ids['nephos-guest']}/file`)).arrayBuffer());
  assert.equal(createHash('sha256').update(disk).digest('hex'), createHash('sha256').update(readFileSync(guest.disk)).digest('hex'));

  const kernel = join(dir, 'vmlinuz');
  const ramdisk = join(dir, 'initrd');
  writeFileSync(kernel, Buffer.from(await (await get(`/v2/images/${ids['nephos-guest-kernel']}/file`)).arrayBuffer()));
  writeFileSync(ramdisk, Buffer.from(await (await get(`/v2/images/${ids['nephos-guest-ramdisk']}/file`)).arrayBuffer()));
  // A config drive names the guest, so the boot does not wait for a metadata server.
  const latest = join(dir, 'cd', 'openstack', 'latest');
  mkdirSync(latest, { recursive: true });
  writeFileSync(join(latest, 'meta_data.json'), JSON.stringify({ uuid: '0b7f0c1e-3c55-4b0e-9f39-2b7c8e1f4d21', name: 'from-glance', hostname: 'from-glance' }));
  const iso = join(dir, 'config.iso');
  execFileSync('genisoimage', ['-quiet', '-o', iso, '-V', 'config-2', '-r', '-J', join(dir, 'cd')]);

  const qemu = spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-smp', '1', '-m', '256', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', kernel, '-initrd', ramdisk, '-append', byName['nephos-guest-direct'].os_command_line,
    '-netdev', 'user,id=n0,restrict=on', '-device', 'virtio-net-pci,netdev=n0', '-device', 'virtio-rng-pci',
    '-drive', `file=${iso},if=virtio,format=raw,readonly=on`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  try {
    const line = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no boot-complete line within 90 s:\n${out.slice(-2000)}`)), 90_000);
      const onData = (d: Buffer) => {
        out += d.toString('latin1');
        const m = BOOT_LINE.exec(out);
        if (m) { clearTimeout(timer); resolve(m); }
      };
      qemu.stdout!.on('data', onData);
      qemu.stderr!.on('data', onData);
      qemu.on('exit', (code) => { clearTimeout(timer); reject(new Error(`qemu exited (${code}):\n${out.slice(-2000)}`)); });
    });
    assert.equal(line[3], 'from-glance');
  } finally {
    qemu.removeAllListeners('exit');
    if (qemu.exitCode === null) qemu.kill('SIGKILL');
  }
});
