import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Fault } from '../../platform/http/faults.js';
import { FileStore } from './file-store.js';
import { imageDownload, parseContentRange, parseRange } from './download.js';

const DATA = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
const MD5 = '437bba8e0bf58337674f4539e75186ac';

async function withImage(fn: (store: FileStore, location: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-test-dl-'));
  try {
    const store = new FileStore({ dir });
    const { location } = await store.write('img', Readable.from([DATA]));
    await fn(store, location);
  } finally { await rm(dir, { recursive: true, force: true }); }
}

const faultOf = (status: number) => (e: unknown) => e instanceof Fault && e.status === status;

test('a plain download is 200 with octet-stream, Content-Length and the md5 in Content-MD5', async () => {
  await withImage(async (store, location) => {
    const d = await imageDownload(store, location, DATA.length, MD5);
    assert.equal(d.status, 200);
    assert.deepEqual(d.headers, { 'Content-Type': 'application/octet-stream', 'Content-MD5': MD5, 'Content-Length': '26' });
    assert.ok((await buffer(d.body)).equals(DATA));
  });
});

test('ranges are 206 with exactly the slice and Content-Range', async () => {
  await withImage(async (store, location) => {
    const cases: [string, number, number][] = [
      ['bytes=3-10', 3, 10], ['bytes=20-', 20, 25], ['bytes=-2', 24, 25], ['bytes=0-0', 0, 0],
      ['bytes=25-99', 25, 25], ['bytes=-100', 0, 25], ['BYTES = 1 - 2', 1, 2],
    ];
    for (const [header, start, end] of cases) {
      const d = await imageDownload(store, location, DATA.length, MD5, header);
      assert.equal(d.status, 206, header);
      assert.equal(d.headers['Content-Range'], `bytes ${start}-${end}/26`, header);
      assert.equal(d.headers['Content-Length'], String(end - start + 1), header);
      assert.ok((await buffer(d.body)).equals(DATA.subarray(start, end + 1)), header);
    }
  });
});

test('unsatisfiable or malformed ranges are 416, several ranges 400', async () => {
  await withImage(async (store, location) => {
    for (const header of ['bytes=26-', 'bytes=30-40', 'bytes=10-5', 'bytes=-', 'items=0-1', 'bytes=a-b', 'bytes=1-2x']) {
      await assert.rejects(imageDownload(store, location, DATA.length, MD5, header), faultOf(416), header);
    }
    const fault = await imageDownload(store, location, DATA.length, MD5, 'bytes=99-').catch((e: Fault) => e);
    assert.equal((fault as Fault).headers['Content-Range'], 'bytes */26');
    await assert.rejects(imageDownload(store, location, DATA.length, MD5, 'bytes=0-1,3-4'), faultOf(400));
  });
});

test('the legacy Content-Range request header selects a range too', async () => {
  await withImage(async (store, location) => {
    const d = await imageDownload(store, location, DATA.length, MD5, undefined, 'bytes 1-3/26');
    assert.equal(d.status, 206);
    assert.equal((await buffer(d.body)).toString(), 'BCD');
    assert.deepEqual(parseContentRange('bytes 0-4/*', 26), { start: 0, end: 4 });
    for (const h of ['bytes 3-1/26', 'bytes 0-30/*', 'bytes 26-27/30', 'bytes */26', 'bytes 0-5/3']) {
      assert.throws(() => parseContentRange(h, 26), faultOf(416), h);
    }
  });
});

test('an empty image satisfies no range', () => {
  assert.throws(() => parseRange('bytes=0-', 0), faultOf(416));
  assert.throws(() => parseRange('bytes=-5', 0), faultOf(416));
});

test('data gone from the store is a 404 before any header is chosen', async () => {
  await withImage(async (store, location) => {
    await store.delete(location);
    await assert.rejects(imageDownload(store, location, DATA.length, MD5), faultOf(404));
  });
});
