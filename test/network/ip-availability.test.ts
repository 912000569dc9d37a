// Network IP availability over HTTP (Neutron's network-ip-availability extension, admin only):
// totals are the allocation pools' sizes (exact, even for a /64), used the allocated addresses,
// per subnet and summed per network, with Neutron's filters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';

let h: IdentityHarness;
let api: NetworkApi;
let admin: string;
let demo: string;
let net: any;
let v4: any;
let v6: any;
let pooled: any;

before(async () => {
  h = await startIdentity();
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  net = (await api.ok('POST', '/v2.0/networks', demo, { network: { name: 'ipa-net' } })).network;
  // /24 with the gateway at .1: the pool is .2–.254 (253); DHCP takes one address.
  v4 = (await api.ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, ip_version: 4, cidr: '10.90.0.0/24', name: 'ipa-v4' } })).subnet;
  v6 = (await api.ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: net.id, ip_version: 6, cidr: 'fd00:90::/64', name: 'ipa-v6', enable_dhcp: false } })).subnet;
  for (let i = 0; i < 2; i++) await api.ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id } });
  const other = (await api.ok('POST', '/v2.0/networks', admin, { network: { name: 'ipa-pools' } })).network;
  pooled = (await api.ok('POST', '/v2.0/subnets', admin, { subnet: {
    network_id: other.id, ip_version: 4, cidr: '10.91.0.0/24', enable_dhcp: false,
    allocation_pools: [{ start: '10.91.0.10', end: '10.91.0.19' }, { start: '10.91.0.100', end: '10.91.0.104' }],
  } })).subnet;
  await api.ok('POST', '/v2.0/ports', admin, { port: { network_id: other.id, fixed_ips: [{ ip_address: '10.91.0.200' }] } });
  await api.ok('POST', '/v2.0/networks', admin, { network: { name: 'ipa-empty' } });
});
after(async () => { await h?.close(); });

test('per subnet and per network totals and usage, exact for IPv6', async () => {
  const r = await api.call('GET', `/v2.0/network-ip-availabilities/${net.id}`, admin);
  assert.equal(r.status, 200, r.text);
  // 2^64 - 2 does not fit a double: the JSON text must carry it exactly.
  assert.match(r.text, /"total_ips":18446744073709551614[,}]/);
  assert.match(r.text, /"total_ips":18446744073709551867[,}]/, 'the network sums both subnets');
  const a = r.body.network_ip_availability;
  assert.equal(a.network_id, net.id);
  assert.equal(a.network_name, 'ipa-net');
  assert.equal(a.project_id, net.project_id);
  assert.equal(a.tenant_id, net.project_id);
  assert.equal(a.used_ips, 5, 'DHCP port (v4) + two ports with a v4 and a v6 address each');
  const s4 = a.subnet_ip_availability.find((s: any) => s.subnet_id === v4.id);
  assert.deepEqual(s4, { subnet_id: v4.id, subnet_name: 'ipa-v4', cidr: '10.90.0.0/24', ip_version: 4, used_ips: 3, total_ips: 253 });
  const s6 = a.subnet_ip_availability.find((s: any) => s.subnet_id === v6.id);
  assert.equal(s6.used_ips, 2);
  assert.equal(s6.ip_version, 6);
  assert.equal(s6.cidr, 'fd00:90::/64');
});

test('the sum of pools is the total; an address outside the pools still counts as used', async () => {
  const a = (await api.ok('GET', `/v2.0/network-ip-availabilities/${pooled.network_id}`, admin)).network_ip_availability;
  assert.equal(a.total_ips, 15);
  assert.equal(a.used_ips, 1);
  assert.equal(a.subnet_ip_availability[0].total_ips, 15);
});

test('list with Neutron\'s filters and fields; a network without subnets shows zeros unless an ip_version is asked for', async () => {
  const all = (await api.ok('GET', '/v2.0/network-ip-availabilities', admin)).network_ip_availabilities;
  const empty = all.find((x: any) => x.network_name === 'ipa-empty');
  assert.deepEqual({ used: empty.used_ips, total: empty.total_ips, subnets: empty.subnet_ip_availability }, { used: 0, total: 0, subnets: [] });
  const v6only = (await api.ok('GET', '/v2.0/network-ip-availabilities?ip_version=6', admin)).network_ip_availabilities;
  assert.deepEqual(v6only.map((x: any) => x.network_id), [net.id]);
  assert.deepEqual(v6only[0].subnet_ip_availability.map((s: any) => s.subnet_id), [v6.id]);
  assert.equal(v6only[0].used_ips, 2);
  const byName = (await api.ok('GET', '/v2.0/network-ip-availabilities?network_name=ipa-pools&network_name=ipa-net', admin)).network_ip_availabilities;
  assert.deepEqual(byName.map((x: any) => x.network_name).sort(), ['ipa-net', 'ipa-pools']);
  const byProject = (await api.ok('GET', `/v2.0/network-ip-availabilities?project_id=${net.project_id}`, admin)).network_ip_availabilities;
  assert.ok(byProject.every((x: any) => x.project_id === net.project_id) && byProject.some((x: any) => x.network_id === net.id));
  assert.equal((await api.ok('GET', `/v2.0/network-ip-availabilities?tenant_id=${net.project_id}&network_id=${pooled.network_id}`, admin)).network_ip_availabilities.length, 0);
  const picked = (await api.ok('GET', `/v2.0/network-ip-availabilities?network_id=${pooled.network_id}&fields=network_id&fields=used_ips`, admin)).network_ip_availabilities;
  assert.deepEqual(picked, [{ network_id: pooled.network_id, used_ips: 1 }]);
  const aliases = (await api.ok('GET', '/v2.0/extensions', demo)).extensions.map((e: any) => e.alias);
  assert.ok(aliases.includes('network-ip-availability'));
});

test('admin only: members list nothing and see no network; unknown ids are 404; odd queries are never 5xx', async () => {
  assert.deepEqual((await api.ok('GET', '/v2.0/network-ip-availabilities', demo)).network_ip_availabilities, []);
  await api.fault('GET', `/v2.0/network-ip-availabilities/${net.id}`, demo, undefined, 404, 'NetworkNotFound');
  await api.fault('GET', '/v2.0/network-ip-availabilities/2d3c1a57-0000-4000-8000-000000000000', admin, undefined, 404, 'NetworkNotFound');
  for (const q of ['ip_version=seven', 'ip_version=', 'network_id=', 'fields=nope', 'limit=-1', `network_name=${'x'.repeat(5000)}`, 'project_id=%00', 'sort_key=total_ips']) {
    const r = await api.call('GET', `/v2.0/network-ip-availabilities?${q}`, admin);
    assert.ok(r.status < 500, `${q}: ${r.status} ${r.text}`);
  }
  for (const id of ['x'.repeat(300), '%00', "'"]) {
    const r = await api.call('GET', `/v2.0/network-ip-availabilities/${id}`, admin);
    assert.equal(r.status, 404, `${id}: ${r.text}`);
  }
});
