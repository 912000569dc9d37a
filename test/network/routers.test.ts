// Routers and floating IPs over real HTTP, as Neutron's l3 API behaves: gateways and their ports,
// interfaces by subnet and by port, static routes, floating IP association rules, the
// cross-resource guards (ports, subnets, networks in use), data-plane change signals, and
// hostile bodies that must never produce a 5xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

let h: IdentityHarness;
let admin: string;
let demo: string;
let ext: any;
let extSub: any;
const signals: { kind: string; id: string }[] = [];

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${h.networkUrl}${path}`, {
    method, headers: { 'x-auth-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
  return { status: res.status, body: json };
}
const ok = async (method: string, path: string, token: string, body?: unknown, status = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200) => {
  const r = await call(method, path, token, body);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
};
const fault = async (method: string, path: string, token: string, body: unknown, status: number, type?: string) => {
  const r = await call(method, path, token, body);
  assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body?.NeutronError?.message, 'string');
  if (type) assert.equal(r.body.NeutronError.type, type, r.body.NeutronError.message);
  return String(r.body.NeutronError.message);
};

/** A member network with one IPv4 subnet. */
async function privateNet(token: string, cidr: string, extra: Record<string, unknown> = {}) {
  const net = (await ok('POST', '/v2.0/networks', token, { network: { name: `n-${cidr}` } })).network;
  const sub = (await ok('POST', '/v2.0/subnets', token, { subnet: { network_id: net.id, cidr, ip_version: 4, enable_dhcp: false, ...extra } })).subnet;
  return { net, sub };
}
const port = async (token: string, networkId: string, extra: Record<string, unknown> = {}) =>
  (await ok('POST', '/v2.0/ports', token, { port: { network_id: networkId, ...extra } })).port;
const addIf = (token: string, routerId: string, body: unknown) => ok('PUT', `/v2.0/routers/${routerId}/add_router_interface`, token, body);
const removeIf = (token: string, routerId: string, body: unknown) => ok('PUT', `/v2.0/routers/${routerId}/remove_router_interface`, token, body);

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  h.cloud.network.ctx.onChange((w) => { signals.push(w); });
  ext = (await ok('POST', '/v2.0/networks', admin, { network: { name: 'ext', 'router:external': true } })).network;
  extSub = (await ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: ext.id, cidr: '203.0.113.0/24', ip_version: 4, enable_dhcp: false, gateway_ip: '203.0.113.1' } })).subnet;
});
after(async () => { await h?.close(); });

test('extensions: the l3 aliases are advertised', async () => {
  const aliases = (await ok('GET', '/v2.0/extensions', demo)).extensions.map((e: any) => e.alias);
  for (const a of ['router', 'ext-gw-mode', 'extraroute', 'extraroute-atomic', 'fip-port-details', 'router_availability_zone']) assert.ok(aliases.includes(a), a);
  assert.ok(!aliases.includes('dvr') && !aliases.includes('l3-ha') && !aliases.includes('l3_agent_scheduler'));
});

test('routers: create with a gateway makes a hidden gateway port; SNAT is admin-only and defaults on', async () => {
  signals.length = 0;
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r1', external_gateway_info: { network_id: ext.id } } })).router;
  assert.equal(r.status, 'ACTIVE');
  assert.equal(r.admin_state_up, true);
  assert.deepEqual(r.routes, []);
  assert.deepEqual(r.availability_zones, ['nova']);
  assert.equal('distributed' in r, false, 'distributed is admin-only');
  assert.equal(r.external_gateway_info.network_id, ext.id);
  assert.equal(r.external_gateway_info.enable_snat, true);
  const [gwIp] = r.external_gateway_info.external_fixed_ips;
  assert.equal(gwIp.subnet_id, extSub.id);
  assert.match(gwIp.ip_address, /^203\.0\.113\./);
  assert.ok(signals.some((s) => s.kind === 'router' && s.id === r.id), 'router change signalled');
  const gwPorts = (await ok('GET', `/v2.0/ports?device_id=${r.id}&device_owner=network:router_gateway&network_id=${ext.id}`, admin)).ports;
  assert.equal(gwPorts.length, 1);
  assert.equal(gwPorts[0].project_id, '');
  assert.deepEqual(gwPorts[0].fixed_ips, [gwIp]);
  assert.equal((await ok('GET', `/v2.0/ports?device_id=${r.id}`, demo)).ports.length, 0, 'members do not see the gateway port');
  const asAdmin = (await ok('GET', `/v2.0/routers/${r.id}`, admin)).router;
  assert.equal(asAdmin.distributed, false);
  assert.equal(asAdmin.ha, false);
  // enable_snat and external_fixed_ips need the admin role (Neutron's policy).
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: ext.id, enable_snat: false } } }, 403);
  await fault('POST', '/v2.0/routers', demo, { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ subnet_id: extSub.id }] } } }, 403);
  await fault('POST', '/v2.0/routers', demo, { router: { distributed: true } }, 403);
  const off = (await ok('PUT', `/v2.0/routers/${r.id}`, admin, { router: { external_gateway_info: { network_id: ext.id, enable_snat: false } } })).router;
  assert.equal(off.external_gateway_info.enable_snat, false);
  assert.deepEqual(off.external_gateway_info.external_fixed_ips, [gwIp], 'same network: the port is kept');
  const on = (await ok('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: ext.id } } })).router;
  assert.equal(on.external_gateway_info.enable_snat, true);
  // Clearing the gateway removes the port and releases its address.
  const cleared = (await ok('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: {} } })).router;
  assert.equal(cleared.external_gateway_info, null);
  assert.equal((await ok('GET', `/v2.0/ports?device_id=${r.id}`, admin)).ports.length, 0);
  const reuse = await port(admin, ext.id, { fixed_ips: [{ ip_address: gwIp.ip_address }] });
  await ok('DELETE', `/v2.0/ports/${reuse.id}`, admin);
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await fault('GET', `/v2.0/routers/${r.id}`, demo, undefined, 404, 'RouterNotFound');
});

test('routers: gateway faults — not external 400, unknown network 404, used or gateway address', async () => {
  const { net } = await privateNet(demo, '10.20.0.0/24');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r2', external_gateway_info: {} } })).router;
  assert.equal(r.external_gateway_info, null);
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: net.id } } }, 400);
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: r.id } } }, 404, 'NetworkNotFound');
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: { enable_snat: true } } }, 400);
  const used = await port(admin, ext.id);
  await fault('POST', '/v2.0/routers', admin, { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ subnet_id: extSub.id, ip_address: used.fixed_ips[0].ip_address }] } } }, 409);
  await fault('POST', '/v2.0/routers', admin, { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ ip_address: '203.0.113.1' }] } } }, 400);
  const fixed = (await ok('POST', '/v2.0/routers', admin, { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ subnet_id: extSub.id, ip_address: '203.0.113.77' }] } } })).router;
  assert.deepEqual(fixed.external_gateway_info.external_fixed_ips, [{ subnet_id: extSub.id, ip_address: '203.0.113.77' }]);
  // A failed create leaves nothing behind: no stray router and no address held.
  assert.equal((await ok('GET', '/v2.0/routers', admin)).routers.filter((x: any) => x.id !== fixed.id && x.id !== r.id).length, 0);
  const moved = (await ok('PUT', `/v2.0/routers/${fixed.id}`, admin, { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ subnet_id: extSub.id, ip_address: '203.0.113.78' }] } } })).router;
  assert.equal(moved.external_gateway_info.external_fixed_ips[0].ip_address, '203.0.113.78');
  await ok('DELETE', `/v2.0/ports/${used.id}`, admin);
  await ok('DELETE', `/v2.0/routers/${fixed.id}`, admin);
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
  // Not a UUID, or another project's router: 404.
  await fault('GET', '/v2.0/routers/non_exist_router-1', demo, undefined, 404);
  await fault('PUT', '/v2.0/routers/non_exist_router-1', demo, { router: { name: 'x' } }, 404);
  await fault('DELETE', '/v2.0/routers/non_exist_router-1', demo, undefined, 404);
  const adminRouter = (await ok('POST', '/v2.0/routers', admin, { router: { name: 'admins' } })).router;
  await fault('GET', `/v2.0/routers/${adminRouter.id}`, demo, undefined, 404);
  await fault('PUT', `/v2.0/routers/${adminRouter.id}/add_router_interface`, demo, { subnet_id: extSub.id }, 404, 'RouterNotFound');
  await ok('DELETE', `/v2.0/routers/${adminRouter.id}`, admin);
});

test('interfaces by subnet: gateway address, overlap and duplicates refused, in-use guards, removal', async () => {
  const a = await privateNet(demo, '10.30.0.0/24');
  const b = await privateNet(demo, '10.30.0.0/25');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r3' } })).router;
  signals.length = 0;
  const info = await addIf(demo, r.id, { subnet_id: a.sub.id });
  assert.deepEqual(Object.keys(info).sort(), ['id', 'network_id', 'port_id', 'project_id', 'subnet_id', 'subnet_ids', 'tenant_id']);
  assert.equal(info.id, r.id);
  assert.equal(info.subnet_id, a.sub.id);
  assert.deepEqual(info.subnet_ids, [a.sub.id]);
  assert.equal(info.network_id, a.net.id);
  assert.equal(info.project_id, r.project_id);
  assert.ok(signals.some((s) => s.kind === 'router' && s.id === r.id));
  const ifPort = (await ok('GET', `/v2.0/ports/${info.port_id}`, demo)).port;
  assert.equal(ifPort.device_id, r.id);
  assert.equal(ifPort.device_owner, 'network:router_interface');
  assert.deepEqual(ifPort.fixed_ips, [{ subnet_id: a.sub.id, ip_address: '10.30.0.1' }]);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { subnet_id: a.sub.id }, 400);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { subnet_id: b.sub.id }, 400);
  // The router, its port, the subnet and the network are in use.
  await fault('DELETE', `/v2.0/routers/${r.id}`, demo, undefined, 409, 'RouterInUse');
  await fault('DELETE', `/v2.0/ports/${info.port_id}`, demo, undefined, 409);
  await fault('DELETE', `/v2.0/subnets/${a.sub.id}`, demo, undefined, 409);
  await fault('DELETE', `/v2.0/networks/${a.net.id}`, demo, undefined, 409);
  // Updating the interface port's fixed IPs (tempest does) works and keeps the subnet.
  const upd = (await ok('PUT', `/v2.0/ports/${info.port_id}`, demo, { port: { fixed_ips: [{ subnet_id: a.sub.id }] } })).port;
  assert.equal(upd.fixed_ips[0].subnet_id, a.sub.id);
  // A subnet without a gateway cannot be an interface.
  const nogw = await privateNet(demo, '10.31.0.0/24', { gateway_ip: null });
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { subnet_id: nogw.sub.id }, 400);
  // Removal: not attached → 404; wrong port → 404; bad bodies → 400.
  await fault('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, demo, { subnet_id: nogw.sub.id }, 404, 'RouterInterfaceNotFoundForSubnet');
  const stray = await port(demo, a.net.id);
  await fault('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, demo, { port_id: stray.id }, 404, 'RouterInterfaceNotFound');
  await fault('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, demo, { port_id: info.port_id, subnet_id: nogw.sub.id }, 400, 'SubnetMismatchForPort');
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, {}, 400);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { subnet_id: 'nope' }, 400);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { subnet_id: a.sub.id, port_id: stray.id }, 400);
  const removed = await removeIf(demo, r.id, { subnet_id: a.sub.id });
  assert.equal(removed.subnet_id, a.sub.id);
  assert.equal(removed.port_id, info.port_id);
  await fault('GET', `/v2.0/ports/${info.port_id}`, demo, undefined, 404);
  await ok('DELETE', `/v2.0/ports/${stray.id}`, demo);
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  for (const n of [a, b, nogw]) await ok('DELETE', `/v2.0/networks/${n.net.id}`, demo);
});

test('interfaces by port: adopts a free port, refuses attached or address-less ports; removal deletes it', async () => {
  const a = await privateNet(demo, '10.40.0.0/24');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r4' } })).router;
  const p = await port(demo, a.net.id);
  const info = await addIf(demo, r.id, { port_id: p.id });
  assert.equal(info.port_id, p.id);
  assert.equal(info.subnet_id, a.sub.id);
  const now = (await ok('GET', `/v2.0/ports?device_id=${r.id}`, demo)).ports;
  assert.equal(now.length, 1);
  assert.equal(now[0].device_owner, 'network:router_interface');
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { port_id: p.id }, 409, 'PortInUse');
  const bare = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'bare' } })).network;
  const noIp = await port(demo, bare.id);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { port_id: noIp.id }, 400);
  // A second port on the same subnet overlaps the first interface.
  const p2 = await port(demo, a.net.id);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { port_id: p2.id }, 400);
  assert.equal((await ok('GET', `/v2.0/ports/${p2.id}`, demo)).port.device_id, '', 'a refused port is left as it was');
  await removeIf(demo, r.id, { port_id: p.id });
  await fault('GET', `/v2.0/ports/${p.id}`, demo, undefined, 404);
  for (const x of [noIp, p2]) await ok('DELETE', `/v2.0/ports/${x.id}`, demo);
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${a.net.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${bare.id}`, demo);
});

test('IPv6: subnets of one network share one router port; removing one keeps the other', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: 'v6' } })).network;
  const s1 = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '2001:db8:1::/64', ip_version: 6, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' } })).subnet;
  const s2 = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '2001:db8:2::/64', ip_version: 6, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' } })).subnet;
  const ra = (await ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, cidr: '2001:db8:3::/64', ip_version: 6, ipv6_address_mode: 'slaac' } })).subnet;
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r6' } })).router;
  const i1 = await addIf(demo, r.id, { subnet_id: s1.id });
  const i2 = await addIf(demo, r.id, { subnet_id: s2.id });
  assert.equal(i1.port_id, i2.port_id);
  const p = (await ok('GET', `/v2.0/ports/${i1.port_id}`, demo)).port;
  assert.deepEqual(p.fixed_ips.map((f: any) => f.ip_address).sort(), ['2001:db8:1::1', '2001:db8:2::1']);
  await fault('PUT', `/v2.0/routers/${r.id}/add_router_interface`, demo, { subnet_id: ra.id }, 400);
  await removeIf(demo, r.id, { subnet_id: s1.id });
  const left = (await ok('GET', `/v2.0/ports/${i1.port_id}`, demo)).port;
  assert.deepEqual(left.fixed_ips, [{ subnet_id: s2.id, ip_address: '2001:db8:2::1' }]);
  await removeIf(demo, r.id, { subnet_id: s2.id });
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
});

test('routes: next hop on a connected subnet, not the router itself; atomic add/remove; guarded interfaces', async () => {
  const a = await privateNet(demo, '10.50.0.0/24');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r5' } })).router;
  await fault('POST', '/v2.0/routers', demo, { router: { routes: [] } }, 400);
  await addIf(demo, r.id, { subnet_id: a.sub.id });
  signals.length = 0;
  const set = (await ok('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.50.0.10' }] } })).router;
  assert.deepEqual(set.routes, [{ destination: '172.16.0.0/16', nexthop: '10.50.0.10' }]);
  assert.ok(signals.some((s) => s.kind === 'router' && s.id === r.id));
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: [{ destination: '172.17.0.0/16', nexthop: '10.99.0.1' }] } }, 400, 'InvalidRoutes');
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: [{ destination: '172.17.0.0/16', nexthop: '10.50.0.1' }] } }, 400, 'InvalidRoutes');
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: [{ destination: '172.17.0.1/16', nexthop: '10.50.0.9' }] } }, 400);
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: [{ destination: '172.17.0.0/16', nexthop: '10.50.0.9', extra: 1 }] } }, 400);
  const many = Array.from({ length: 31 }, (_, i) => ({ destination: `172.18.${i}.0/24`, nexthop: '10.50.0.9' }));
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: many } }, 400, 'RoutesExhausted');
  const added = (await ok('PUT', `/v2.0/routers/${r.id}/add_extraroutes`, demo, { router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.50.0.10' }, { destination: '192.168.9.0/24', nexthop: '10.50.0.11' }] } })).router;
  assert.equal(added.routes.length, 2, 'duplicates merge');
  assert.equal(added.name, 'r5', 'the whole router is answered');
  const shown = (await ok('GET', `/v2.0/routers/${r.id}`, demo)).router;
  assert.equal(shown.routes.length, 2);
  await fault('PUT', `/v2.0/routers/${r.id}/add_extraroutes`, demo, { router: { routes: [{ destination: '10.0.0.0/8', nexthop: '10.77.0.1' }] } }, 400, 'InvalidRoutes');
  await fault('PUT', `/v2.0/routers/${r.id}/add_extraroutes`, demo, { routes: [] }, 400);
  await fault('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, demo, { subnet_id: a.sub.id }, 409, 'RouterInterfaceInUseByRoute');
  const fewer = (await ok('PUT', `/v2.0/routers/${r.id}/remove_extraroutes`, demo, { router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.50.0.10' }, { destination: '1.2.3.0/24', nexthop: '10.50.0.12' }] } })).router;
  assert.deepEqual(fewer.routes, [{ destination: '192.168.9.0/24', nexthop: '10.50.0.11' }]);
  const none = (await ok('PUT', `/v2.0/routers/${r.id}`, demo, { router: { routes: null } })).router;
  assert.deepEqual(none.routes, []);
  await removeIf(demo, r.id, { subnet_id: a.sub.id });
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${a.net.id}`, demo);
});

test('floating IPs: allocate, associate through a router, port_details, one per fixed IP, release', async () => {
  const a = await privateNet(demo, '10.60.0.0/24');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'r7', external_gateway_info: { network_id: ext.id } } })).router;
  await addIf(demo, r.id, { subnet_id: a.sub.id });
  const vm = await port(demo, a.net.id, { name: 'vm' });
  const fip = (await ok('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: ext.id } })).floatingip;
  assert.match(fip.floating_ip_address, /^203\.0\.113\./);
  assert.equal(fip.status, 'DOWN');
  assert.equal(fip.port_id, null);
  assert.equal(fip.router_id, null);
  assert.equal(fip.fixed_ip_address, null);
  assert.equal(fip.port_details, null);
  assert.equal(fip.project_id, r.project_id);
  assert.equal('name' in fip, false);
  const extPorts = (await ok('GET', `/v2.0/ports?device_id=${fip.id}`, admin)).ports;
  assert.equal(extPorts.length, 1);
  assert.equal(extPorts[0].device_owner, 'network:floatingip');
  assert.equal(extPorts[0].fixed_ips[0].ip_address, fip.floating_ip_address);
  await fault('DELETE', `/v2.0/ports/${extPorts[0].id}`, admin, undefined, 409);
  // Its address is really held: a port asking for it conflicts.
  await fault('POST', '/v2.0/ports', admin, { port: { network_id: ext.id, fixed_ips: [{ ip_address: fip.floating_ip_address }] } }, 409);
  signals.length = 0;
  const assoc = (await ok('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: vm.id } })).floatingip;
  assert.equal(assoc.port_id, vm.id);
  assert.equal(assoc.fixed_ip_address, vm.fixed_ips[0].ip_address);
  assert.equal(assoc.router_id, r.id);
  assert.deepEqual(assoc.port_details, { name: 'vm', network_id: a.net.id, mac_address: vm.mac_address, admin_state_up: true, status: 'DOWN', device_id: '', device_owner: '' });
  assert.ok(signals.some((s) => s.kind === 'router' && s.id === r.id));
  assert.deepEqual((await ok('GET', `/v2.0/floatingips?router_id=${r.id}`, demo)).floatingips.map((f: any) => f.id), [fip.id]);
  assert.deepEqual((await ok('GET', `/v2.0/floatingips?port_id=${vm.id}`, demo)).floatingips.map((f: any) => f.id), [fip.id]);
  // One floating IP per fixed IP; a fixed IP must be the port's; none without a port.
  const second = await fault('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: ext.id, port_id: vm.id } }, 409, 'FloatingIPPortAlreadyAssociated');
  assert.match(second, /already has a floating IP/);
  await fault('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: vm.id, fixed_ip_address: '10.60.0.250' } }, 400);
  await fault('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { fixed_ip_address: vm.fixed_ips[0].ip_address } }, 400);
  // The router's gateway and the interface are needed while the floating IP maps through them.
  await fault('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: {} } }, 409, 'RouterExternalGatewayInUseByFloatingIp');
  await fault('PUT', `/v2.0/routers/${r.id}/remove_router_interface`, demo, { subnet_id: a.sub.id }, 409, 'RouterInterfaceInUseByFloatingIP');
  // Disassociate, then associate again and delete the port: the floating IP lets go.
  const free = (await ok('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: null } })).floatingip;
  assert.deepEqual([free.port_id, free.fixed_ip_address, free.router_id, free.port_details], [null, null, null, null]);
  await ok('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: vm.id, description: 'web' } });
  signals.length = 0;
  await ok('DELETE', `/v2.0/ports/${vm.id}`, demo);
  const after = (await ok('GET', `/v2.0/floatingips/${fip.id}`, demo)).floatingip;
  assert.deepEqual([after.port_id, after.fixed_ip_address, after.router_id], [null, null, null]);
  assert.equal(after.description, 'web');
  assert.ok(signals.some((s) => s.kind === 'router' && s.id === r.id), 'the router hears of the lost mapping');
  // Deleting the floating IP releases its address.
  await ok('DELETE', `/v2.0/floatingips/${fip.id}`, demo);
  await fault('GET', `/v2.0/floatingips/${fip.id}`, demo, undefined, 404, 'FloatingIPNotFound');
  const reuse = await port(admin, ext.id, { fixed_ips: [{ ip_address: fip.floating_ip_address }] });
  await ok('DELETE', `/v2.0/ports/${reuse.id}`, admin);
  await removeIf(demo, r.id, { subnet_id: a.sub.id });
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${a.net.id}`, demo);
});

test('floating IPs: faults — private network 400, unreachable port 404, address needs admin, multiple IPs', async () => {
  const a = await privateNet(demo, '10.70.0.0/24');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'no-gw' } })).router;
  await addIf(demo, r.id, { subnet_id: a.sub.id });
  const p = await port(demo, a.net.id);
  await fault('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: a.net.id } }, 400);
  await fault('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: ext.id, port_id: p.id, fixed_ip_address: p.fixed_ips[0].ip_address } }, 404, 'ExternalGatewayForFloatingIPNotFound');
  const fip = (await ok('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: ext.id } })).floatingip;
  await fault('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: p.id } }, 404, 'ExternalGatewayForFloatingIPNotFound');
  await fault('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: ext.id, floating_ip_address: '203.0.113.200' } }, 403);
  const chosen = (await ok('POST', '/v2.0/floatingips', admin, { floatingip: { floating_network_id: ext.id, floating_ip_address: '203.0.113.200' } })).floatingip;
  assert.equal(chosen.floating_ip_address, '203.0.113.200');
  await fault('POST', '/v2.0/floatingips', admin, { floatingip: { floating_network_id: ext.id, floating_ip_address: '203.0.113.200' } }, 409);
  await fault('POST', '/v2.0/floatingips', admin, { floatingip: { floating_network_id: ext.id, floating_ip_address: '198.51.100.5' } }, 400);
  // Give the router a gateway: now the port is reachable; with two IPv4 addresses one must be named.
  await ok('PUT', `/v2.0/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: ext.id } } });
  const two = await port(demo, a.net.id, { fixed_ips: [{ subnet_id: a.sub.id }, { subnet_id: a.sub.id }] });
  await fault('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: two.id } }, 400);
  const [ip1, ip2] = two.fixed_ips.map((f: any) => f.ip_address);
  const on1 = (await ok('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: two.id, fixed_ip_address: ip1 } })).floatingip;
  assert.equal(on1.fixed_ip_address, ip1);
  const on2 = (await ok('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: two.id, fixed_ip_address: ip2 } })).floatingip;
  assert.equal(on2.fixed_ip_address, ip2);
  // Visibility: members see their own floating IPs only; admin sees all, and may create for a project.
  const adminList = (await ok('GET', '/v2.0/floatingips', admin)).floatingips.map((f: any) => f.id);
  assert.ok(adminList.includes(fip.id) && adminList.includes(chosen.id));
  const demoList = (await ok('GET', '/v2.0/floatingips', demo)).floatingips.map((f: any) => f.id);
  assert.ok(demoList.includes(fip.id) && !demoList.includes(chosen.id));
  await fault('GET', `/v2.0/floatingips/${chosen.id}`, demo, undefined, 404);
  const forDemo = (await ok('POST', '/v2.0/floatingips', admin, { floatingip: { floating_network_id: ext.id, project_id: r.project_id, port_id: p.id } })).floatingip;
  assert.equal(forDemo.project_id, r.project_id);
  assert.equal(forDemo.router_id, r.id);
  assert.ok((await ok('GET', `/v2.0/floatingips?floating_network_id=${ext.id}`, demo)).floatingips.some((f: any) => f.id === forDemo.id));
  // Tags work on routers and floating IPs (standard-attr-tag).
  await ok('PUT', `/v2.0/floatingips/${fip.id}/tags/web`, demo, undefined, 201);
  assert.deepEqual((await ok('GET', `/v2.0/floatingips/${fip.id}`, demo)).floatingip.tags, ['web']);
  await ok('PUT', `/v2.0/routers/${r.id}/tags`, demo, { tags: ['edge', 'a'] });
  assert.deepEqual((await ok('GET', `/v2.0/routers?tags=edge`, demo)).routers.map((x: any) => x.id), [r.id]);
  for (const f of [fip, forDemo]) await ok('DELETE', `/v2.0/floatingips/${f.id}`, demo);
  await ok('DELETE', `/v2.0/floatingips/${chosen.id}`, admin);
  for (const x of [p, two]) await ok('DELETE', `/v2.0/ports/${x.id}`, demo);
  await removeIf(demo, r.id, { subnet_id: a.sub.id });
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${a.net.id}`, demo);
});

test('deleting an external network takes its unassociated floating IPs; a gateway keeps it', async () => {
  const net = (await ok('POST', '/v2.0/networks', admin, { network: { 'router:external': true } })).network;
  await ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: net.id, cidr: '203.0.113.0/28', ip_version: 4, enable_dhcp: false } });
  await fault('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: net.id, subnet_id: extSub.id } }, 400);
  const fip = (await ok('POST', '/v2.0/floatingips', admin, { floatingip: { floating_network_id: net.id } })).floatingip;
  const r = (await ok('POST', '/v2.0/routers', admin, { router: { external_gateway_info: { network_id: net.id } } })).router;
  await fault('DELETE', `/v2.0/networks/${net.id}`, admin, undefined, 409, 'NetworkInUse');
  await ok('PUT', `/v2.0/routers/${r.id}`, admin, { router: { external_gateway_info: null } });
  const again = (await ok('POST', '/v2.0/floatingips', admin, { floatingip: { floating_network_id: net.id } })).floatingip;
  await ok('DELETE', `/v2.0/networks/${net.id}`, admin);
  const left = (await ok('GET', '/v2.0/floatingips', admin)).floatingips.map((f: any) => f.id);
  assert.ok(!left.includes(fip.id) && !left.includes(again.id));
  await ok('DELETE', `/v2.0/routers/${r.id}`, admin);
});

test('hostile bodies on routers, interfaces, routes and floating IPs: 4xx, never 5xx, nothing changed', async () => {
  const a = await privateNet(demo, '10.80.0.0/24');
  const r = (await ok('POST', '/v2.0/routers', demo, { router: { name: 'hostile' } })).router;
  const fip = (await ok('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: ext.id } })).floatingip;
  const count = async () => {
    const db = h.cloud.network.ctx.db;
    const n = async (t: string) => Number((await db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst() as { n: unknown }).n);
    return [await n('net_router'), await n('net_floating_ip'), await n('net_port'), await n('net_ip_allocation')].join(',');
  };
  const before = await count();
  const junk: unknown[] = [
    '{bad json', '[]', 'null', '"x"', '12', '{}', '{"__proto__":{"polluted":true}}',
    { router: null }, { router: [] }, { router: 'x' }, { router: { name: 12 } }, { router: { name: 'n'.repeat(300) } },
    { router: { external_gateway_info: 'x' } }, { router: { external_gateway_info: [] } }, { router: { external_gateway_info: { network_id: 'nope' } } },
    { router: { external_gateway_info: { network_id: ext.id, enable_snat: 'maybe' } } },
    { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: 'x' } } },
    { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ ip_address: '300.1.1.1' }] } } },
    { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ subnet_id: 'x' }, 5] } } },
    { router: { routes: 'x' } }, { router: { routes: [null] } }, { router: { routes: [{ destination: 'x', nexthop: 'y' }] } },
    { router: { routes: [{ destination: '10.0.0.0/33', nexthop: '10.80.0.5' }] } }, { router: { routes: [{ destination: '::/0', nexthop: '10.80.0.5' }] } },
    { router: { admin_state_up: 'perhaps' } }, { router: { status: 'DOWN' } }, { router: { id: 'x' } },
    { router: { availability_zone_hints: ['mars'] } }, { router: { availability_zone_hints: 'nova' } }, { router: { tenant_id: 'other', project_id: 'another' } },
    { router: { distributed: 'yes' } }, { router: { ha: true } }, { routers: [] }, { routers: [{ external_gateway_info: { network_id: a.net.id } }] },
  ];
  const fipJunk: unknown[] = [
    '{bad json', '[]', 'null', {}, { floatingip: null }, { floatingip: {} }, { floatingip: { floating_network_id: 'x' } },
    { floatingip: { floating_network_id: a.net.id } }, { floatingip: { floating_network_id: ext.id, port_id: 'x' } },
    { floatingip: { floating_network_id: ext.id, port_id: r.id } }, { floatingip: { floating_network_id: ext.id, fixed_ip_address: 'x' } },
    { floatingip: { floating_network_id: ext.id, fixed_ip_address: '10.80.0.9' } }, { floatingip: { floating_network_id: ext.id, subnet_id: a.sub.id } },
    { floatingip: { floating_network_id: ext.id, floating_ip_address: 'x' } }, { floatingip: { floating_network_id: ext.id, dns_name: 7 } },
    { floatingip: { floating_network_id: ext.id, router_id: r.id } }, { floatingip: { floating_network_id: ext.id, status: 'ACTIVE' } },
    { floatingips: [{ floating_network_id: ext.id }, { floating_network_id: 'x' }] },
  ];
  const actionJunk: unknown[] = [
    '{bad json', '[]', 'null', '"s"', {}, { subnet_id: null }, { subnet_id: 5 }, { subnet_id: 'x'.repeat(300) }, { port_id: [] },
    { subnet_id: r.id }, { port_id: r.id }, { subnet_id: extSub.id }, { router: { routes: 'x' } }, { router: { routes: [], name: 'x' } },
    { router: { routes: [{ destination: '10.1.0.0/24', nexthop: '10.99.0.1' }] } },
  ];
  const results: string[] = [];
  const probe = async (method: string, path: string, body: unknown) => {
    for (const token of [demo, admin]) {
      const res = await call(method, path, token, body);
      results.push(`${res.status} ${method} ${path}`);
      assert.ok(res.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      if (res.status >= 400) assert.equal(typeof res.body?.NeutronError?.type, 'string', JSON.stringify(res.body));
    }
  };
  for (const b of junk) {
    await probe('POST', '/v2.0/routers', b);
    await probe('PUT', `/v2.0/routers/${r.id}`, b);
  }
  for (const b of fipJunk) {
    await probe('POST', '/v2.0/floatingips', b);
    await probe('PUT', `/v2.0/floatingips/${fip.id}`, b);
  }
  for (const b of actionJunk) {
    for (const action of ['add_router_interface', 'remove_router_interface', 'add_extraroutes', 'remove_extraroutes']) await probe('PUT', `/v2.0/routers/${r.id}/${action}`, b);
  }
  for (const id of ['x'.repeat(300), '%00', "' OR 1=1 --", 'ünï']) {
    await probe('GET', `/v2.0/routers/${encodeURIComponent(id)}`, undefined);
    await probe('PUT', `/v2.0/routers/${encodeURIComponent(id)}/add_router_interface`, { subnet_id: a.sub.id });
    await probe('DELETE', `/v2.0/floatingips/${encodeURIComponent(id)}`, undefined);
  }
  for (const q of ['?router_id=x', '?port_id=', '?fixed_ip_address=%00', '?sort_key=bogus', '?limit=-1', '?fields=port_details']) {
    await probe('GET', `/v2.0/floatingips${q}`, undefined);
    await probe('GET', `/v2.0/routers${q}`, undefined);
  }
  assert.ok(results.every((x) => !x.startsWith('5')));
  // Only junk that happened to be valid (a rename, an admin_state_up) may have changed anything; nothing was created.
  assert.equal(await count(), before);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  await ok('DELETE', `/v2.0/floatingips/${fip.id}`, demo);
  await ok('DELETE', `/v2.0/routers/${r.id}`, demo);
  await ok('DELETE', `/v2.0/networks/${a.net.id}`, demo);
});
