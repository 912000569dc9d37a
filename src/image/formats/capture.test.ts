import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Region, Tail } from './capture.js';

function feedAll(data: Buffer, chunk: number, sinks: { feed: (c: Buffer, start: number) => void }[]): void {
  for (let i = 0; i < data.length; i += chunk) for (const s of sinks) s.feed(data.subarray(i, i + chunk), i);
}

test('Region captures its range whatever the chunking', () => {
  const data = randomBytes(10_000);
  for (const chunk of [1, 3, 7, 512, 4096, 10_000]) {
    const r = new Region(1000, 3000);
    feedAll(data, chunk, [r]);
    assert.ok(r.complete);
    assert.ok(r.data.equals(data.subarray(1000, 4000)), `chunk ${chunk}`);
  }
});

test('Region past the end stays short; a region created too late never fills', () => {
  const data = randomBytes(100);
  const r = new Region(90, 50);
  feedAll(data, 7, [r]);
  assert.equal(r.complete, false);
  assert.ok(r.data.equals(data.subarray(90)));
  const late = new Region(10, 5);
  late.feed(data.subarray(50, 60), 50);
  assert.equal(late.data.length, 0);
});

test('Tail keeps the last bytes whatever the chunking', () => {
  const data = randomBytes(5000);
  for (const chunk of [1, 7, 511, 512, 513, 5000]) {
    const t = new Tail(512);
    for (let i = 0; i < data.length; i += chunk) t.push(data.subarray(i, i + chunk));
    assert.ok(t.bytes().equals(data.subarray(-512)), `chunk ${chunk}`);
  }
  const short = new Tail(512);
  short.push(data.subarray(0, 100));
  assert.ok(short.bytes().equals(data.subarray(0, 100)));
});
