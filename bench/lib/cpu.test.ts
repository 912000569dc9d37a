import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCpu, parseProcStatCpu, parseSystemCpu, treeCpuSeconds } from './cpu.js';

test('parseProcStatCpu adds utime and stime, even with spaces and parentheses in the name', () => {
  const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 123 456 789';
  assert.equal(parseProcStatCpu(stat), 3.25);
  assert.equal(parseProcStatCpu(stat, true), 3.25);
  const withKids = '7 (sh) S 1 7 7 0 -1 0 0 0 0 0 100 50 30 20 20 0 1 0 1 2 3';
  assert.equal(parseProcStatCpu(withKids, true), 2);
});

test('parseSystemCpu: busy excludes idle and iowait, total includes them', () => {
  const s = 'cpu  100 20 30 400 50 5 5 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n';
  assert.deepEqual(parseSystemCpu(s), { busy: 1.7, total: 6.2 });
  assert.throws(() => parseSystemCpu('intr 1 2'), /no cpu line/);
});

test('measureCpu attributes this process\'s own work to the server when it is the server', () => {
  const m = measureCpu([process.pid]);
  const end = Date.now() + 300;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  const split = m.stop();
  assert.ok(x > 0);
  assert.ok(split.server >= 0.1, JSON.stringify(split));
  assert.ok(split.client >= 0.1, JSON.stringify(split));
  assert.ok(split.available >= 0.3, JSON.stringify(split));
  assert.ok(treeCpuSeconds([process.pid]) > 0);
});
