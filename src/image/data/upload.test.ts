import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Fault } from '../../platform/http/faults.js';
import { FileStore } from './file-store.js';
import { leftovers, pattern } from './fixtures.js';
import { receiveImageData, type ReceivedData } from './upload.js';

const run = promisify(execFile);
const faultOf = (status: number) => (e: unknown) => e instanceof Fault && e.status === status;

async function withStore(fn: (store: FileStore, dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'nephos-test-upload-'));
  const dir = join(root, 'images');
  try { await fn(new FileStore({ dir }), dir); } finally { await rm(root, { recursive: true, force: true }); }
}

const digest = (algo: string, data: Buffer): string => createHash(algo).update(data).digest('hex');

test('checksum and os_hash_value equal node:crypto, md5sum and sha512sum of the stored file', async () => {
  await withStore(async (store, dir) => {
    const size = (5 << 20) + 12345; // several worker batches plus a partial one
    const data = Buffer.concat(await pattern(size, { chunk: 30000 }).toArray());
    const r = await receiveImageData(pattern(size, { chunk: 30000 }), { store, imageId: 'img' });
    assert.equal(r.size, size);
    assert.equal(r.location, `file://${dir}/img`);
    assert.equal(r.osHashAlgo, 'sha512');
    assert.equal(r.checksum, digest('md5', data));
    assert.equal(r.osHashValue, digest('sha512', data));
    const file = join(dir, 'img');
    assert.equal((await run('md5sum', [file])).stdout.split(' ')[0], r.checksum);
    assert.equal((await run('sha512sum', [file])).stdout.split(' ')[0], r.osHashValue);
    assert.ok((await readFile(file)).equals(data));
    assert.equal(r.inspection.size, size);
  });
});

test('an empty upload is stored with the hashes of nothing', async () => {
  await withStore(async (store) => {
    const r = await receiveImageData(Readable.from([]), { store, imageId: 'empty' });
    assert.equal(r.size, 0);
    assert.equal(r.checksum, 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(r.osHashValue, digest('sha512', Buffer.alloc(0)));
  });
});

test('a body erroring mid-stream or destroyed keeps nothing and fails with a 400 Fault', async () => {
  await withStore(async (store, dir) => {
    await assert.rejects(receiveImageData(pattern(8 << 20, { failAt: 3 << 20 }), { store, imageId: 'img' }), faultOf(400));
    assert.deepEqual(await leftovers(dir), []);
    const body = pattern(64 << 20);
    let seen = 0;
    body.on('data', (c: Buffer) => { seen += c.length; if (seen > (2 << 20)) body.destroy(); });
    await assert.rejects(receiveImageData(body, { store, imageId: 'img' }), faultOf(400));
    assert.deepEqual(await leftovers(dir), []);
  });
});

test('more data than the quota room is a 413, nothing kept, the body left undestroyed', async () => {
  await withStore(async (store, dir) => {
    const body = pattern(4 << 20);
    await assert.rejects(receiveImageData(body, { store, imageId: 'img', maxBytes: (1 << 20) + 1 }), faultOf(413));
    assert.deepEqual(await leftovers(dir), []);
    assert.equal(body.destroyed, false, 'the HTTP layer still answers on this request');
    const r = await receiveImageData(pattern(1 << 20), { store, imageId: 'img', maxBytes: 1 << 20 });
    assert.equal(r.size, 1 << 20, 'exactly the room fits');
  });
});

test('data of another size than the image size set beforehand is a 400, nothing kept', async () => {
  await withStore(async (store, dir) => {
    await assert.rejects(receiveImageData(pattern(1000), { store, imageId: 'img', expectedSize: 999 }), faultOf(400));
    await assert.rejects(receiveImageData(pattern(1000), { store, imageId: 'img', expectedSize: 1001 }), faultOf(400));
    assert.deepEqual(await leftovers(dir), []);
    const r = await receiveImageData(pattern(1000), { store, imageId: 'img', expectedSize: 1000 });
    assert.equal(r.size, 1000);
  });
});

test('accept sees size, hashes and inspection; its refusal keeps nothing', async () => {
  await withStore(async (store, dir) => {
    let seen: Omit<ReceivedData, 'location'> | null = null;
    await assert.rejects(receiveImageData(pattern(70000), {
      store, imageId: 'img',
      accept: (r) => { seen = r; throw new Fault(400, 'Image format does not match its disk_format.'); },
    }), faultOf(400));
    const data = Buffer.concat(await pattern(70000).toArray());
    assert.ok(seen !== null);
    const s = seen as Omit<ReceivedData, 'location'>;
    assert.equal(s.size, 70000);
    assert.equal(s.checksum, digest('md5', data));
    assert.equal(s.osHashValue, digest('sha512', data));
    assert.equal(typeof s.inspection.format, 'string');
    assert.deepEqual(await leftovers(dir), []);
  });
});

test('two concurrent uploads to one image id: one wins whole with its own hashes, the other 409', async () => {
  await withStore(async (store, dir) => {
    const size = 6 << 20;
    const results = await Promise.allSettled([1, 2].map((seed) =>
      receiveImageData(pattern(size, { chunk: 8192, seed }), { store, imageId: 'img' })));
    const won = results.findIndex((r) => r.status === 'fulfilled');
    const lost = results.find((r) => r.status === 'rejected');
    assert.ok(won >= 0 && lost !== undefined);
    assert.ok(lost.reason instanceof Fault && lost.reason.status === 409);
    const stored = await readFile(join(dir, 'img'));
    assert.ok(stored.equals(Buffer.concat(await pattern(size, { seed: won + 1 }).toArray())));
    assert.equal((results[won] as PromiseFulfilledResult<ReceivedData>).value.checksum, digest('md5', stored));
    assert.deepEqual(await leftovers(dir), ['img']);
  });
});

test('512 MiB upload keeps memory flat: live heap + buffers and RSS grow < 64 MiB', async () => {
  // A collection before each sample, so what is measured is what the pipeline holds, not garbage.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await withStore(async (store) => {
    const size = 512 << 20;
    await receiveImageData(pattern(1 << 20), { store, imageId: 'warm-up' }); // starts the hash worker
    gc();
    const live = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;
    const before = process.memoryUsage();
    let peakRss = 0;
    let peakLive = 0;
    let samples = 0;
    const sample = setInterval(() => {
      samples++;
      gc();
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss - before.rss);
      peakLive = Math.max(peakLive, live(m) - live(before));
    }, 50);
    try {
      const r = await receiveImageData(pattern(size, { chunk: 256 << 10 }), { store, imageId: 'big' });
      assert.equal(r.size, size);
    } finally { clearInterval(sample); }
    const MiB = 1 << 20;
    // Growth can be negative (the warm-up's batches freed); what must hold is that it was measured.
    assert.ok(samples > 5, `samples were taken (${samples})`);
    assert.ok(peakLive < 64 * MiB, `live memory grew ${(peakLive / MiB).toFixed(1)} MiB`);
    assert.ok(peakRss < 64 * MiB, `RSS grew ${(peakRss / MiB).toFixed(1)} MiB`);
  });
});

/** A real HTTP server receiving into the store; reports each upload's outcome. */
async function withServer(store: FileStore, fn: (port: number, outcome: () => Promise<unknown>) => Promise<void>): Promise<void> {
  let last: Promise<unknown> = Promise.resolve();
  const server = createServer((req: IncomingMessage, res) => {
    last = receiveImageData(req, { store, imageId: 'img', maxBytes: 16 << 20 }).then(
      (r) => { res.writeHead(204).end(); return r; },
      (e: unknown) => { res.writeHead(e instanceof Fault ? e.status : 500).end(); return e; });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try { await fn((server.address() as AddressInfo).port, () => last); } finally { server.closeAllConnections(); server.close(); }
}

test('over HTTP: a chunked upload is stored; a client disconnecting mid-upload leaves nothing', async () => {
  await withStore(async (store, dir) => {
    await withServer(store, async (port, outcome) => {
      const data = Buffer.concat(await pattern(3 << 20).toArray());
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ port, method: 'PUT', path: '/', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        pattern(3 << 20).pipe(req);
      });
      assert.equal(status, 204);
      assert.equal(((await outcome()) as ReceivedData).checksum, digest('md5', data));
      await store.delete(store.locationOf('img'));

      const req = request({ port, method: 'PUT', path: '/', headers: { 'Content-Length': String(8 << 20) } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(1 << 20));
      await new Promise((r) => setTimeout(r, 100));
      req.destroy();
      const err = await outcome();
      assert.ok(err instanceof Fault && err.status === 400, String(err));
      assert.deepEqual(await leftovers(dir), []);

      const over = await new Promise<number>((resolve, reject) => {
        const big = request({ port, method: 'PUT', path: '/', headers: { 'Content-Length': String(20 << 20) } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        big.on('error', reject);
        pattern(20 << 20).pipe(big);
      });
      assert.equal(over, 413);
      assert.deepEqual(await leftovers(dir), []);
    });
  });
});
