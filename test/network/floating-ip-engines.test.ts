// Floating IPs under real concurrency on PostgreSQL and MariaDB (SQLite serialises transactions):
// racing allocations never share an address, and racing associations of one fixed IP leave
// exactly one floating IP on it (the others get Neutron's 409).
import assert from 'node:assert/strict';
import type { IdentityHarness } from '../lib/identity-harness.js';
import { testOnSharedEngines } from '../lib/databases.js';

async function races(h: IdentityHarness): Promise<void> {
  const token = await h.adminToken();
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${h.networkUrl}${url}`, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() as any };
  };
  const created = async (url: string, body: unknown) => {
    const r = await call('POST', url, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const ext = (await created('/v2.0/networks', { network: { name: 'ext', 'router:external': true } })).network;
  await created('/v2.0/subnets', { subnet: { network_id: ext.id, cidr: '203.0.113.0/28', ip_version: 4, enable_dhcp: false } });
  const net = (await created('/v2.0/networks', { network: { name: 'inside' } })).network;
  const sub = (await created('/v2.0/subnets', { subnet: { network_id: net.id, cidr: '10.9.0.0/24', ip_version: 4, enable_dhcp: false } })).subnet;
  const router = (await created('/v2.0/routers', { router: { external_gateway_info: { network_id: ext.id } } })).router;
  const add = await call('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
  assert.equal(add.status, 200, JSON.stringify(add.body));
  const port = (await created('/v2.0/ports', { port: { network_id: net.id } })).port;

  // 13 usable addresses, one taken by the gateway: 12 floating IPs fit, the rest are refused.
  const fips = await Promise.all(Array.from({ length: 14 }, () => call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ext.id } })));
  const made = fips.filter((f) => f.status === 201).map((f) => f.body.floatingip);
  assert.ok(fips.every((f) => f.status === 201 || f.status === 400 || f.status === 409), JSON.stringify(fips.map((f) => f.body)));
  assert.equal(made.length, 12);
  const addresses = made.map((f) => f.floating_ip_address);
  assert.equal(new Set(addresses).size, addresses.length, `addresses ${addresses}`);

  const assoc = await Promise.all(made.slice(0, 6).map((f) => call('PUT', `/v2.0/floatingips/${f.id}`, { floatingip: { port_id: port.id } })));
  const won = assoc.filter((a) => a.status === 200);
  assert.equal(won.length, 1, JSON.stringify(assoc.map((a) => [a.status, a.body?.NeutronError?.type])));
  assert.ok(assoc.filter((a) => a.status !== 200).every((a) => a.status === 409 && a.body.NeutronError.type === 'FloatingIPPortAlreadyAssociated'));
  const onPort = (await call('GET', `/v2.0/floatingips?port_id=${port.id}`)).body.floatingips;
  assert.equal(onPort.length, 1);
}

testOnSharedEngines((engine) => `floating IP allocation and association under concurrency on ${engine}`, races);
