// The image cache with the real qemu-img, mkfs.ext4 and mkswap (small sparse files).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../../platform/log.js';
import { isDriverError } from '../errors.js';
import { createRootDisk, ImageCache } from './image-cache.js';
import { imageInfo, GiB, MiB } from './qemu-img.js';

let dir: string;
let cache: ImageCache;
const img = (name: string) => join(dir, name);
const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });
const blkid = (path: string, tag: string) => execFileSync('blkid', ['-p', '-o', 'value', '-s', tag, path], { encoding: 'utf8' }).trim();

before(() => {
  dir = mkdtempSync('/tmp/nephos-image-cache-test-');
  cache = new ImageCache(join(dir, 'cache'), silentLogger());
  // A raw image with some data, a qcow2 one, a qcow2 with a backing file, and raw bytes that are qcow2.
  const fd = openSync(img('raw.img'), 'w');
  writeSync(fd, Buffer.from('nephos raw image\n'.padEnd(512, '.')), 0, 512, 1024 * 1024);
  closeSync(fd);
  qemuImg('create', '-q', '-f', 'raw', img('sized.raw'), String(4 * MiB));
  qemuImg('convert', '-q', '-f', 'raw', '-O', 'qcow2', img('raw.img'), img('good.qcow2'));
  qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', img('good.qcow2'), img('backed.qcow2'));
  qemuImg('create', '-q', '-f', 'qcow2', img('big.qcow2'), String(3 * GiB));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('an image is copied into the cache once, then served from its record', async () => {
  const base = await cache.ensure({ id: 'img-raw', path: img('raw.img'), format: 'raw' });
  assert.equal(base.path, join(dir, 'cache', 'img-raw'));
  assert.equal(base.format, 'raw');
  assert.equal(base.virtualSize, 1024 * 1024 + 512);
  assert.ok(existsSync(`${base.path}.json`));
  rmSync(img('raw.img'));
  const again = await cache.ensure({ id: 'img-raw', path: img('raw.img'), format: 'raw' });
  assert.deepEqual(again, base, 'the source is not read again');
  await assert.rejects(cache.ensure({ id: 'img-raw', path: img('raw.img'), format: 'qcow2' }), (e: unknown) => isDriverError(e, 'ImageUnacceptable'));
  const q = await cache.ensure({ id: 'img-qcow2', path: img('good.qcow2'), format: 'qcow2' });
  assert.equal((await imageInfo(q.path)).format, 'qcow2');
});

test('an image already at its cache path is inspected in place', async () => {
  const path = join(dir, 'cache', 'in-place');
  qemuImg('create', '-q', '-f', 'qcow2', path, String(MiB));
  const base = await cache.ensure({ id: 'in-place', path, format: 'qcow2' });
  assert.equal(base.path, path);
  assert.equal(base.virtualSize, MiB);
});

test('images that are not what they claim, or reach other files, are refused (and nothing stays in the cache)', async () => {
  const refused = async (id: string, path: string, format: 'raw' | 'qcow2', re: RegExp) => {
    await assert.rejects(cache.ensure({ id, path, format }), (e: unknown) => isDriverError(e, 'ImageUnacceptable') && re.test((e as Error).message));
    assert.ok(!existsSync(join(dir, 'cache', id)), `${id} not cached`);
  };
  await refused('q-as-raw', img('good.qcow2'), 'raw', /content is qcow2, not the declared raw/);
  await refused('raw-as-q', img('sized.raw'), 'qcow2', /content is raw, not the declared qcow2/);
  await refused('backed', img('backed.qcow2'), 'qcow2', /backing file/);
  writeFileSync(img('garbage.qcow2'), 'QFI\xfbnot really');
  await refused('garbage', img('garbage.qcow2'), 'qcow2', /unreadable|content/);
  await refused('absent', img('absent'), 'raw', /unreadable/);
});

test('root disks: an overlay grown to the flavor, the image size for root_gb 0, refused when the image is larger', async () => {
  const base = await cache.ensure({ id: 'img-qcow2', path: img('good.qcow2'), format: 'qcow2' });
  await createRootDisk(base, 1, img('root1'), 'img-qcow2');
  const info = await imageInfo(img('root1'));
  assert.equal(info.virtualSize, GiB);
  assert.equal(info.backingFile, base.path);
  await createRootDisk(base, 0, img('root0'), 'img-qcow2');
  assert.equal((await imageInfo(img('root0'))).virtualSize, base.virtualSize);
  const big = await cache.ensure({ id: 'big', path: img('big.qcow2'), format: 'qcow2' });
  await assert.rejects(createRootDisk(big, 2, img('root-big'), 'big'), (e: unknown) => isDriverError(e, 'FlavorDiskSmallerThanImage'));
  assert.ok(!existsSync(img('root-big')));
});

test('ephemeral and swap bases are formatted once', async () => {
  const eph = await cache.ephemeralBase(1);
  assert.equal(blkid(eph, 'TYPE'), 'ext4');
  assert.equal(blkid(eph, 'LABEL'), 'ephemeral0');
  assert.equal(await cache.ephemeralBase(1), eph);
  const swap = await cache.swapBase(16);
  assert.equal(blkid(swap, 'TYPE'), 'swap');
  assert.equal((await imageInfo(swap)).virtualSize, 16 * MiB);
});
