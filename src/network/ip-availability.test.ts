import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subnetTotal, toJson } from './ip-availability.js';

test('a subnet offers the sum of its pools, or its whole CIDR without pools (as Neutron counts)', () => {
  assert.equal(subnetTotal({ id: 's', cidr: '10.0.0.0/24', allocation_pools: [{ start: '10.0.0.2', end: '10.0.0.254' }] }), 253n);
  assert.equal(subnetTotal({ id: 's', cidr: '10.0.0.0/24', allocation_pools: [{ start: '10.0.0.10', end: '10.0.0.19' }, { start: '10.0.0.30', end: '10.0.0.30' }] }), 11n);
  assert.equal(subnetTotal({ id: 's', cidr: '10.0.0.0/28', allocation_pools: [] }), 16n);
  assert.equal(subnetTotal({ id: 's', cidr: 'fd00::/64', allocation_pools: [{ start: 'fd00::2', end: 'fd00::ffff:ffff:ffff:ffff' }] }), 2n ** 64n - 2n);
});

test('JSON with bigints keeps every digit; everything else as JSON.stringify writes it', () => {
  const big = 2n ** 64n - 2n;
  assert.equal(toJson({ a: big, b: [1, 'x"y', null, true], c: { d: 0n }, e: undefined }), '{"a":18446744073709551614,"b":[1,"x\\"y",null,true],"c":{"d":0}}');
  const plain = { n: 'net', list: [{ k: 1.5 }], nested: { s: '\u0000' } };
  assert.equal(toJson(plain), JSON.stringify(plain));
});
