import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_LINK_NAME, bridgeName, dhcpInterfaceName, dhcpNamespace, gatewayInterfaceName, hostNamespace,
  isNamespaceOfHost, publicHostLinkName, routerInterfaceName, routerNamespace, tapName, vxlanName,
} from './names.js';

const NET = 'd2b3a1c4-5f6e-4a7b-8c9d-0e1f2a3b4c5d';
const PORT = '7e8f9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1';

test('link names follow the Neutron-like scheme and fit in 15 characters', () => {
  const names = {
    bridge: bridgeName(NET), vxlan: vxlanName(0xffffff), tap: tapName(PORT), ns: dhcpInterfaceName(PORT),
    qr: routerInterfaceName(PORT), qg: gatewayInterfaceName(PORT), pub: publicHostLinkName(NET),
  };
  assert.deepEqual(names, {
    bridge: 'brqd2b3a1c4-5f', vxlan: 'vxlan-16777215', tap: 'tap7e8f9a0b-1c', ns: 'ns-7e8f9a0b-1c',
    qr: 'qr-7e8f9a0b-1c', qg: 'qg-7e8f9a0b-1c', pub: 'pubd2b3a1c4-5f',
  });
  for (const n of Object.values(names)) assert.ok(n.length <= MAX_LINK_NAME, `${n} is too long`);
});

test('namespace names carry the host and the full id', () => {
  assert.equal(hostNamespace('node-1'), 'nephos-node-1');
  assert.equal(dhcpNamespace('node-1', NET), `nephos-node-1-dhcp-${NET}`);
  assert.equal(routerNamespace('node-1', NET), `nephos-node-1-router-${NET}`);
});

test('a namespace belongs to a host by structure, not by a loose prefix', () => {
  assert.ok(isNamespaceOfHost('a', 'nephos-a'));
  assert.ok(isNamespaceOfHost('a', `nephos-a-dhcp-${NET}`));
  assert.ok(isNamespaceOfHost('a', `nephos-a-router-${NET}`));
  assert.ok(!isNamespaceOfHost('a', 'nephos-ab'));
  assert.ok(!isNamespaceOfHost('a', 'nephos-ab-dhcp-x'));
  assert.ok(!isNamespaceOfHost('a', 'nephos-public'));
});

test('unsafe hosts, ids and VNIs are refused', () => {
  assert.throws(() => hostNamespace('../etc'));
  assert.throws(() => hostNamespace(''));
  assert.throws(() => hostNamespace('a b'));
  assert.throws(() => tapName('x/y'));
  assert.throws(() => bridgeName(''));
  assert.throws(() => vxlanName(0));
  assert.throws(() => vxlanName(0x1000000));
  assert.throws(() => vxlanName(1.5));
});
