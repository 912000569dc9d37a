// The config drive with the real genisoimage, read back with isoinfo (from the same Debian package)
// through its Rock Ridge and Joliet trees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../platform/host/exec.js';
import { buildConfigDrive, configDriveFiles } from './config-drive.js';
import { sampleInstance } from './sample.js';
import { OPENSTACK_VERSIONS } from './versions.js';

const md = sampleInstance({ adminPass: 'Adm1nPass', files: [{ path: '/etc/motd', contents: Buffer.from('welcome\n').toString('base64') }] });
let dir: string;

before(async () => { dir = await mkdtemp(join(tmpdir(), 'nephos-cd-test-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const ours = async (): Promise<string[]> => (await readdir(tmpdir())).filter((n) => n.startsWith('nephos-configdrive-'));

test('the file list is Nova\'s layout: EC2 2009-04-04 and latest, every OpenStack version and latest, injected content', () => {
  const paths = configDriveFiles(md).map((f) => f.path);
  assert.deepEqual(paths.filter((p) => p.startsWith('ec2/')), [
    'ec2/2009-04-04/user-data', 'ec2/2009-04-04/meta-data.json', 'ec2/latest/user-data', 'ec2/latest/meta-data.json',
  ]);
  const versions = [...new Set(paths.filter((p) => p.startsWith('openstack/') && !p.startsWith('openstack/content/')).map((p) => p.split('/')[1]))];
  assert.deepEqual(versions, [...OPENSTACK_VERSIONS, 'latest']);
  assert.deepEqual(paths.filter((p) => p.startsWith('openstack/2012-08-10/')), ['openstack/2012-08-10/meta_data.json', 'openstack/2012-08-10/user_data']);
  assert.deepEqual(paths.filter((p) => p.startsWith('openstack/latest/')).map((p) => p.split('/')[2]),
    ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']);
  assert.deepEqual(paths.filter((p) => p.startsWith('openstack/content/')), ['openstack/content/0000']);
  const latest = JSON.parse(configDriveFiles(md).find((f) => f.path === 'openstack/latest/meta_data.json')!.data.toString());
  assert.equal(latest.admin_pass, 'Adm1nPass');
  assert.deepEqual(latest.files, [{ path: '/etc/motd', content_path: '/content/0000' }]);
  const noUd = configDriveFiles(sampleInstance({ userData: null })).map((f) => f.path);
  assert.ok(!noUd.some((p) => p.endsWith('user_data') || p.endsWith('user-data')));
});

test('buildConfigDrive writes an ISO 9660 image labelled config-2 with Rock Ridge and Joliet names, mode 0600, and cleans up', async () => {
  const before = await ours();
  const iso = join(dir, 'disk.config');
  await buildConfigDrive(md, iso);
  assert.equal((await stat(iso)).mode & 0o777, 0o600);
  const info = (await exec('isoinfo', ['-d', '-i', iso])).stdout;
  assert.match(info, /^Volume id: config-2$/m);
  assert.match(info, /Rock Ridge signatures version/);
  assert.match(info, /Joliet with UCS level/);
  const rr = (await exec('isoinfo', ['-R', '-f', '-i', iso])).stdout.split('\n').filter(Boolean);
  assert.ok(rr.includes('/openstack/latest/meta_data.json'), rr.join(' '));
  assert.ok(rr.includes('/openstack/2018-08-27/vendor_data2.json'));
  assert.ok(rr.includes('/ec2/latest/meta-data.json'));
  const joliet = (await exec('isoinfo', ['-J', '-f', '-i', iso])).stdout.split('\n');
  assert.ok(joliet.includes('/openstack/latest/network_data.json'));
  const read = async (p: string) => (await exec('isoinfo', ['-R', '-x', p, '-i', iso])).stdout;
  const meta = JSON.parse(await read('/openstack/latest/meta_data.json'));
  assert.equal(meta.uuid, md.uuid);
  assert.equal(meta.hostname, 'web-1.novalocal');
  assert.equal(await read('/openstack/latest/user_data'), '#!/bin/sh\necho hello from user data\n');
  assert.equal(await read('/openstack/content/0000'), 'welcome\n');
  assert.equal(JSON.parse(await read('/ec2/latest/meta-data.json'))['instance-id'], 'i-0000002a');
  assert.deepEqual(JSON.parse(await read('/openstack/latest/network_data.json')).links.map((l: { id: string }) => l.id), ['tapcd9f6d46-4a', 'tap5e6f7a8b-11']);
  assert.deepEqual(await ours(), before);
  assert.deepEqual((await readdir(dir)).sort(), ['disk.config']);
});

test('a failure leaves neither the image, a partial file nor the temp dir', async () => {
  const before = await ours();
  await assert.rejects(buildConfigDrive(md, join(dir, 'missing-dir', 'disk.config')), /genisoimage/);
  assert.deepEqual(await ours(), before);
  await assert.rejects(stat(join(dir, 'missing-dir')), { code: 'ENOENT' });
});
