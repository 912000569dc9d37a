import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from './file-writer.js';
import { Slab } from './slab.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-test-writer-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

const write = (w: FileWriter, slot: Buffer, length: number): Promise<void> =>
  new Promise((resolve, reject) => w.write(slot, length, (err) => (err ? reject(err) : resolve())));

/** Writes `data` through a 3-slot slab of 64 KiB, up to 3 writes in flight, like the upload pipeline. */
async function writeAll(w: FileWriter, data: Buffer): Promise<void> {
  const slab = new Slab(65_536, 3, false);
  const inFlight: Promise<void>[] = [];
  for (let off = 0, i = 0; off < data.length; off += slab.slotSize, i = (i + 1) % slab.slots) {
    if (inFlight.length === slab.slots) await inFlight.shift();
    const n = Math.min(slab.slotSize, data.length - off);
    data.copy(slab.slot(i), 0, off, off + n);
    inFlight.push(write(w, slab.slot(i), n));
  }
  await Promise.all(inFlight);
}

test('direct and buffered writers store exactly the bytes; the padded last block is cut off', async () => {
  await withDir(async (dir) => {
    for (const direct of [true, false]) {
      for (const size of [0, 1, 4096, 65_536, 65_536 * 3 + 1, 1_000_003]) {
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i++) data[i] = (i * 13 + size) & 255;
        const path = join(dir, `f-${direct}-${size}`);
        const w = await FileWriter.create(path, direct);
        await writeAll(w, data);
        await w.finish(size);
        assert.equal((await stat(path)).mode & 0o777, 0o600);
        assert.ok((await readFile(path)).equals(data), `direct=${direct} size=${size} (writer direct: ${w.isDirect})`);
      }
    }
  });
});

test('the file must not exist; a write after the padded last block and a size mismatch are errors', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'f');
    const w = await FileWriter.create(path, true);
    await assert.rejects(FileWriter.create(path, true), { code: 'EEXIST' });
    const slab = new Slab(65_536, 2, false);
    await write(w, slab.slot(0), 100);
    if (w.isDirect) await assert.rejects(write(w, slab.slot(1), 100), /after the end/);
    await assert.rejects(w.finish(99), /expected/);
    await w.close();
    await w.close();
  });
});
