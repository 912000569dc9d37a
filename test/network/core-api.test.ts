// The core Neutron resources over the API: networks, subnets, ports and IPAM, as Neutron behaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

let h: IdentityHarness;
let admin: string;
let demo: string;

async function call(method: string, url: string, token: string, body?: unknown) {
  const res = await h.cloud.network.app.inject({
    method: method as never, url, headers: { 'x-auth-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
  let json: any;
  try { json = res.body ? JSON.parse(res.body) : undefined; } catch { json = res.body; }
  return { status: res.statusCode, body: json };
}
const ok = async (method: string, url: string, token: string, body?: unknown, status = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200) => {
  const r = await call(method, url, token, body);
  assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
  return r.body;
};
const fault = async (method: string, url: string, token: string, body: unknown, status: number, type?: string) => {
  const r = await call(method, url, token, body);
  assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body.NeutronError?.message, 'string');
  if (type) assert.equal(r.body.NeutronError.type, type);
  return r.body.NeutronError.message as string;
};

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
});
after(async () => { await h.close(); });

test('version document and extensions', async () => {
  const root = await h.cloud.network.app.inject({ method: 'GET', url: '/' });
  assert.equal(root.statusCode, 200);
  assert.equal(root.json().versions[0].id, 'v2.0');
  const ext = await ok('GET', '/v2.0/extensions', demo);
  assert.ok(ext.extensions.some((e: any) => e.alias === 'security-group'));
  await fault('GET', '/v2.0/extensions/no-such', demo, undefined, 404);
  const unauth = await h.cloud.network.app.inject({ method: 'GET', url: '/v2.0/networks' });
  assert.equal(unauth.statusCode, 401);
});

test('networks: VXLAN by default with the underlay MTU minus 50; provider attributes for admins only', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'd1' } })).network;
  assert.equal(net.mtu, 1450);
  assert.equal(net.status, 'ACTIVE');
  assert.deepEqual(net.subnets, []);
  assert.equal(net.shared, false);
  assert.equal(net.revision_number, 1);
  assert.equal('provider:network_type' in net, false, 'provider attributes hidden from a member');
  const seen = (await ok('GET', `/v2.0/networks/${net.id}`, admin)).network;
  assert.equal(seen['provider:network_type'], 'vxlan');
  assert.ok(seen['provider:segmentation_id'] >= 1);
  const renamed = (await ok('PUT', `/v2.0/networks/${net.id}`, demo, { network: { name: 'd1b' } })).network;
  assert.equal(renamed.revision_number, 2);
  await fault('PUT', `/v2.0/networks/${net.id}`, demo, { network: { status: 'DOWN' } }, 400);
  await fault('PUT', `/v2.0/networks/${net.id}`, demo, { network: { mtu: 9000 } }, 400);
  await fault('POST', '/v2.0/networks', demo, { network: { shared: true } }, 403);
  await fault('POST', '/v2.0/networks', demo, { network: { bogus: 1 } }, 400);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
  await fault('GET', `/v2.0/networks/${net.id}`, demo, undefined, 404, 'NetworkNotFound');
});

test('networks: vlan refused with the reason, flat needs a known physical network once, VNIs unique', async () => {
  const vlan = await fault('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'public', 'provider:segmentation_id': 10 } }, 400);
  assert.match(vlan, /802\.1Q|vlan/i);
  await fault('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'flat' } }, 400);
  await fault('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'nowhere' } }, 400);
  const flat = (await ok('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'public' } })).network;
  assert.equal(flat.mtu, 1500);
  await fault('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'public' } }, 409, 'FlatNetworkInUse');
  const a = (await ok('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4242 } })).network;
  await fault('POST', '/v2.0/networks', admin, { network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4242 } }, 409);
  const many = await ok('POST', '/v2.0/networks', admin, { networks: [{ name: 'b1' }, { name: 'b2' }, { name: 'b3' }] });
  const vnis = new Set(many.networks.map((n: any) => n['provider:segmentation_id']));
  assert.equal(vnis.size, 3);
  for (const n of [flat, a, ...many.networks]) await ok('DELETE', `/v2.0/networks/${n.id}`, admin);
});

test('visibility: shared and external networks are seen by everyone, private ones by their project', async () => {
  const priv = (await ok('POST', '/v2.0/networks', admin, { network: { name: 'admin-private' } })).network;
  const shared = (await ok('POST', '/v2.0/networks', admin, { network: { name: 'admin-shared', shared: true } })).network;
  const ext = (await ok('POST', '/v2.0/networks', admin, { network: { name: 'admin-ext', 'router:external': true } })).network;
  const ids = (await ok('GET', '/v2.0/networks', demo)).networks.map((n: any) => n.id);
  assert.ok(ids.includes(shared.id) && ids.includes(ext.id) && !ids.includes(priv.id));
  await fault('GET', `/v2.0/networks/${priv.id}`, demo, undefined, 404);
  const sub = (await ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: shared.id, cidr: '10.50.0.0/24', ip_version: 4 } })).subnet;
  assert.ok((await ok('GET', '/v2.0/subnets', demo)).subnets.some((s: any) => s.id === sub.id));
  // A member may plug a port into a shared network, but not choose its address.
  await fault('POST', '/v2.0/ports', demo, { port: { network_id: shared.id, fixed_ips: [{ ip_address: '10.50.0.9' }] } }, 403);
  const p = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: shared.id } })).port;
  await fault('PUT', `/v2.0/networks/${shared.id}`, admin, { network: { shared: false } }, 409, 'InvalidSharedSetting');
  await ok('DELETE', `/v2.0/ports/${p.id}`, demo);
  for (const n of [priv, shared, ext]) await ok('DELETE', `/v2.0/networks/${n.id}`, admin);
});

test('subnets: strict CIDRs, default pools and gateway, overlap, pool and gateway checks', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'sn' } })).network;
  const msg = await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.1.0.5/24', ip_version: 4 } }, 400);
  assert.match(msg, /10\.1\.0\.0\/24/);
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: 'nonsense', ip_version: 4 } }, 400);
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.1.0.0/24', ip_version: 6 } }, 400);
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.1.0.0/24' } }, 400);
  const s = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.1.0.0/24', ip_version: 4, dns_nameservers: ['8.8.8.8'] } })).subnet;
  assert.equal(s.gateway_ip, '10.1.0.1');
  assert.deepEqual(s.allocation_pools, [{ start: '10.1.0.2', end: '10.1.0.254' }]);
  assert.equal(s.enable_dhcp, true);
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.1.0.128/25', ip_version: 4 } }, 400);
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.2.0.0/24', ip_version: 4, allocation_pools: [{ start: '10.2.1.1', end: '10.2.1.9' }] } }, 400, 'OutOfBoundsAllocationPool');
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.2.0.0/24', ip_version: 4, allocation_pools: [{ start: '10.2.0.2', end: '10.2.0.20' }, { start: '10.2.0.10', end: '10.2.0.30' }] } }, 400, 'OverlappingAllocationPools');
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.2.0.0/24', ip_version: 4, gateway_ip: '10.2.0.5', allocation_pools: [{ start: '10.2.0.2', end: '10.2.0.20' }] } }, 409, 'GatewayConflictWithAllocationPools');
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.2.0.0/24', ip_version: 4, dns_nameservers: ['1.1.1.1', '1.1.1.1'] } }, 400);
  await fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '2001:db8::/56', ip_version: 6, ipv6_address_mode: 'slaac' } }, 400);
  const v6 = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '2001:db8::/64', ip_version: 6, ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' } })).subnet;
  assert.equal(v6.gateway_ip, '2001:db8::1');
  const nogw = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.3.0.0/28', ip_version: 4, gateway_ip: null } })).subnet;
  assert.equal(nogw.gateway_ip, null);
  assert.deepEqual(nogw.allocation_pools, [{ start: '10.3.0.1', end: '10.3.0.14' }]);
  const netNow = (await ok('GET', `/v2.0/networks/${net.id}`, demo)).network;
  assert.deepEqual([...netNow.subnets].sort(), [s.id, v6.id, nogw.id].sort());
  const upd = (await ok('PUT', `/v2.0/subnets/${s.id}`, demo, { subnet: { dns_nameservers: [], name: 'renamed' } })).subnet;
  assert.equal(upd.name, 'renamed');
  await fault('PUT', `/v2.0/subnets/${s.id}`, demo, { subnet: { cidr: '10.9.0.0/24' } }, 400);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
  await fault('GET', `/v2.0/subnets/${s.id}`, demo, undefined, 404, 'SubnetNotFound');
});

test('ports and IPAM: lowest free address, requested address, exhaustion, release, MAC uniqueness, no duplicates under concurrency', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'ipam' } })).network;
  const sub = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.7.0.0/27', ip_version: 4 } })).subnet;
  // The DHCP port took the first address.
  const dhcp = (await ok('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`, demo)).ports;
  assert.equal(dhcp.length, 1);
  assert.equal(dhcp[0].fixed_ips[0].ip_address, '10.7.0.2');
  const p1 = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id, name: 'p1' } })).port;
  assert.equal(p1.fixed_ips[0].ip_address, '10.7.0.3');
  assert.match(p1.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.equal(p1.status, 'DOWN');
  assert.equal(p1.security_groups.length, 1, 'the default group');
  await fault('POST', '/v2.0/ports', demo, { port: { network_id: net.id, fixed_ips: [{ ip_address: '10.7.0.3' }] } }, 409, 'IpAddressAlreadyAllocated');
  await fault('POST', '/v2.0/ports', demo, { port: { network_id: net.id, fixed_ips: [{ ip_address: '10.99.0.3' }] } }, 400);
  await fault('POST', '/v2.0/ports', demo, { port: { network_id: net.id, mac_address: p1.mac_address } }, 409, 'MacAddressInUse');
  const chosen = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id, fixed_ips: [{ subnet_id: sub.id, ip_address: '10.7.0.20' }] } })).port;
  assert.equal(chosen.fixed_ips[0].ip_address, '10.7.0.20');
  // 30 addresses in a /27 minus gateway: fill the rest concurrently; every address distinct.
  const results = await Promise.all(Array.from({ length: 30 }, () => call('POST', '/v2.0/ports', demo, { port: { network_id: net.id } })));
  const made = results.filter((r) => r.status === 201).map((r) => r.body.port);
  const refused = results.filter((r) => r.status !== 201);
  assert.equal(made.length, 26, `29 usable - dhcp - p1 - chosen = 26; got ${made.length}`);
  assert.ok(refused.every((r) => r.status === 409 && r.body.NeutronError.type === 'IpAddressGenerationFailure'));
  const ips = [p1, chosen, dhcp[0], ...made].map((p: any) => p.fixed_ips[0].ip_address);
  assert.equal(new Set(ips).size, ips.length, 'no address twice');
  await ok('DELETE', `/v2.0/ports/${chosen.id}`, demo);
  const again = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id } })).port;
  assert.equal(again.fixed_ips[0].ip_address, '10.7.0.20', 'a released address is reused');
  // Filters, fields, sort and paging.
  const byIp = (await ok('GET', `/v2.0/ports?fixed_ips=ip_address%3D10.7.0.3`, demo)).ports;
  assert.deepEqual(byIp.map((p: any) => p.id), [p1.id]);
  const fields = (await ok('GET', `/v2.0/ports?network_id=${net.id}&fields=id&fields=name`, demo)).ports;
  assert.deepEqual(Object.keys(fields[0]).sort(), ['id', 'name']);
  const page1 = await ok('GET', `/v2.0/ports?network_id=${net.id}&limit=5&sort_key=name&sort_dir=asc`, demo);
  assert.equal(page1.ports.length, 5);
  const next = page1.ports_links.find((l: any) => l.rel === 'next');
  assert.ok(next);
  const page2 = await ok('GET', `/v2.0/ports${new URL(next.href).search}`, demo);
  assert.equal(page2.ports.length, 5);
  assert.equal(new Set([...page1.ports, ...page2.ports].map((p: any) => p.id)).size, 10);
  await fault('GET', `/v2.0/ports?sort_key=bogus`, demo, undefined, 400);
  // The network cannot go while ports are on it.
  await fault('DELETE', `/v2.0/networks/${net.id}`, demo, undefined, 409, 'NetworkInUse');
  await fault('DELETE', `/v2.0/subnets/${sub.id}`, demo, undefined, 409, 'SubnetInUse');
  for (const p of [p1, again, ...made]) await ok('DELETE', `/v2.0/ports/${p.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
  const left = await h.cloud.network.ctx.db.selectFrom('net_ip_allocation').select('ip_address').where('network_id', '=', net.id).execute();
  assert.equal(left.length, 0, 'every address released');
});

test('ports: address pairs need port security; security groups must exist; updates of fixed_ips', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'pairs' } })).network;
  const sub = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '10.8.0.0/24', ip_version: 4 } })).subnet;
  const p = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id, allowed_address_pairs: [{ ip_address: '10.8.0.200/32' }] } })).port;
  assert.equal(p.allowed_address_pairs[0].ip_address, '10.8.0.200/32');
  await fault('POST', '/v2.0/ports', demo, { port: { network_id: net.id, port_security_enabled: false, allowed_address_pairs: [{ ip_address: '10.8.0.7' }] } }, 409);
  await fault('POST', '/v2.0/ports', demo, { port: { network_id: net.id, security_groups: ['6f5e8a0e-0000-4000-8000-000000000000'] } }, 404);
  const open = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id, port_security_enabled: false } })).port;
  assert.deepEqual(open.security_groups, []);
  await fault('PUT', `/v2.0/ports/${p.id}`, demo, { port: { port_security_enabled: false } }, 409);
  const moved = (await ok('PUT', `/v2.0/ports/${p.id}`, demo, { port: { fixed_ips: [{ subnet_id: sub.id, ip_address: '10.8.0.50' }] } })).port;
  assert.deepEqual(moved.fixed_ips, [{ subnet_id: sub.id, ip_address: '10.8.0.50' }]);
  const hostile = await call('PUT', `/v2.0/ports/${p.id}`, demo, { port: { fixed_ips: 'x' } });
  assert.equal(hostile.status, 400);
  for (const x of [p, open]) await ok('DELETE', `/v2.0/ports/${x.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
});

test('tags on networks', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'tagged' } })).network;
  await ok('PUT', `/v2.0/networks/${net.id}/tags/red`, demo, undefined, 201);
  await ok('PUT', `/v2.0/networks/${net.id}/tags`, demo, { tags: ['a', 'b'] });
  assert.deepEqual((await ok('GET', `/v2.0/networks/${net.id}/tags`, demo)).tags, ['a', 'b']);
  assert.deepEqual((await ok('GET', '/v2.0/networks?tags=a,b', demo)).networks.map((n: any) => n.id), [net.id]);
  assert.equal((await ok('GET', '/v2.0/networks?not-tags=a', demo)).networks.some((n: any) => n.id === net.id), false);
  await fault('GET', `/v2.0/networks/${net.id}/tags/red`, demo, undefined, 404);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
});
