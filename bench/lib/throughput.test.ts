import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageData } from './image-data.js';
import { ddWriteRate, hashRate, mbps, parseDdStatus, summarize } from './throughput.js';

test('summarize: best and median (odd and even counts)', () => {
  assert.deepEqual(summarize([3, 1, 2]), { best: 3, median: 2, runs: 3 });
  assert.deepEqual(summarize([4, 1, 2, 3]), { best: 4, median: 2.5, runs: 4 });
  assert.deepEqual(summarize([]), { best: 0, median: 0, runs: 0 });
  assert.equal(mbps(2_000_000, 2), 1);
});

test('parseDdStatus reads GNU dd status lines', () => {
  const out = '256+0 records in\n256+0 records out\n1073741824 bytes (1.1 GB, 1.0 GiB) copied, 1.73 s, 621 MB/s\n';
  assert.deepEqual(parseDdStatus(out), { bytes: 1073741824, seconds: 1.73 });
  assert.deepEqual(parseDdStatus('4194304 bytes (4.2 MB, 4.0 MiB) copied, 0,0051 s, 822 MB/s'), { bytes: 4194304, seconds: 0.0051 });
  assert.throws(() => parseDdStatus('dd: error writing'), /cannot read dd/);
});

test('ddWriteRate writes with dd, reports a rate and leaves no file behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-test-dd-'));
  try {
    const rate = await ddWriteRate(dir, 8 * 1024 * 1024);
    assert.ok(rate > 0 && Number.isFinite(rate), String(rate));
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ImageData: exact size, distinct chunks, repeatable bytes; hashRate digests them', () => {
  const data = new ImageData(5 * 65536 + 100, 65536);
  const a = [...data.chunks()];
  assert.deepEqual(a.map((c) => c.length), [65536, 65536, 65536, 65536, 65536, 100]);
  assert.notDeepEqual(a[0], a[1]);
  assert.equal(a[2].readUInt32BE(4), 2);
  const b = Buffer.concat([...data.chunks()]);
  assert.deepEqual(b, Buffer.concat(a));
  const run = hashRate('md5', data.chunks());
  assert.equal(run.hex, createHash('md5').update(b).digest('hex'));
  assert.equal(run.bytes, b.length);
  assert.ok(run.mbps > 0);
  assert.throws(() => new ImageData(10, 8), /chunk size/);
});
