import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { Slab } from './slab.js';
import { pumpThroughSlab, type SlotSink } from './slab-pump.js';

const bytes = (n: number, seed = 0): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
};

/** A sink that copies what it gets and completes after `delayMs`, recording the most slots it ever held at once. */
function collector(delayMs = 0): { sink: SlotSink; data(): Buffer; maxHeld: number } {
  const parts: Buffer[] = [];
  const state = { held: 0, maxHeld: 0 };
  const sink: SlotSink = (slot, _offset, length, done) => {
    parts.push(Buffer.from(slot.subarray(0, length)));
    state.held++;
    state.maxHeld = Math.max(state.maxHeld, state.held);
    setTimeout(() => { state.held--; done(null); }, delayMs);
  };
  return { sink, data: () => Buffer.concat(parts), get maxHeld() { return state.maxHeld; } };
}

test('every byte reaches every sink in order, whatever the chunk sizes (larger than the slab too)', async () => {
  const data = bytes(1_000_003);
  for (const chunk of [1, 999, 4096, 65_536, 300_000, 1_000_003]) {
    const slab = new Slab(65_536, 3, false);
    const a = collector();
    const b = collector(1);
    const parts: Buffer[] = [];
    for (let o = 0; o < data.length; o += chunk) parts.push(data.subarray(o, o + chunk));
    const size = await pumpThroughSlab(Readable.from(parts), { slab, sinks: [a.sink, b.sink] });
    assert.equal(size, data.length, `chunk ${chunk}`);
    assert.ok(a.data().equals(data), `sink a, chunk ${chunk}`);
    assert.ok(b.data().equals(data), `sink b, chunk ${chunk}`);
    assert.ok(b.maxHeld <= 3, 'never more slots in use than the slab has');
  }
});

test('an empty stream calls no sink and counts 0', async () => {
  const a = collector();
  assert.equal(await pumpThroughSlab(Readable.from([]), { slab: new Slab(65_536, 2, false), sinks: [a.sink] }), 0);
  assert.equal(a.data().length, 0);
});

test('onChunk sees each chunk first and its throw fails the pump; the stream is left paused, not destroyed', async () => {
  const body = new PassThrough();
  const seen: number[] = [];
  const p = pumpThroughSlab(body, {
    slab: new Slab(65_536, 2, false),
    sinks: [collector().sink],
    onChunk: (c) => { seen.push(c.length); if (seen.length === 3) throw new Error('over quota'); },
  });
  for (let i = 0; i < 5; i++) body.write(bytes(1000));
  await assert.rejects(p, /over quota/);
  assert.deepEqual(seen, [1000, 1000, 1000]);
  assert.equal(body.destroyed, false);
  assert.equal(body.isPaused(), true);
});

test('a failing sink fails the pump only after the other sinks released their slots', async () => {
  const slow = collector(30);
  let released = false;
  const failing: SlotSink = (_slot, _offset, _length, done) => setTimeout(() => done(new Error('disk full')), 1);
  const p = pumpThroughSlab(Readable.from([bytes(200_000)]), {
    slab: new Slab(65_536, 2, false),
    sinks: [failing, (slot, offset, length, done) => slow.sink(slot, offset, length, (err) => { released = true; done(err); })],
  });
  await assert.rejects(p, /disk full/);
  assert.ok(released, 'the slow sink was done before the pump settled');
});

test('a stream error or premature close is mapped by `interrupted`; the signal aborts', async () => {
  const body = new PassThrough();
  const p = pumpThroughSlab(body, { slab: new Slab(65_536, 2, false), sinks: [collector().sink], interrupted: (e) => new Error(`interrupted: ${e.message}`) });
  body.write(bytes(10));
  body.destroy(new Error('reset'));
  await assert.rejects(p, /interrupted: reset/);

  const ac = new AbortController();
  const slowBody = new PassThrough();
  const q = pumpThroughSlab(slowBody, { slab: new Slab(65_536, 2, false), sinks: [collector().sink], signal: ac.signal });
  slowBody.write(bytes(10));
  ac.abort();
  await assert.rejects(q, { name: 'AbortError' });
});
