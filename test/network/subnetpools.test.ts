// Subnet pools over real HTTP, as Neutron's subnet_allocation and default-subnetpools extensions
// behave: the pool's attributes (merged prefixes, version, prefix-length bounds rendered as
// strings), policy (shared/default are admin's), visibility, prefixes that only grow, one default
// per IP version, subnets carved from a pool by size or by CIDR (smallest free block first),
// quota, affinity with other subnets of the network, delete refused while in use, tags, and
// hostile bodies that never produce a 5xx. The concurrency of allocation is proven on PostgreSQL
// and MariaDB, where transactions really run side by side.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';
import { testOnSharedEngines } from '../lib/databases.js';

let h: IdentityHarness;
let api: NetworkApi;
let admin: string;
let demo: string;

before(async () => {
  h = await startIdentity();
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
});
after(async () => { await h?.close(); });

const pool = async (token: string, body: Record<string, unknown>) => (await api.ok('POST', '/v2.0/subnetpools', token, { subnetpool: body })).subnetpool;
const net = async (token: string, name = 'n') => (await api.ok('POST', '/v2.0/networks', token, { network: { name } })).network;
const subnet = async (token: string, body: Record<string, unknown>) =>
  (await api.ok('POST', '/v2.0/subnets', token, { subnet: { ip_version: 4, enable_dhcp: false, ...body } })).subnet;

test('extensions: subnet_allocation and default-subnetpools are advertised; show equals the list item', async () => {
  const list = (await api.ok('GET', '/v2.0/extensions', demo)).extensions as { alias: string }[];
  for (const alias of ['subnet_allocation', 'default-subnetpools']) {
    const item = list.find((e) => e.alias === alias);
    assert.ok(item, alias);
    assert.deepEqual((await api.ok('GET', `/v2.0/extensions/${alias}`, demo)).extension, item);
  }
});

test('create, show, list, update, delete: attributes as Neutron renders them', async () => {
  const p = await pool(demo, { name: 'p1', prefixes: ['10.10.1.0/24', '10.10.0.0/24', '10.10.0.128/25'], description: 'd' });
  assert.deepEqual(p.prefixes, ['10.10.0.0/23'], 'overlapping and adjacent prefixes are merged');
  assert.equal(p.ip_version, 4);
  assert.equal(p.min_prefixlen, '8');
  assert.equal(p.max_prefixlen, '32');
  assert.equal(p.default_prefixlen, '8', 'the default prefix length defaults to the minimum');
  assert.equal(p.is_default, false);
  assert.equal(p.shared, false);
  assert.equal(p.address_scope_id, null);
  assert.equal(p.default_quota, null);
  assert.equal(p.description, 'd');
  assert.deepEqual(p.tags, []);
  assert.equal(p.project_id, p.tenant_id);
  assert.equal(typeof p.revision_number, 'number');
  assert.match(p.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal('default_for_version' in p, false, 'internal attributes stay hidden');

  const shown = (await api.ok('GET', `/v2.0/subnetpools/${p.id}`, demo)).subnetpool;
  assert.deepEqual(shown, p);
  const listed = (await api.ok('GET', `/v2.0/subnetpools?name=p1`, demo)).subnetpools;
  assert.deepEqual(listed.map((x: any) => x.id), [p.id]);
  const fields = (await api.ok('GET', `/v2.0/subnetpools/${p.id}?fields=id&fields=prefixes`, demo)).subnetpool;
  assert.deepEqual(Object.keys(fields).sort(), ['id', 'prefixes']);

  const v6 = await pool(demo, { name: 'p6', prefixes: ['2001:DB8:100::/48'] });
  assert.deepEqual(v6.prefixes, ['2001:db8:100::/48']);
  assert.equal(v6.ip_version, 6);
  assert.deepEqual([v6.min_prefixlen, v6.max_prefixlen, v6.default_prefixlen], ['64', '128', '64']);
  assert.deepEqual((await api.ok('GET', '/v2.0/subnetpools?ip_version=6', demo)).subnetpools.map((x: any) => x.id), [v6.id]);

  const upd = (await api.ok('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { name: 'p1b', default_prefixlen: 26, min_prefixlen: 24, max_prefixlen: 28, default_quota: 100 } })).subnetpool;
  assert.equal(upd.name, 'p1b');
  assert.deepEqual([upd.min_prefixlen, upd.max_prefixlen, upd.default_prefixlen], ['24', '28', '26']);
  assert.equal(upd.default_quota, 100);
  assert.ok(upd.revision_number > p.revision_number);
  // Prefixes may only grow (the new list must cover the old one); they are merged again.
  const grown = (await api.ok('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { prefixes: ['10.10.2.0/23', '10.10.0.0/23', '10.20.0.0/24'] } })).subnetpool;
  assert.deepEqual(grown.prefixes, ['10.10.0.0/22', '10.20.0.0/24']);
  await api.fault('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { prefixes: ['10.10.0.0/23'] } }, 400, 'IllegalSubnetPoolPrefixUpdate');
  await api.fault('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { prefixes: ['10.10.0.0/22', '10.20.0.0/24', '2001:db8::/64'] } }, 400, 'PrefixVersionMismatch');
  await api.fault('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { default_prefixlen: 30 } }, 400, 'IllegalSubnetPoolPrefixBounds');
  await api.fault('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { ip_version: 6 } }, 400);
  await api.fault('PUT', `/v2.0/subnetpools/${p.id}`, demo, { subnetpool: { shared: true } }, 400);
  assert.deepEqual((await api.ok('GET', `/v2.0/subnetpools/${p.id}`, demo)).subnetpool.prefixes, ['10.10.0.0/22', '10.20.0.0/24'], 'refused updates changed nothing');

  await api.ok('DELETE', `/v2.0/subnetpools/${p.id}`, demo);
  await api.fault('GET', `/v2.0/subnetpools/${p.id}`, demo, undefined, 404, 'SubnetPoolNotFound');
  await api.fault('DELETE', `/v2.0/subnetpools/${p.id}`, demo, undefined, 404, 'SubnetPoolNotFound');
  await api.ok('DELETE', `/v2.0/subnetpools/${v6.id}`, demo);
});

test('checks on create: required name and prefixes, one version, bounds as Neutron sets them', async () => {
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { prefixes: ['10.0.0.0/8'] } }, 400);
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x' } }, 400);
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: ' ', prefixes: ['10.0.0.0/8'] } }, 400);
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: [] } }, 400, 'EmptySubnetPoolPrefixList');
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0/8', '2001:db8::/32'] } }, 400, 'PrefixVersionMismatch');
  const msg = await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0/8', '10.0.0.0/8'] } }, 400);
  assert.match(msg, /Duplicate items/);
  assert.match(await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0'] } }, 400), /isn't a recognized IP subnet cidr, '10\.0\.0\.0\/32' is recommended/);
  assert.match(await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0/24'], min_prefixlen: 28, max_prefixlen: 26 } }, 400, 'IllegalSubnetPoolPrefixBounds'),
    /min_prefixlen=28, max_prefixlen=26/);
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0/24'], max_prefixlen: 33 } }, 400, 'IllegalSubnetPoolPrefixBounds');
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0/24'], min_prefixlen: 24, default_prefixlen: 20 } }, 400, 'IllegalSubnetPoolPrefixBounds');
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 'x', prefixes: ['10.0.0.0/24'], address_scope_id: randomUUID() } }, 400);
  // Host bits in an IPv4 prefix are allowed and cleared (Neutron keeps the network).
  const p = await pool(demo, { name: 'hostbits', prefixes: ['10.99.0.7/24'], address_scope_id: null });
  assert.deepEqual(p.prefixes, ['10.99.0.0/24']);
  await api.ok('DELETE', `/v2.0/subnetpools/${p.id}`, demo);
});

test('policy and visibility: shared and default are admin-only; owner, admin and shared see a pool', async () => {
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 's', prefixes: ['10.0.0.0/8'], shared: true } }, 403, 'PolicyNotAuthorized');
  await api.fault('POST', '/v2.0/subnetpools', demo, { subnetpool: { name: 's', prefixes: ['10.0.0.0/8'], is_default: true } }, 403, 'PolicyNotAuthorized');
  // The CLI sends --no-share / --no-default as explicit false values: allowed.
  const own = await pool(demo, { name: 'own', prefixes: ['10.50.0.0/16'], shared: false, is_default: false });
  await api.fault('PUT', `/v2.0/subnetpools/${own.id}`, demo, { subnetpool: { is_default: true } }, 403, 'PolicyNotAuthorized');

  const other = randomUUID().replace(/-/g, '');
  const hidden = await pool(admin, { name: 'hidden', prefixes: ['10.51.0.0/16'], project_id: other });
  const shared = await pool(admin, { name: 'shared', prefixes: ['10.52.0.0/16'], shared: true });
  await api.fault('GET', `/v2.0/subnetpools/${hidden.id}`, demo, undefined, 404, 'SubnetPoolNotFound');
  await api.fault('PUT', `/v2.0/subnetpools/${hidden.id}`, demo, { subnetpool: { name: 'x' } }, 404);
  await api.fault('DELETE', `/v2.0/subnetpools/${hidden.id}`, demo, undefined, 404);
  assert.equal((await api.ok('GET', `/v2.0/subnetpools/${shared.id}`, demo)).subnetpool.shared, true);
  await api.fault('PUT', `/v2.0/subnetpools/${shared.id}`, demo, { subnetpool: { name: 'mine' } }, 403);
  await api.fault('DELETE', `/v2.0/subnetpools/${shared.id}`, demo, undefined, 403);
  await api.fault('PUT', `/v2.0/subnetpools/${shared.id}/tags/t`, demo, undefined, 403);
  const ids = (await api.ok('GET', '/v2.0/subnetpools', demo)).subnetpools.map((x: any) => x.id);
  assert.ok(ids.includes(own.id) && ids.includes(shared.id) && !ids.includes(hidden.id), JSON.stringify(ids));
  assert.deepEqual((await api.ok('GET', '/v2.0/subnetpools?shared=True', demo)).subnetpools.map((x: any) => x.id), [shared.id]);
  const all = (await api.ok('GET', '/v2.0/subnetpools', admin)).subnetpools.map((x: any) => x.id);
  assert.ok(all.includes(hidden.id) && all.includes(own.id));

  // Another project's non-shared pool cannot be allocated from (404); a shared one can.
  const n = await net(demo);
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: hidden.id } }, 404, 'SubnetPoolNotFound');
  const s = await subnet(demo, { network_id: n.id, subnetpool_id: shared.id, prefixlen: 24 });
  assert.equal(s.cidr, '10.52.0.0/24');
  assert.equal(s.subnetpool_id, shared.id);
  await api.ok('DELETE', `/v2.0/networks/${n.id}`, demo);
  for (const p of [own, hidden, shared]) await api.ok('DELETE', `/v2.0/subnetpools/${p.id}`, admin);
});

test('tags on subnet pools (the tags extension routes)', async () => {
  const p = await pool(demo, { name: 'tagged', prefixes: ['10.60.0.0/16'] });
  await api.ok('PUT', `/v2.0/subnetpools/${p.id}/tags/red`, demo, undefined, 201);
  await api.ok('GET', `/v2.0/subnetpools/${p.id}/tags/red`, demo, undefined, 204);
  await api.fault('GET', `/v2.0/subnetpools/${p.id}/tags/blue`, demo, undefined, 404);
  assert.deepEqual((await api.ok('PUT', `/v2.0/subnetpools/${p.id}/tags`, demo, { tags: ['b', 'a'] })).tags, ['a', 'b']);
  assert.deepEqual((await api.ok('GET', `/v2.0/subnetpools?tags=a`, demo)).subnetpools.map((x: any) => x.id), [p.id]);
  await api.ok('DELETE', `/v2.0/subnetpools/${p.id}/tags`, demo);
  assert.deepEqual((await api.ok('GET', `/v2.0/subnetpools/${p.id}`, demo)).subnetpool.tags, []);
  await api.ok('DELETE', `/v2.0/subnetpools/${p.id}`, demo);
});

test('subnets from a pool: by size (smallest free block first), by CIDR, bounds, exhaustion, delete in use', async () => {
  const p = await pool(demo, { name: 'alloc', prefixes: ['10.70.0.0/16'], default_prefixlen: 24, min_prefixlen: 20, max_prefixlen: 28 });
  const n = await net(demo);
  const a = await subnet(demo, { network_id: n.id, subnetpool_id: p.id, prefixlen: 26 });
  assert.equal(a.cidr, '10.70.0.0/26');
  assert.equal(a.gateway_ip, '10.70.0.1');
  assert.deepEqual(a.allocation_pools, [{ start: '10.70.0.2', end: '10.70.0.62' }]);
  const b = await subnet(demo, { network_id: n.id, subnetpool_id: p.id });
  assert.equal(b.cidr, '10.70.1.0/24', 'the default prefix length; the /24 left whole beside the /26 is used');
  const c = await subnet(demo, { network_id: n.id, subnetpool_id: p.id, prefixlen: 26 });
  assert.equal(c.cidr, '10.70.0.64/26', 'a small request fills the partly used block');
  const d = await subnet(demo, { network_id: n.id, subnetpool_id: p.id, cidr: '10.70.9.0/24', gateway_ip: '10.70.9.254' });
  assert.equal(d.cidr, '10.70.9.0/24');
  assert.equal(d.gateway_ip, '10.70.9.254');
  assert.equal(d.subnetpool_id, p.id);
  const e = await subnet(demo, { network_id: n.id, subnetpool_id: p.id, gateway_ip: '10.70.20.1', prefixlen: 24 });
  assert.equal(e.cidr, '10.70.20.0/24', 'a gateway without a CIDR asks for the block around it');
  const f = await subnet(demo, { network_id: n.id, subnetpool_id: p.id, gateway_ip: null });
  assert.equal(f.gateway_ip, null);
  assert.deepEqual((await api.ok('GET', `/v2.0/subnets?subnetpool_id=${p.id}`, demo)).subnets.map((s: any) => s.id).sort(), [a.id, b.id, c.id, d.id, e.id, f.id].sort());

  const bad = (body: Record<string, unknown>, status: number, type?: string) =>
    api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: p.id, ...body } }, status, type);
  await bad({ cidr: '10.70.0.0/24' }, 400, 'SubnetAllocationError');
  await bad({ cidr: '10.70.9.128/25' }, 400, 'SubnetAllocationError');
  await bad({ cidr: '10.71.0.0/24' }, 400, 'SubnetAllocationError');
  await bad({ prefixlen: 29 }, 400, 'MaxPrefixSubnetAllocationError');
  await bad({ prefixlen: 19 }, 400, 'MinPrefixSubnetAllocationError');
  await bad({ cidr: '10.70.30.0/24', prefixlen: 24 }, 400);
  await bad({ allocation_pools: [{ start: '10.70.0.5', end: '10.70.0.9' }] }, 400);
  await bad({ ip_version: 6 }, 400);
  await bad({ use_default_subnetpool: true }, 400);
  await bad({ subnetpool_id: randomUUID() }, 404, 'SubnetPoolNotFound');
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, prefixlen: 24 } }, 400);
  // Affinity: the IPv4 subnets of a network come from one pool (or none).
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, cidr: '172.16.0.0/24' } }, 400, 'NetworkSubnetPoolAffinityError');
  const other = await pool(demo, { name: 'other', prefixes: ['10.80.0.0/16'], default_prefixlen: 24 });
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: other.id } }, 400, 'NetworkSubnetPoolAffinityError');

  // In use: refused as Neutron (Zed) refuses it; free again once the subnets are gone.
  await api.fault('DELETE', `/v2.0/subnetpools/${p.id}`, demo, undefined, 400, 'SubnetPoolDeleteError');
  await api.ok('DELETE', `/v2.0/subnets/${b.id}`, demo);
  const again = await subnet(demo, { network_id: n.id, subnetpool_id: p.id, cidr: '10.70.1.0/24' });
  assert.equal(again.cidr, '10.70.1.0/24', 'a deleted subnet gives its prefix back');
  await api.ok('DELETE', `/v2.0/networks/${n.id}`, demo);
  await api.ok('DELETE', `/v2.0/subnetpools/${p.id}`, demo);

  // Exhaustion is a 409, Neutron's SubnetAllocationError.
  const small = await pool(demo, { name: 'small', prefixes: ['10.90.0.0/24'], default_prefixlen: 25 });
  const n2 = await net(demo);
  assert.equal((await subnet(demo, { network_id: n2.id, subnetpool_id: small.id })).cidr, '10.90.0.0/25');
  assert.equal((await subnet(demo, { network_id: n2.id, subnetpool_id: small.id })).cidr, '10.90.0.128/25');
  assert.match(await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n2.id, ip_version: 4, subnetpool_id: small.id } }, 409, 'SubnetAllocationError'), /Insufficient prefix space/);
  // Growing the pool makes room.
  await api.ok('PUT', `/v2.0/subnetpools/${small.id}`, demo, { subnetpool: { prefixes: ['10.90.0.0/24', '10.90.1.0/24'] } });
  assert.equal((await subnet(demo, { network_id: n2.id, subnetpool_id: small.id })).cidr, '10.90.1.0/25');
  await api.ok('DELETE', `/v2.0/networks/${n2.id}`, demo);
  for (const x of [small, other]) await api.ok('DELETE', `/v2.0/subnetpools/${x.id}`, demo);
});

test('IPv6 pools carve /64s; per-project prefix quota (in /32s for IPv4) is enforced', async () => {
  const p6 = await pool(demo, { name: 'v6', prefixes: ['2001:db8:200::/48'] });
  const n = await net(demo);
  const s6 = (await api.ok('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 6, subnetpool_id: p6.id, enable_dhcp: false } })).subnet;
  assert.equal(s6.cidr, '2001:db8:200::/64');
  assert.equal(s6.gateway_ip, '2001:db8:200::1');

  const q = await pool(demo, { name: 'quota', prefixes: ['10.100.0.0/16'], default_prefixlen: 24, default_quota: 512 });
  const n2 = await net(demo);
  await subnet(demo, { network_id: n2.id, subnetpool_id: q.id });
  await subnet(demo, { network_id: n2.id, subnetpool_id: q.id });
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n2.id, ip_version: 4, subnetpool_id: q.id, prefixlen: 28 } }, 409, 'SubnetPoolQuotaExceeded');
  for (const x of [n, n2]) await api.ok('DELETE', `/v2.0/networks/${x.id}`, demo);
  for (const x of [p6, q]) await api.ok('DELETE', `/v2.0/subnetpools/${x.id}`, demo);
});

test('default pools: one per IP version; use_default_subnetpool takes the visible one', async () => {
  const n = await net(demo);
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, use_default_subnetpool: true } }, 400);
  const d4 = await pool(admin, { name: 'd4', prefixes: ['10.110.0.0/16'], default_prefixlen: 24, is_default: true });
  assert.equal(d4.is_default, true);
  assert.match(await api.fault('POST', '/v2.0/subnetpools', admin, { subnetpool: { name: 'd4b', prefixes: ['10.111.0.0/16'], is_default: true } }, 400, 'InvalidInput'),
    /Only one default may exist per IP family/);
  const d6 = await pool(admin, { name: 'd6', prefixes: ['2001:db8:300::/48'], is_default: true });
  const plain = await pool(admin, { name: 'plain', prefixes: ['10.112.0.0/16'] });
  await api.fault('PUT', `/v2.0/subnetpools/${plain.id}`, admin, { subnetpool: { is_default: true } }, 400, 'InvalidInput');
  assert.deepEqual((await api.ok('GET', '/v2.0/subnetpools?is_default=true', admin)).subnetpools.map((x: any) => x.id).sort(), [d4.id, d6.id].sort());

  // Not shared, so not demo's default.
  await api.fault('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, use_default_subnetpool: true } }, 400);
  const own = (await api.ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: n.id, ip_version: 4, use_default_subnetpool: true, enable_dhcp: false, project_id: (n as any).project_id } })).subnet;
  assert.equal(own.subnetpool_id, d4.id);
  assert.equal(own.cidr, '10.110.0.0/24');
  await api.fault('POST', '/v2.0/subnets', admin, { subnet: { network_id: n.id, ip_version: 4, use_default_subnetpool: true, subnetpool_id: d4.id } }, 400);

  // Moving the default: unset on one, then set on another.
  await api.ok('PUT', `/v2.0/subnetpools/${d4.id}`, admin, { subnetpool: { is_default: false } });
  assert.equal((await api.ok('PUT', `/v2.0/subnetpools/${plain.id}`, admin, { subnetpool: { is_default: true } })).subnetpool.is_default, true);
  await api.ok('DELETE', `/v2.0/networks/${n.id}`, demo);
  for (const x of [d4, d6, plain]) await api.ok('DELETE', `/v2.0/subnetpools/${x.id}`, admin);
});

test('hostile bodies never produce a 5xx', async () => {
  const target = await pool(demo, { name: 'target', prefixes: ['10.120.0.0/16'], default_prefixlen: 24 });
  const n = await net(demo);
  const values = [null, true, 0, -1, 1e308, 2 ** 53, '', ' ', 'x', '10.0.0.0/33', '10.0.0.256/8', '::/129', '1.2.3.4/ 8', '01.2.3.4/8', {}, [], [[]], [null], ['10.0.0.0/8', 7], 'A'.repeat(5000)];
  const poolBodies: unknown[] = [
    'not json', '[]', '{"subnetpool": null}', '{"subnetpool": []}', '{"subnetpools": []}', '{"subnetpools": [null]}',
    { subnetpool: { name: 'x', prefixes: ['0.0.0.0/0'], unknown: 1 } },
    { subnetpool: { name: 'x', prefixes: Array.from({ length: 300 }, (_, i) => `10.${i % 256}.${Math.floor(i / 256)}.0/24`).concat(['10.0.0.0/24']) } },
  ];
  for (const attr of ['name', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'default_quota', 'is_default', 'shared', 'address_scope_id', 'description', 'project_id', 'ip_version', 'id', 'tags']) {
    for (const v of values) poolBodies.push({ subnetpool: { name: 'h', prefixes: ['10.121.0.0/16'], [attr]: v } });
  }
  for (const [i, body] of poolBodies.entries()) {
    const r = await api.call('POST', '/v2.0/subnetpools', admin, body);
    assert.ok(r.status < 500, `POST #${i} ${JSON.stringify(body).slice(0, 200)}: ${r.status} ${r.text.slice(0, 300)}`);
    if (r.status === 201) await api.ok('DELETE', `/v2.0/subnetpools/${r.body.subnetpool.id}`, admin);
  }
  for (const attr of ['name', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'default_quota', 'is_default', 'address_scope_id', 'description']) {
    for (const v of values) {
      const r = await api.call('PUT', `/v2.0/subnetpools/${target.id}`, demo, { subnetpool: { [attr]: v } });
      assert.ok(r.status < 500, `PUT ${attr}=${JSON.stringify(v).slice(0, 100)}: ${r.status} ${r.text.slice(0, 300)}`);
    }
  }
  for (const attr of ['subnetpool_id', 'prefixlen', 'use_default_subnetpool', 'cidr', 'gateway_ip']) {
    for (const v of [...values, target.id, '10.120.0.0/24', '10.120.0.1']) {
      const r = await api.call('POST', '/v2.0/subnets', demo, { subnet: { network_id: n.id, ip_version: 4, enable_dhcp: false, subnetpool_id: target.id, [attr]: v } });
      assert.ok(r.status < 500, `subnet ${attr}=${JSON.stringify(v).slice(0, 100)}: ${r.status} ${r.text.slice(0, 300)}`);
      if (r.status === 201) await api.ok('DELETE', `/v2.0/subnets/${r.body.subnet.id}`, demo);
    }
  }
  for (const id of ['x', 'A'.repeat(300), '%00', randomUUID()]) {
    const r = await api.call('GET', `/v2.0/subnetpools/${encodeURIComponent(id)}`, demo);
    assert.equal(r.status, 404, `GET ${id}: ${r.text}`);
  }
  await api.ok('DELETE', `/v2.0/networks/${n.id}`, demo);
  await api.ok('DELETE', `/v2.0/subnetpools/${target.id}`, demo);
});

testOnSharedEngines((engine) => `concurrent allocations from one pool never overlap, and one default per version wins, on ${engine}`, async (hh) => {
  const a = networkApi(hh.networkUrl);
  const token = await hh.adminToken();
  // 16 blocks of /26 in a /22; 20 requests race for them.
  const p = (await a.ok('POST', '/v2.0/subnetpools', token, { subnetpool: { name: 'race', prefixes: ['10.130.0.0/22'], default_prefixlen: 26 } })).subnetpool;
  const nets = await Promise.all(Array.from({ length: 4 }, (_, i) => a.ok('POST', '/v2.0/networks', token, { network: { name: `race${i}` } })));
  const made = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    a.call('POST', '/v2.0/subnets', token, { subnet: { network_id: nets[i % 4].network.id, ip_version: 4, subnetpool_id: p.id, enable_dhcp: false } })));
  const okd = made.filter((r) => r.status === 201).map((r) => r.body.subnet.cidr as string);
  const refused = made.filter((r) => r.status !== 201);
  assert.equal(okd.length, 16, JSON.stringify(refused.map((r) => r.text)));
  assert.ok(refused.every((r) => r.status === 409 && r.body.NeutronError.type === 'SubnetAllocationError'), JSON.stringify(refused.map((r) => r.text)));
  assert.equal(new Set(okd).size, 16, `no CIDR twice: ${okd}`);
  const expected = Array.from({ length: 16 }, (_, i) => `10.130.${Math.floor(i / 4)}.${(i % 4) * 64}/26`);
  assert.deepEqual([...okd].sort(), [...expected].sort(), 'every /26 of the pool, each once');

  const defaults = await Promise.all(Array.from({ length: 4 }, (_, i) =>
    a.call('POST', '/v2.0/subnetpools', token, { subnetpool: { name: `d${i}`, prefixes: [`10.${140 + i}.0.0/16`], is_default: true } })));
  assert.equal(defaults.filter((r) => r.status === 201).length, 1, JSON.stringify(defaults.map((r) => r.text)));
  assert.ok(defaults.every((r) => r.status === 201 || r.status === 400), JSON.stringify(defaults.map((r) => r.text)));
});
