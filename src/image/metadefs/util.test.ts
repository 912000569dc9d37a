import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiTime, isoTime } from './util.js';

test('isoTime(): each "now" sorts after the previous one, also within one millisecond', () => {
  const times = Array.from({ length: 2000 }, () => isoTime());
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `${times[i - 1]} then ${times[i]}`);
  assert.match(times[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(isoTime(new Date('2026-01-02T03:04:05.678Z'), 9), '2026-01-02T03:04:05.678009Z', 'a given date is kept as is');
  assert.equal(apiTime('2026-01-02T03:04:05.678009Z'), '2026-01-02T03:04:05Z');
});
