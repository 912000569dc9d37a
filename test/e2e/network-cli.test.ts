// End to end: Debian's unmodified `openstack` CLI against the network service (Neutron v2.0):
// networks, subnets and ports with their options, list filters, set/unset, and Neutron's errors.
// The all-in-one's default topology (public, private, router1) is on, as a user meets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;

before(async () => {
  h = await startIdentity({ overrides: { network: { create_defaults: true } } });
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
});
after(async () => { await h?.close(); });

test('the default topology: public (external), private with a subnet, router1 between them', async () => {
  const nets = await openstack(demo, 'network', 'list', '-f', 'json');
  ok(nets, 'network list');
  const names = nets.json.map((n: any) => n.Name).sort();
  assert.deepEqual(names, ['private', 'public']);
  const pub = await openstack(admin, 'network', 'show', 'public', '-f', 'json');
  ok(pub, 'network show public');
  assert.equal(pub.json['router:external'], true);
  assert.equal(pub.json['provider:network_type'], 'flat');
  const router = await openstack(demo, 'router', 'show', 'router1', '-f', 'json');
  ok(router, 'router show');
  assert.equal(router.json.external_gateway_info.network_id, pub.json.id);
  const sub = await openstack(demo, 'subnet', 'show', 'private-subnet', '-f', 'json');
  ok(sub, 'subnet show');
  assert.equal(sub.json.cidr, '10.0.0.0/24');
});

test('network create/show/set/unset/delete with options', async () => {
  const n = await openstack(demo, 'network', 'create', '--description', 'e2e net', '--mtu', '1400', '--tag', 'blue', '--disable-port-security', 'e2e-net', '-f', 'json');
  ok(n, 'network create');
  assert.equal(n.json.mtu, 1400);
  assert.equal(n.json.port_security_enabled, false);
  assert.deepEqual(n.json.tags, ['blue']);
  ok(await openstack(demo, 'network', 'set', '--name', 'e2e-net2', '--enable-port-security', '--tag', 'green', 'e2e-net'), 'network set');
  const s = await openstack(demo, 'network', 'show', 'e2e-net2', '-f', 'json');
  assert.equal(s.json.port_security_enabled, true);
  assert.deepEqual([...s.json.tags].sort(), ['blue', 'green']);
  ok(await openstack(demo, 'network', 'unset', '--tag', 'blue', 'e2e-net2'), 'network unset');
  const tagged = await openstack(demo, 'network', 'list', '--tags', 'green', '-f', 'json');
  assert.deepEqual(tagged.json.map((x: any) => x.Name), ['e2e-net2']);
  const shared = await openstack(demo, 'network', 'create', '--share', 'not-allowed');
  assert.notEqual(shared.code, 0, 'a member cannot share a network');
  ok(await openstack(demo, 'network', 'delete', 'e2e-net2'), 'network delete');
});

test('subnet create with pools, gateway, DNS, host routes; subnet set; overlap refused readably', async () => {
  ok(await openstack(demo, 'network', 'create', 'e2e-sub-net'), 'network create');
  const s = await openstack(demo, 'subnet', 'create', '--network', 'e2e-sub-net', '--subnet-range', '192.168.50.0/24',
    '--allocation-pool', 'start=192.168.50.100,end=192.168.50.150', '--gateway', '192.168.50.1', '--dns-nameserver', '192.168.50.53',
    '--host-route', 'destination=10.20.0.0/16,gateway=192.168.50.254', 'e2e-sub', '-f', 'json');
  ok(s, 'subnet create');
  assert.equal(s.json.gateway_ip, '192.168.50.1');
  assert.deepEqual(s.json.allocation_pools, [{ start: '192.168.50.100', end: '192.168.50.150' }]);
  assert.deepEqual(s.json.dns_nameservers, ['192.168.50.53']);
  assert.deepEqual(s.json.host_routes, [{ destination: '10.20.0.0/16', nexthop: '192.168.50.254' }]);
  const overlap = await openstack(demo, 'subnet', 'create', '--network', 'e2e-sub-net', '--subnet-range', '192.168.50.128/25', 'e2e-sub2');
  assert.notEqual(overlap.code, 0);
  assert.match(overlap.stderr, /overlaps/);
  ok(await openstack(demo, 'subnet', 'set', '--no-dns-nameservers', '--dns-nameserver', '1.1.1.1', '--no-dhcp', 'e2e-sub'), 'subnet set');
  const after2 = await openstack(demo, 'subnet', 'show', 'e2e-sub', '-f', 'json');
  assert.deepEqual(after2.json.dns_nameservers, ['1.1.1.1']);
  assert.equal(after2.json.enable_dhcp, false);
  const v6 = await openstack(demo, 'subnet', 'create', '--network', 'e2e-sub-net', '--ip-version', '6', '--subnet-range', 'fd00:50::/64',
    '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'slaac', 'e2e-sub6', '-f', 'json');
  ok(v6, 'subnet create v6');
  assert.equal(v6.json.ipv6_address_mode, 'slaac');
  ok(await openstack(demo, 'network', 'delete', 'e2e-sub-net'), 'network delete with its subnets');
});

test('port create with fixed IP, MAC, security group, address pair; list filters; set; delete', async () => {
  ok(await openstack(demo, 'network', 'create', 'e2e-port-net'), 'network create');
  ok(await openstack(demo, 'subnet', 'create', '--network', 'e2e-port-net', '--subnet-range', '192.168.60.0/24', 'e2e-port-sub'), 'subnet create');
  const p = await openstack(demo, 'port', 'create', '--network', 'e2e-port-net', '--fixed-ip', 'subnet=e2e-port-sub,ip-address=192.168.60.77',
    '--mac-address', 'fa:16:3e:aa:bb:cc', '--allowed-address', 'ip-address=192.168.60.200', '--security-group', 'default', 'e2e-port', '-f', 'json');
  ok(p, 'port create');
  assert.equal(p.json.fixed_ips[0].ip_address, '192.168.60.77');
  assert.equal(p.json.mac_address, 'fa:16:3e:aa:bb:cc');
  assert.equal(p.json.status, 'DOWN');
  const byIp = await openstack(demo, 'port', 'list', '--fixed-ip', 'ip-address=192.168.60.77', '-f', 'json');
  ok(byIp, 'port list --fixed-ip');
  assert.deepEqual(byIp.json.map((x: any) => x.Name), ['e2e-port']);
  const byNet = await openstack(demo, 'port', 'list', '--network', 'e2e-port-net', '--long', '-f', 'json');
  assert.ok(byNet.json.length >= 2, 'the port and the DHCP port');
  const taken = await openstack(demo, 'port', 'create', '--network', 'e2e-port-net', '--fixed-ip', 'ip-address=192.168.60.77', 'dup');
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /already allocated|192\.168\.60\.77/);
  ok(await openstack(demo, 'port', 'set', '--name', 'e2e-port2', '--no-allowed-address', '--description', 'moved', 'e2e-port'), 'port set');
  const s = await openstack(demo, 'port', 'show', 'e2e-port2', '-f', 'json');
  assert.deepEqual(s.json.allowed_address_pairs, []);
  assert.equal(s.json.description, 'moved');
  const inUse = await openstack(demo, 'network', 'delete', 'e2e-port-net');
  assert.notEqual(inUse.code, 0, 'network with ports cannot be deleted');
  ok(await openstack(demo, 'port', 'delete', 'e2e-port2'), 'port delete');
  ok(await openstack(demo, 'network', 'delete', 'e2e-port-net'), 'network delete');
});
