import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIdentityTable, IDENTITY_OPERATIONS } from './identity.js';
import type { IdentityResults } from './identity.js';
import type { LoadResult } from './lib/load.js';

const r = (rps: number, errors = 0): LoadResult => ({ count: rps * 10, errors, rps, p50: 1000 / rps, p99: 2000 / rps, max: 3000 / rps, firstError: errors ? 'boom' : undefined });
const side = (rps: number[], errors = 0): IdentityResults =>
  Object.fromEntries(IDENTITY_OPERATIONS.map((op, i) => [op, r(rps[i], errors)])) as IdentityResults;

test('the table has one row per operation with both sides and the rps ratio', () => {
  const table = formatIdentityTable(side([100, 2000, 400]), side([10, 500, 100], 3));
  const lines = table.split('\n');
  assert.match(lines[0], /operation\s+nephos rps\s+p50 ms\s+p99 ms\s+keystone rps\s+p50 ms\s+p99 ms\s+ratio/);
  assert.match(table, /token issue \(password\)\s+100\.0\s+10\.0\s+20\.0\s+10\.0\s+100\.0\s+200\.0\s+10\.00x/);
  assert.match(table, /token validate\s+2000\.0.*4\.00x/);
  assert.match(table, /project list\s+400\.0.*4\.00x/);
  assert.match(table, /! keystone token validate: 3 errors \(first: boom\)/);
  assert.doesNotMatch(table, /! nephos/);
});
