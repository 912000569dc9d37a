import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FormatInspector, HEAD_BYTES } from './inspector.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

test('256 MiB in 1 MiB chunks: fast, and memory does not grow with the stream', () => {
  const ins = new FormatInspector();
  gc();
  const before = process.memoryUsage();
  let pushMs = 0;
  for (let i = 0; i < 256; i++) {
    const chunk = Buffer.alloc(MiB); // a fresh buffer each time, as an upload delivers them
    const t0 = performance.now();
    ins.push(chunk);
    pushMs += performance.now() - t0;
  }
  const result = ins.finish();
  gc();
  const after = process.memoryUsage();
  assert.equal(result.format, 'raw');
  assert.equal(result.virtualSize, 256 * MiB);
  assert.ok(pushMs < 2000, `pushing 256 MiB took ${pushMs.toFixed(0)} ms`);
  const grown = (after.heapUsed + after.arrayBuffers) - (before.heapUsed + before.arrayBuffers);
  assert.ok(grown < 16 * MiB, `memory grew by ${(grown / MiB).toFixed(1)} MiB`);
  assert.ok(ins.retainedBytes <= HEAD_BYTES + 512, `inspector holds ${ins.retainedBytes} bytes`);
});

test('a VMDK or VHDX header cannot make the inspector hold much', () => {
  const vmdk = Buffer.alloc(2 * MiB);
  vmdk.write('KDMV', 0, 'latin1');
  vmdk.writeUInt32LE(1, 4);
  vmdk.writeBigUInt64LE(1n << 40n, 36); // absurd descriptor size: capped at 1 MiB
  vmdk.writeBigUInt64LE(1n, 28);
  const ins = new FormatInspector();
  ins.push(vmdk);
  assert.ok(ins.retainedBytes < HEAD_BYTES + 512 + MiB + 1, `vmdk: ${ins.retainedBytes}`);
  const vhdx = new FormatInspector();
  const head = Buffer.alloc(4 * MiB);
  head.write('vhdxfile', 0, 'latin1');
  vhdx.push(head);
  assert.ok(vhdx.retainedBytes <= HEAD_BYTES + 512 + 64 * 1024, `vhdx: ${vhdx.retainedBytes}`);
});
