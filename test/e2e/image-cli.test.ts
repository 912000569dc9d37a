// End to end: Debian's unmodified `openstack` CLI against the image service (Glance v2 API):
// upload, list, download, update, share, deactivate, delete, and a hostile qcow2 refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;
let dir: string;
let rawFile: string;
let qcowFile: string;

before(async () => {
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
  dir = mkdtempSync(join(tmpdir(), 'nephos-test-image-cli-'));
  rawFile = join(dir, 'disk.raw');
  writeFileSync(rawFile, randomBytes(3 * 1024 * 1024 + 17));
  qcowFile = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcowFile, '64M']);
});
after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function show(auth: CliAuth, image: string): Promise<any> {
  const r = await openstack(auth, 'image', 'show', image, '-f', 'json');
  ok(r, `image show ${image}`);
  return r.json;
}

test('image create with --file, formats, properties, visibility and tags; show reports the real data', async () => {
  const r = await openstack(admin, 'image', 'create', '--file', rawFile, '--disk-format', 'raw', '--container-format', 'bare',
    '--property', 'os_distro=nephos', '--property', 'hw_rng_model=virtio', '--public', '--tag', 'e2e', '--tag', 'raw-one', 'e2e-raw', '-f', 'json');
  ok(r, 'image create raw');
  const img = await show(admin, 'e2e-raw');
  assert.equal(img.status, 'active');
  assert.equal(img.visibility, 'public');
  assert.equal(img.disk_format, 'raw');
  assert.equal(img.container_format, 'bare');
  assert.equal(img.size, 3 * 1024 * 1024 + 17);
  assert.equal(img.checksum, md5(readFileSync(rawFile)));
  assert.equal(img.properties.os_distro, 'nephos');
  assert.equal(img.properties.hw_rng_model, 'virtio');
  assert.deepEqual([...img.tags].sort(), ['e2e', 'raw-one']);

  const q = await openstack(admin, 'image', 'create', '--file', qcowFile, '--disk-format', 'qcow2', '--container-format', 'bare', '--private', 'e2e-qcow2', '-f', 'json');
  ok(q, 'image create qcow2');
  const qi = await show(admin, 'e2e-qcow2');
  assert.equal(qi.status, 'active');
  assert.equal(qi.visibility, 'private');
  assert.equal(qi.virtual_size, 64 * 1024 * 1024, 'virtual_size comes from the qcow2 header');
  // A private image of admin's project is invisible to demo.
  const hidden = await openstack(demo, 'image', 'show', 'e2e-qcow2', '-f', 'json');
  assert.notEqual(hidden.code, 0);
});

test('image list --long and --property filters', async () => {
  const long = await openstack(admin, 'image', 'list', '--long', '-f', 'json');
  ok(long, 'image list --long');
  const raw = long.json.find((i: any) => i.Name === 'e2e-raw');
  assert.ok(raw, 'e2e-raw listed');
  assert.equal(raw['Disk Format'], 'raw');
  assert.equal(raw['Container Format'], 'bare');
  assert.equal(raw.Size, 3 * 1024 * 1024 + 17);
  assert.equal(raw.Checksum, md5(readFileSync(rawFile)));
  const filtered = await openstack(admin, 'image', 'list', '--property', 'os_distro=nephos', '-f', 'json');
  ok(filtered, 'image list --property');
  assert.deepEqual(filtered.json.map((i: any) => i.Name), ['e2e-raw']);
  // demo sees the public image too.
  const demoList = await openstack(demo, 'image', 'list', '-f', 'json');
  ok(demoList, 'demo image list');
  assert.ok(demoList.json.some((i: any) => i.Name === 'e2e-raw'));
  assert.ok(!demoList.json.some((i: any) => i.Name === 'e2e-qcow2'));
});

test('image save gives back identical bytes', async () => {
  const out = join(dir, 'saved.raw');
  ok(await openstack(demo, 'image', 'save', '--file', out, 'e2e-raw'), 'image save');
  assert.ok(readFileSync(out).equals(readFileSync(rawFile)), 'downloaded bytes equal the upload');
});

test('image set and unset: name, properties, tags, protected', async () => {
  ok(await openstack(admin, 'image', 'set', '--name', 'e2e-raw-2', '--property', 'owner_note=first', '--tag', 'added', '--min-ram', '128', '--protected', 'e2e-raw'), 'image set');
  let img = await show(admin, 'e2e-raw-2');
  assert.equal(img.properties.owner_note, 'first');
  assert.equal(img.min_ram, 128);
  assert.equal(img.protected, true);
  assert.ok(img.tags.includes('added'));
  const refused = await openstack(admin, 'image', 'delete', 'e2e-raw-2');
  assert.notEqual(refused.code, 0, 'a protected image cannot be deleted');
  ok(await openstack(admin, 'image', 'unset', '--property', 'owner_note', '--tag', 'raw-one', 'e2e-raw-2'), 'image unset');
  ok(await openstack(admin, 'image', 'set', '--unprotected', 'e2e-raw-2'), 'image set --unprotected');
  img = await show(admin, 'e2e-raw-2');
  assert.equal(img.properties.owner_note, undefined);
  assert.ok(!img.tags.includes('raw-one'));
  assert.equal(img.protected, false);
  // demo may not change an image it does not own.
  const denied = await openstack(demo, 'image', 'set', '--name', 'stolen', 'e2e-raw-2');
  assert.notEqual(denied.code, 0);
  assert.equal((await show(admin, 'e2e-raw-2')).name, 'e2e-raw-2');
});

test('shared image: add project, the member accepts, then sees it in its list', async () => {
  const created = await openstack(admin, 'image', 'create', '--file', rawFile, '--disk-format', 'raw', '--container-format', 'bare', '--shared', 'e2e-shared', '-f', 'json');
  ok(created, 'image create --shared');
  const projects = await openstack(admin, 'project', 'show', 'demo', '-f', 'json');
  ok(projects, 'project show demo');
  const demoId = projects.json.id;
  const member = await openstack(admin, 'image', 'add', 'project', 'e2e-shared', 'demo', '-f', 'json');
  ok(member, 'image add project');
  assert.equal(member.json.status, 'pending');
  // Pending: demo can read it by id but does not see it in the default list.
  const before = await openstack(demo, 'image', 'list', '-f', 'json');
  ok(before, 'demo list before accept');
  assert.ok(!before.json.some((i: any) => i.Name === 'e2e-shared'));
  ok(await openstack(demo, 'image', 'set', '--accept', created.json.id), 'image set --accept');
  const afterList = await openstack(demo, 'image', 'list', '-f', 'json');
  ok(afterList, 'demo list after accept');
  assert.ok(afterList.json.some((i: any) => i.Name === 'e2e-shared'));
  const members = await openstack(admin, 'image', 'member', 'list', 'e2e-shared', '-f', 'json');
  ok(members, 'image member list');
  assert.deepEqual(members.json.map((m: any) => [m['Member ID'], m.Status]), [[demoId, 'accepted']]);
  ok(await openstack(admin, 'image', 'remove', 'project', 'e2e-shared', 'demo'), 'image remove project');
  const gone = await openstack(demo, 'image', 'list', '-f', 'json');
  assert.ok(!gone.json.some((i: any) => i.Name === 'e2e-shared'));
});

test('deactivate and reactivate: data unavailable to non-admins meanwhile', async () => {
  ok(await openstack(admin, 'image', 'set', '--deactivate', 'e2e-raw-2'), 'deactivate');
  assert.equal((await show(admin, 'e2e-raw-2')).status, 'deactivated');
  const out = join(dir, 'deact.raw');
  const refused = await openstack(demo, 'image', 'save', '--file', out, 'e2e-raw-2');
  assert.notEqual(refused.code, 0, 'download of a deactivated image is refused');
  ok(await openstack(admin, 'image', 'set', '--activate', 'e2e-raw-2'), 'reactivate');
  assert.equal((await show(admin, 'e2e-raw-2')).status, 'active');
  ok(await openstack(demo, 'image', 'save', '--file', out, 'e2e-raw-2'), 'save after reactivate');
  assert.ok(readFileSync(out).equals(readFileSync(rawFile)));
});

test('a qcow2 with a backing file is refused with a readable reason and never activated', async () => {
  const evil = join(dir, 'evil.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', evil, '1M']);
  const r = await openstack(admin, 'image', 'create', '--file', evil, '--disk-format', 'qcow2', '--container-format', 'bare', 'e2e-evil', '-f', 'json');
  assert.notEqual(r.code, 0, 'create with a hostile qcow2 fails');
  assert.match(r.stderr, /backing/i, `the error names the reason: ${r.stderr}`);
  // The SDK deletes the image it created when the upload fails; what must never exist is an
  // active image with that data (the API suite checks the image stays queued with no data).
  const list = await openstack(admin, 'image', 'list', '--long', '-f', 'json');
  ok(list, 'image list');
  const evilRows = list.json.filter((i: any) => i.Name === 'e2e-evil');
  assert.ok(evilRows.every((i: any) => i.Status === 'queued' && !i.Checksum), JSON.stringify(evilRows));
  // Declared raw, really qcow2: refused too.
  const liar = await openstack(admin, 'image', 'create', '--file', qcowFile, '--disk-format', 'raw', '--container-format', 'bare', 'e2e-liar', '-f', 'json');
  assert.notEqual(liar.code, 0);
  assert.match(liar.stderr, /qcow2/i);
});

test('image delete removes it', async () => {
  for (const name of ['e2e-raw-2', 'e2e-qcow2', 'e2e-shared']) {
    ok(await openstack(admin, 'image', 'delete', name), `delete ${name}`);
  }
  const list = await openstack(admin, 'image', 'list', '-f', 'json');
  ok(list, 'image list');
  assert.ok(!list.json.some((i: any) => String(i.Name).startsWith('e2e-')));
  const gone = await openstack(admin, 'image', 'show', 'e2e-raw-2');
  assert.notEqual(gone.code, 0);
});
