import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fault } from '../platform/http/faults.js';
import { fixedIpsCheck, gatewayInfoCheck, routesCheck } from './router-def.js';

const NET = '6f1c4f4e-2f55-4c1e-9a51-0d4f4e2b9c11';
const refused = (fn: () => unknown, status = 400): void => {
  assert.throws(fn, (e: unknown) => e instanceof Fault && e.status === status);
};

test('external_gateway_info: null and {} mean none; network_id required; unknown keys ignored', () => {
  assert.equal(gatewayInfoCheck(null, 'g'), null);
  assert.equal(gatewayInfoCheck({}, 'g'), null);
  assert.deepEqual(gatewayInfoCheck({ network_id: NET, other: 1 }, 'g'), { network_id: NET });
  assert.deepEqual(gatewayInfoCheck({ network_id: NET, enable_snat: 'False' }, 'g'), { network_id: NET, enable_snat: false });
  assert.deepEqual(gatewayInfoCheck({ network_id: NET, external_fixed_ips: [{ ip_address: '2001:DB8::0:1' }] }, 'g'),
    { network_id: NET, external_fixed_ips: [{ ip_address: '2001:db8::1' }] });
  refused(() => gatewayInfoCheck({ enable_snat: true }, 'g'));
  refused(() => gatewayInfoCheck('x', 'g'));
  refused(() => gatewayInfoCheck([], 'g'));
  refused(() => gatewayInfoCheck({ network_id: 'nope' }, 'g'));
  refused(() => gatewayInfoCheck({ network_id: NET, enable_snat: 'perhaps' }, 'g'));
  refused(() => gatewayInfoCheck({ network_id: NET, external_fixed_ips: null }, 'g'));
});

test('fixed IPs: subnet and/or address, nothing else', () => {
  assert.deepEqual(fixedIpsCheck([{ subnet_id: NET }, {}], 'f'), [{ subnet_id: NET }, {}]);
  refused(() => fixedIpsCheck([{ ip_address: '10.0.0.256' }], 'f'));
  refused(() => fixedIpsCheck([{ subnet_id: NET, mac: 'x' }], 'f'));
  refused(() => fixedIpsCheck([7], 'f'));
  refused(() => fixedIpsCheck({ subnet_id: NET }, 'f'));
});

test('routes: canonical, strict CIDRs, same family, no duplicates; null clears', () => {
  assert.deepEqual(routesCheck(null, 'routes'), []);
  assert.deepEqual(routesCheck([{ nexthop: '2001:DB8::0:2', destination: '2001:DB8:5::/64' }], 'routes'), [{ destination: '2001:db8:5::/64', nexthop: '2001:db8::2' }]);
  refused(() => routesCheck([{ destination: '10.0.0.1/24', nexthop: '10.0.0.2' }], 'routes'));
  refused(() => routesCheck([{ destination: '10.0.0.0', nexthop: '10.0.0.2' }], 'routes'));
  refused(() => routesCheck([{ destination: '10.0.0.0/24', nexthop: '2001:db8::1' }], 'routes'));
  refused(() => routesCheck([{ destination: '10.0.0.0/24' }], 'routes'));
  refused(() => routesCheck([{ destination: '10.0.0.0/24', nexthop: '10.0.0.2', x: 1 }], 'routes'));
  refused(() => routesCheck([{ destination: '10.0.0.0/24', nexthop: '10.0.0.2' }, { destination: '10.0.0.0/24', nexthop: '10.0.0.2' }], 'routes'));
  refused(() => routesCheck('10.0.0.0/24', 'routes'));
});
