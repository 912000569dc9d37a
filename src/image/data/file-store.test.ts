import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { Fault } from '../../platform/http/faults.js';
import { FileStore } from './file-store.js';
import { leftovers, pattern } from './fixtures.js';

async function withStore(fn: (store: FileStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-test-store-'));
  try { await fn(new FileStore({ dir: join(dir, 'images') }), join(dir, 'images')); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('write stores the bytes under file://<dir>/<id>, private to the service', async () => {
  await withStore(async (store, dir) => {
    const r = await store.write('img-1', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    assert.equal(r.location, `file://${dir}/img-1`);
    assert.equal(r.size, 11);
    assert.equal(await readFile(join(dir, 'img-1'), 'utf8'), 'hello world');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'img-1'))).mode & 0o777, 0o600);
    assert.deepEqual(await store.stat(r.location), { size: 11 });
    assert.equal(await text(await store.read(r.location)), 'hello world');
    assert.equal(await text(await store.read(r.location, { start: 2, end: 6 })), 'llo w');
    assert.deepEqual(await leftovers(dir), ['img-1']);
    assert.deepEqual(await store.storedIds(), ['img-1']);
    assert.deepEqual(store.describe(), { id: 'file', description: 'Filesystem store', default: true });
  });
});

test('a stream failing mid-way leaves neither the image nor a partial file', async () => {
  await withStore(async (store, dir) => {
    await assert.rejects(store.write('img', pattern(10 << 20, { failAt: 3 << 20 })), /client went away/);
    assert.deepEqual(await leftovers(dir), []);
  });
});

test('beforeCommit sees the size and its refusal discards the data', async () => {
  await withStore(async (store, dir) => {
    let seen = -1;
    await assert.rejects(store.write('img', pattern(123456), {
      beforeCommit: (size) => { seen = size; throw new Fault(400, 'refused'); },
    }), (e: unknown) => e instanceof Fault && e.status === 400);
    assert.equal(seen, 123456);
    assert.deepEqual(await leftovers(dir), []);
  });
});

test('an aborted write keeps nothing', async () => {
  await withStore(async (store, dir) => {
    const ac = new AbortController();
    const slow = pattern(64 << 20);
    slow.once('data', () => ac.abort());
    await assert.rejects(store.write('img', slow, { signal: ac.signal }), { name: 'AbortError' });
    assert.deepEqual(await leftovers(dir), []);
  });
});

test('a second write to the same id is refused with 409 unless replace is asked', async () => {
  await withStore(async (store, dir) => {
    const first = await store.write('img', Readable.from([Buffer.from('first')]));
    await assert.rejects(store.write('img', Readable.from([Buffer.from('second')])),
      (e: unknown) => e instanceof Fault && e.status === 409);
    assert.equal(await readFile(join(dir, 'img'), 'utf8'), 'first');
    const again = await store.write('img', Readable.from([Buffer.from('third')]), { replace: true });
    assert.equal(again.location, first.location);
    assert.equal(await readFile(join(dir, 'img'), 'utf8'), 'third');
    assert.deepEqual(await leftovers(dir), ['img']);
  });
});

test('two concurrent writes to one id never mix: one wins whole, the other gets 409', async () => {
  await withStore(async (store, dir) => {
    const size = 8 << 20;
    const results = await Promise.allSettled([
      store.write('img', pattern(size, { chunk: 4096, seed: 1 })),
      store.write('img', pattern(size, { chunk: 4096, seed: 2 })),
    ]);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    const lost = results.find((r) => r.status === 'rejected');
    assert.ok(won >= 0 && lost !== undefined, 'exactly one write wins');
    assert.ok(lost.reason instanceof Fault && lost.reason.status === 409);
    const stored = await readFile(join(dir, 'img'));
    const expected = Buffer.concat(await pattern(size, { seed: won + 1 }).toArray());
    assert.ok(stored.equals(expected), 'stored bytes are exactly the winning upload');
    assert.deepEqual(await leftovers(dir), ['img']);
  });
});

test('sweepPartials removes what a crash left in .partial, and only that', async () => {
  await withStore(async (store, dir) => {
    await store.write('kept', Readable.from([Buffer.from('x')]));
    await writeFile(join(dir, '.partial', 'img.0123'), 'half an image');
    await writeFile(join(dir, '.partial', 'other.4567'), 'another half');
    assert.equal(await store.sweepPartials(60_000), 0, 'fresh partials may belong to a live upload');
    assert.equal(await store.sweepPartials(), 2);
    assert.deepEqual(await leftovers(dir), ['kept']);
  });
});

test('delete is idempotent and a deleted image reads as 404', async () => {
  await withStore(async (store, dir) => {
    const r = await store.write('img', Readable.from([Buffer.from('data')]));
    await store.delete(r.location);
    await store.delete(r.location);
    assert.equal(await store.stat(r.location), null);
    await assert.rejects(store.read(r.location), (e: unknown) => e instanceof Fault && e.status === 404);
    assert.deepEqual(await leftovers(dir), []);
  });
});

test('ids and locations cannot escape the store directory', async () => {
  await withStore(async (store, dir) => {
    for (const bad of ['../evil', '.partial', 'a/b', '', '.hidden']) {
      await assert.rejects(store.write(bad, Readable.from([Buffer.from('x')])),
        (e: unknown) => e instanceof Fault && e.status === 400, bad);
    }
    assert.equal(store.owns(`file://${dir}/img`), true);
    assert.equal(store.owns(`file://${dir}/../img`), false);
    assert.equal(store.owns(`file://${dir}/.partial/img`), false);
    assert.equal(store.owns(`swift://x/${dir}/img`), false);
    await assert.rejects(store.read('file:///etc/passwd'), (e: unknown) => e instanceof Fault && e.status === 404);
    await store.delete('file:///etc/hostname').catch(() => undefined);
    assert.ok((await stat('/etc/hostname')).isFile());
  });
});
