import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInterfaceMappings, refusalReason } from './physical.js';
import type { Addr, Route } from '../host/ip.js';

const addr = (dev: string, cidr: string, scope = 'global'): Addr => {
  const [address, len] = cidr.split('/') as [string, string];
  return { dev, family: address.includes(':') ? 6 : 4, address, prefixLength: Number(len), cidr, scope };
};
const route = (dst: string, dev: string): Route => ({ dst, dev, gateway: null, prefsrc: null, protocol: null, scope: null, metric: null, type: null });

test('mappings parse "physnet:interface" and refuse malformed or doubled entries', () => {
  assert.deepEqual([...parseInterfaceMappings(['physnet1:ens4', ' ext:eth1 '])], [['physnet1', 'ens4'], ['ext', 'eth1']]);
  assert.equal(parseInterfaceMappings([]).size, 0);
  for (const bad of [['ens4'], ['a:b:c'], ['p:'], ['p:has space'], ['p:waytoolonginterface0'], ['p:../x']]) {
    assert.throws(() => parseInterfaceMappings(bad), /physical_interface_mappings/, JSON.stringify(bad));
  }
  assert.throws(() => parseInterfaceMappings(['p:a', 'p:b']), /mapped twice/);
  assert.throws(() => parseInterfaceMappings(['p:a', 'q:a']), /mapped twice/);
});

test('an interface holding addresses or routes of the machine is never moved', () => {
  assert.equal(refusalReason('ens4', [], []), null);
  assert.equal(refusalReason('ens4', [addr('ens4', 'fe80::1/64', 'link')], []), null, 'IPv6 link-local comes with any up link');
  assert.equal(refusalReason('ens4', [addr('eth0', '192.0.2.10/24')], [route('default', 'eth0')]), null, 'others\' addresses and routes do not matter');
  assert.match(refusalReason('eth0', [addr('eth0', '192.0.2.10/24')], [])!, /holds addresses .*192\.0\.2\.10\/24/);
  assert.match(refusalReason('eth0', [addr('eth0', '2001:db8::1/64')], [])!, /holds addresses/);
  assert.match(refusalReason('eth0', [], [route('default', 'eth0')])!, /carries routes .*default/);
});
