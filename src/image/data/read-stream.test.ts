import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FileReadStream } from './read-stream.js';

/** Odd-sized data over several 2 MiB send slots, byte i = (i * 7 + i >> 13) & 255 (no period that hides a misplaced slot). */
const SIZE = (9 << 20) + 12_345;
const DATA = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) DATA[i] = (i * 7 + (i >> 13)) & 255;

async function withFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-test-read-'));
  try {
    const path = join(dir, 'img');
    await writeFile(path, DATA);
    await fn(path);
  } finally { await rm(dir, { recursive: true, force: true }); }
}

/** The file opened as FileStore.read opens it: O_DIRECT when asked and allowed. */
function openFor(path: string, direct: boolean): { fd: number; direct: boolean } {
  if (direct) {
    try { return { fd: openSync(path, constants.O_RDONLY | constants.O_DIRECT), direct: true }; } catch { /* no O_DIRECT here */ }
  }
  return { fd: openSync(path, 'r'), direct: false };
}

/** A response stand-in: collects what is written, each write completing after `delayMs` (a slow client). */
function sink(delayMs = 0): Writable & { received(): Buffer; ended: boolean } {
  const parts: Buffer[] = [];
  const w = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk)); // a copy: the sender reuses its buffers once the write completed
      if (delayMs > 0) setTimeout(cb, delayMs); else setImmediate(cb);
    },
    final(cb) { out.ended = true; cb(); },
  });
  const out = Object.assign(w, { received: () => Buffer.concat(parts), ended: false });
  return out;
}

const ranges: [number, number][] = [[0, SIZE], [1, SIZE - 1], [4095, 4097], [(2 << 20) - 3, (6 << 20) + 5], [SIZE - 10, SIZE], [5000, 5001]];

test('sendTo writes exactly the range, in order, direct and buffered, whatever the alignment', async () => {
  await withFile(async (path) => {
    for (const direct of [true, false]) {
      for (const [start, end] of ranges) {
        const f = openFor(path, direct);
        const out = sink();
        await new FileReadStream(f.fd, f.direct, start, end).sendTo(out);
        assert.ok(out.ended, `ended (${direct} ${start}-${end})`);
        assert.ok(out.received().equals(DATA.subarray(start, end)), `bytes ${start}-${end} direct=${direct}`);
      }
    }
  });
});

test('sendTo keeps order and data intact with a slow client (reads ahead, buffers reused only after their write)', async () => {
  await withFile(async (path) => {
    const f = openFor(path, true);
    const out = sink(3);
    await new FileReadStream(f.fd, f.direct, 0, SIZE).sendTo(out);
    assert.ok(out.received().equals(DATA));
  });
});

test('as a plain Readable the stream yields the same bytes', async () => {
  await withFile(async (path) => {
    for (const direct of [true, false]) {
      for (const [start, end] of ranges) {
        const f = openFor(path, direct);
        const got = await buffer(new FileReadStream(f.fd, f.direct, start, end));
        assert.ok(got.equals(DATA.subarray(start, end)), `bytes ${start}-${end} direct=${direct}`);
      }
    }
  });
});

test('a client gone mid-way ends sendTo quietly; a file shorter than its recorded size fails it', async () => {
  await withFile(async (path) => {
    const f = openFor(path, true);
    let n = 0;
    const out = new Writable({
      write(_chunk, _enc, cb) { if (++n === 2) { out.destroy(); return; } setImmediate(cb); },
    });
    const stream = new FileReadStream(f.fd, f.direct, 0, SIZE);
    await stream.sendTo(out);
    assert.ok(stream.destroyed, 'the stream (and its fd) is closed');

    const g = openFor(path, true);
    const short = sink();
    await assert.rejects(new FileReadStream(g.fd, g.direct, 0, SIZE + 100_000).sendTo(short), /shorter/);
    assert.ok(short.destroyed, 'the response is cut, so the client sees a short body');
    assert.ok(short.received().equals(DATA), 'what the file has was sent first');

    const h = openFor(path, false);
    await assert.rejects(buffer(new FileReadStream(h.fd, h.direct, SIZE - 5, SIZE + 5)), /shorter/);
  });
});
