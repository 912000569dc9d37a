// The guest recipe's parts that can run on the host: the JSON flattener (under the same busybox
// awk the guest uses), the cpio writer (read back by GNU cpio) and the MBR layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { buildCpio } from '../../src/guest/cpio.js';
import { mbrSector } from '../../src/guest/disk.js';
import { defaultRecipeDir } from '../../src/guest/build.js';

async function flatten(json: string): Promise<string[]> {
  const child = execFile('busybox', ['awk', '-f', join(defaultRecipeDir, 'rootfs/lib/nephos/json.awk')]);
  const out = new Promise<string>((resolve, reject) => {
    let s = '';
    child.stdout!.on('data', (d: Buffer) => { s += d; });
    child.on('close', () => resolve(s)).on('error', reject);
  });
  child.stdin!.end(json);
  return (await out).split('\n').filter(Boolean);
}

test('json.awk flattens nested metadata, unescapes strings and keeps one value per line', async () => {
  const doc = JSON.stringify({
    uuid: 'u-1', hostname: 'vm-1.novalocal', name: 'a "quoted" \\ name',
    public_keys: { k1: 'ssh-ed25519 AAAA key1@host\n', 'k.2': 'ssh-rsa BBBB key2' },
    keys: [{ name: 'k1', type: 'ssh', data: 'ssh-ed25519 AAAA key1@host\n' }],
    meta: {}, devices: [], launch_index: 0, flag: true, nothing: null, nested: [[1, 2], { x: 'y,z}' }],
  }, null, 2);
  const lines = await flatten(doc);
  assert.ok(lines.includes('uuid\tu-1'));
  assert.ok(lines.includes('hostname\tvm-1.novalocal'));
  assert.ok(lines.includes('name\ta "quoted" \\ name'));
  assert.ok(lines.includes('public_keys.k1\tssh-ed25519 AAAA key1@host'));
  assert.ok(lines.includes('public_keys.k.2\tssh-rsa BBBB key2'));
  assert.ok(lines.includes('keys.0.data\tssh-ed25519 AAAA key1@host'));
  assert.ok(lines.includes('launch_index\t0'));
  assert.ok(lines.includes('nested.0.1\t2'));
  assert.ok(lines.includes('nested.1.x\ty,z}'));
  assert.equal(lines.length, 14);
});

test('json.awk yields nothing for input that is not JSON', async () => {
  assert.deepEqual(await flatten('<html>502 Bad Gateway</html>\n'), []);
});

test('buildCpio writes a newc archive GNU cpio reads back, parents first, with device nodes', async () => {
  const archive = buildCpio([
    { path: 'etc/nephos/boot', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\n') },
    { path: '/dev/console', type: 'char', mode: 0o600, major: 5, minor: 1 },
    { path: 'init', type: 'symlink', target: '/bin/busybox' },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
  ]);
  const child = execFile('cpio', ['-t', '-v', '--quiet']);
  const out = new Promise<string>((resolve) => { let s = ''; child.stdout!.on('data', (d: Buffer) => { s += d; }); child.on('close', () => resolve(s)); });
  child.stdin!.end(archive);
  const listing = (await out).trim().split('\n');
  assert.deepEqual(listing.map((l) => l.replace(/^.* 1970 /, '')),
    ['dev', 'dev/console', 'etc', 'etc/nephos', 'etc/nephos/boot', 'init -> /bin/busybox', 'tmp']);
  assert.match(listing[1]!, /^crw------- .* 5,\s+1 /);
  assert.match(listing[4]!, /^-rwxr-xr-x /);
  assert.match(listing[6]!, /^drwxrwxrwt /);
  assert.throws(() => buildCpio([{ path: '../x', type: 'dir', mode: 0o755 }]), /escapes/);
});

test('mbrSector: boot code, one bootable partition at 1 MiB, signature', () => {
  const mbr = mbrSector(Buffer.alloc(440, 0xaa), 40960);
  assert.equal(mbr.length, 512);
  assert.equal(mbr[0], 0xaa);
  assert.equal(mbr[446], 0x80);
  assert.equal(mbr.readUInt32LE(454), 2048);
  assert.equal(mbr.readUInt32LE(458), 40960);
  assert.equal(mbr.readUInt16LE(510), 0xaa55);
  assert.throws(() => mbrSector(Buffer.alloc(446), 1), /at most 440/);
});
