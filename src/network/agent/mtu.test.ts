import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkMtu } from './mtu.js';

test('VXLAN takes 50 bytes of an IPv4 underlay, 70 of an IPv6 one; flat takes the underlay MTU', () => {
  assert.equal(networkMtu(1500, 'vxlan'), 1450);
  assert.equal(networkMtu(1400, 'vxlan'), 1350);
  assert.equal(networkMtu(9000, 'vxlan'), 8950);
  assert.equal(networkMtu(1500, 'vxlan', 6), 1430);
  assert.equal(networkMtu(1400, 'flat'), 1400);
  assert.throws(() => networkMtu(0, 'flat'));
});
