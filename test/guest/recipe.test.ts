// The guest recipe's parts that can run on the host: the JSON flattener and the metadata picker
// (under the same busybox awk the guest uses), the cpio writer (read back by GNU cpio), the MBR
// layout and the removal of module signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCpio } from '../../src/guest/cpio.js';
import { mbrSector } from '../../src/guest/disk.js';
import { defaultRecipeDir } from '../../src/guest/build.js';
import { stripModuleSignature } from '../../src/guest/modules.js';

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

test('instance.awk, run after json.awk in the same awk, writes hostname, uuid and keys', async () => {
  const dir = mkdtempSync('/tmp/nephos-test-instance-');
  try {
    const run = (doc: object) => new Promise<string>((resolve, reject) => {
      writeFileSync(join(dir, 'meta_data.json'), JSON.stringify(doc));
      execFile('busybox', ['awk', '-v', `md=${dir}`, '-f', join(defaultRecipeDir, 'rootfs/lib/nephos/json.awk'),
        '-f', join(defaultRecipeDir, 'rootfs/lib/nephos/instance.awk'), join(dir, 'meta_data.json')],
      (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const flat = await run({ uuid: 'u-1', name: 'vm one', hostname: 'vm-1.novalocal',
      public_keys: { a: 'ssh-ed25519 AAAA a@h\n', b: 'ssh-rsa BBBB b@h' }, keys: [{ data: 'ssh-ed25519 CCCC c@h' }] });
    assert.match(flat, /^hostname\tvm-1\.novalocal$/m, 'the flattened form still goes to stdout');
    assert.equal(read('hostname'), 'vm-1.novalocal\n');
    assert.equal(read('uuid'), 'u-1\n');
    assert.equal(read('keys'), 'ssh-ed25519 AAAA a@h\nssh-rsa BBBB b@h\n');
    // No hostname: the name; no public_keys: the data of the "keys" list.
    await run({ uuid: 'u-2', name: 'vm two', keys: [{ data: 'ssh-ed25519 CCCC c@h' }] });
    assert.equal(read('hostname'), 'vm two\n');
    assert.equal(read('keys'), 'ssh-ed25519 CCCC c@h\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stripModuleSignature drops an appended module signature and leaves unsigned modules alone', () => {
  const elf = Buffer.from('\x7fELF module body');
  const sig = Buffer.alloc(300, 0x5a);
  const info = Buffer.alloc(12);
  info[2] = 2; // PKEY_ID_PKCS7
  info.writeUInt32BE(sig.length, 8);
  const signed = Buffer.concat([elf, sig, info, Buffer.from('~Module signature appended~\n')]);
  assert.deepEqual(stripModuleSignature(signed), elf);
  assert.deepEqual(stripModuleSignature(elf), elf);
  const bogus = Buffer.from(signed);
  bogus.writeUInt32BE(1e6, elf.length + sig.length + 8);
  assert.throws(() => stripModuleSignature(bogus), /beyond the file/);
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
