import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRemovals, NoValidHost } from './errors.js';

test('removals read as "N hosts: Filter removed n (reasons)", most frequent reason first, counted when several', () => {
  const text = describeRemovals(7, [
    { by: 'AvailabilityZoneFilter', count: 2, reasons: new Map([['not in zone az1', 2]]) },
    { by: 'ImagePropertiesFilter', count: 0, reasons: new Map() },
    { by: 'ComputeFilter', count: 5, reasons: new Map([['service disabled', 1], ['service down: no heartbeat for 90 s', 3], ['service forced down', 1]]) },
  ]);
  assert.equal(text, '7 hosts: AvailabilityZoneFilter removed 2 (not in zone az1), ComputeFilter removed 5 (service down: no heartbeat for 90 s ×3; service disabled; service forced down)');
  const many = describeRemovals(1, [{ by: 'F', count: 5, reasons: new Map(['a', 'b', 'c', 'd', 'e'].map((r) => [r, 1])) }]);
  assert.equal(many, '1 host: F removed 5 (a; b; c; 2 more reasons)');
});

test('NoValidHost is a 400 fault whose message starts as Nova\'s', () => {
  const e = new NoValidHost('why');
  assert.equal(e.status, 400);
  assert.equal(e.kind, 'NoValidHost');
  assert.equal(e.message, 'No valid host was found. why');
});
