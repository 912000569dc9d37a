import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { qemuImg } from './fixtures.js';
import { convertToRaw, inspectFile, qemuFormat, qemuImgInfo } from './index.js';

let dir = '';
const file = (name: string): string => join(dir, name);
before(async () => { dir = await mkdtemp(join(tmpdir(), 'nephos-test-qemu-img-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

/** 4 MiB of guest data: random head and tail around a zero hole (kept sparse by qcow2). */
async function guestData(): Promise<Buffer> {
  const data = Buffer.alloc(4 * 1024 * 1024);
  randomBytes(1024 * 1024).copy(data, 0);
  randomBytes(512 * 1024).copy(data, 3 * 1024 * 1024);
  await writeFile(file('guest.raw'), data);
  return data;
}

describe('convertToRaw', () => {
  test('qcow2 → raw gives back the guest bytes; no temp file left', async () => {
    const data = await guestData();
    await qemuImg('convert', '-q', '-f', 'raw', '-O', 'qcow2', '-c', file('guest.raw'), file('guest.qcow2'));
    await convertToRaw(file('guest.qcow2'), file('out.raw'), { sourceFormat: 'qcow2' });
    assert.ok((await readFile(file('out.raw'))).equals(data));
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
    const info = await qemuImgInfo(file('out.raw'), { format: 'raw' });
    assert.equal(info.format, 'raw');
    assert.equal(info['virtual-size'], data.length);
  });

  test('without sourceFormat the detected format is used (vmdk, vhdx)', async () => {
    const data = await readFile(file('guest.raw'));
    for (const [fmt, name] of [['vmdk', 'guest.vmdk'], ['vhdx', 'guest.vhdx']]) {
      await qemuImg('convert', '-q', '-f', 'raw', '-O', fmt, file('guest.raw'), file(name));
      await convertToRaw(file(name), file(`${name}.raw`));
      assert.ok((await readFile(file(`${name}.raw`))).equals(data), fmt);
    }
  });

  test('refuses a qcow2 with a backing file before running qemu-img', async () => {
    await qemuImg('create', '-q', '-f', 'qcow2', '-b', file('guest.qcow2'), '-F', 'qcow2', file('overlay.qcow2'));
    await assert.rejects(convertToRaw(file('overlay.qcow2'), file('overlay.raw'), { sourceFormat: 'qcow2' }),
      /Refusing to convert overlay\.qcow2: The qcow2 image refers to a backing file/);
    await assert.rejects(stat(file('overlay.raw')), { code: 'ENOENT' });
  });

  test('refuses data that is not the stated source format', async () => {
    await assert.rejects(convertToRaw(file('guest.raw'), file('x.raw'), { sourceFormat: 'qcow2' }),
      /Image data is raw but disk_format is qcow2/);
  });

  test('a broken image fails with qemu-img\'s stderr; dst and temp file absent', async () => {
    // A qcow2 whose L1 table offset is not cluster-aligned: qemu refuses to open it.
    const broken = await readFile(file('guest.qcow2'));
    broken.writeBigUInt64BE(0x12345n, 40);
    await writeFile(file('broken.qcow2'), broken);
    const inspected = await inspectFile(file('broken.qcow2'));
    assert.deepEqual(inspected.problems, []);
    await assert.rejects(convertToRaw(file('broken.qcow2'), file('broken.raw'), { sourceFormat: 'qcow2' }),
      (err: Error) => /^qemu-img convert failed \(exit 1\): qemu-img: /.test(err.message));
    await assert.rejects(stat(file('broken.raw')), { code: 'ENOENT' });
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
  });

  test('times out and cleans up', async () => {
    await qemuImg('create', '-q', '-f', 'qcow2', file('big.qcow2'), '1G');
    await assert.rejects(convertToRaw(file('big.qcow2'), file('big.raw'), { timeoutMs: 1 }), /qemu-img convert timed out/);
    await assert.rejects(stat(file('big.raw')), { code: 'ENOENT' });
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
  });
});

test('qemuFormat maps Glance disk formats to qemu drivers', () => {
  assert.deepEqual(['vhd', 'ploop', 'iso', 'aki', 'qcow2', 'vmdk', 'raw'].map(qemuFormat),
    ['vpc', 'parallels', 'raw', 'raw', 'qcow2', 'vmdk', 'raw']);
});

test('qemuImgInfo reports qemu-img errors clearly', async () => {
  await assert.rejects(qemuImgInfo(join(tmpdir(), 'nephos-test-no-such-file.qcow2')), /qemu-img info failed \(exit 1\): .*No such file/);
});
