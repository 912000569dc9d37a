// Whole-collection lists for an admin are answered with the stored JSON text (resource/verbatim.ts):
// the answer must be exactly the one the ordinary list path gives, stored rows that are not their
// own rendering included, and never stale after a change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';

let h: IdentityHarness;
let api: NetworkApi;
let admin: string;
let demo: string;
let netId: string;
const portIds: string[] = [];

const storedBody = async (id: string): Promise<string> =>
  String((await h.cloud.network.ctx.db.selectFrom('net_port').select('body').where('id', '=', id).executeTakeFirstOrThrow()).body);
const setStoredBody = async (id: string, obj: Record<string, unknown>): Promise<void> => {
  await h.cloud.network.ctx.db.updateTable('net_port').set({ body: JSON.stringify(obj) }).where('id', '=', id).execute();
};

/** The same list by the verbatim path and by the ordinary one (`sort_key=id` keeps the default order). */
async function bothWays(query: string): Promise<{ fast: any; slow: any; text: string }> {
  const fast = await api.call('GET', `/v2.0/ports${query}`, admin);
  assert.equal(fast.status, 200, fast.text);
  const slow = await api.ok('GET', `/v2.0/ports${query}${query ? '&' : '?'}sort_key=id`, admin);
  return { fast: fast.body, slow, text: fast.text };
}

before(async () => {
  h = await startIdentity();
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  netId = (await api.ok('POST', '/v2.0/networks', admin, { network: { name: 'verbatim' } })).network.id;
  await api.ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: netId, ip_version: 4, cidr: '10.77.0.0/24' } });
  const made = await api.ok('POST', '/v2.0/ports', admin, { ports: Array.from({ length: 12 }, (_, i) => ({ network_id: netId, name: `v-${i % 4}`, device_id: `dev-${i % 3}` })) });
  portIds.push(...made.ports.map((p: { id: string }) => p.id));
});
after(async () => { await h.close(); });

test('filtered and unfiltered admin lists equal the ordinary list, in id order, with the stored text spliced in', async () => {
  for (const q of ['', `?network_id=${netId}`, `?network_id=${netId}&name=v-1&name=v-2`, '?device_owner=network:dhcp', `?id=${portIds[3]}&id=${portIds[7]}`, '?device_id=dev-2&unknown_filter=x']) {
    const { fast, slow } = await bothWays(q);
    assert.deepEqual(fast, slow, q);
    assert.ok(fast.ports.length > 0, `${q}: something listed`);
    const ids = fast.ports.map((p: { id: string }) => p.id);
    assert.deepEqual(ids, [...ids].sort(), `${q}: by id`);
  }
  const { fast, text } = await bothWays(`?network_id=${netId}`);
  assert.equal(fast.ports.length, 13, '12 ports and the DHCP port');
  assert.ok(text.includes(await storedBody(portIds[0]!)), 'the stored JSON went out as it is');
});

test('a stored row that is not its own rendering is rendered: internal keys hidden, missing attributes null', async () => {
  const [a, b] = [portIds[0]!, portIds[1]!];
  await api.ok('GET', `/v2.0/ports?network_id=${netId}`, admin); // rows now known to render as stored
  const withInternal = { ...JSON.parse(await storedBody(a)), _internal_note: 'secret' };
  const { dns_domain: _dropped, ...missingOne } = JSON.parse(await storedBody(b));
  await setStoredBody(a, withInternal);
  await setStoredBody(b, missingOne);
  const { fast, slow, text } = await bothWays(`?network_id=${netId}`);
  assert.deepEqual(fast, slow);
  assert.equal(text.includes('_internal_note'), false);
  const shownB = fast.ports.find((p: { id: string }) => p.id === b);
  assert.equal(shownB.dns_domain, null);
  assert.ok('dns_domain' in shownB);
});

test('a changed row is never served from what was known of its old text', async () => {
  const id = portIds[5]!;
  await api.ok('GET', `/v2.0/ports?network_id=${netId}`, admin);
  await api.ok('PUT', `/v2.0/ports/${id}`, admin, { port: { name: 'renamed' } });
  const { fast, slow } = await bothWays(`?network_id=${netId}`);
  assert.deepEqual(fast, slow);
  const p = fast.ports.find((x: { id: string }) => x.id === id);
  assert.equal(p.name, 'renamed');
  assert.equal(p.revision_number, 2);
  await api.ok('DELETE', `/v2.0/ports/${portIds[6]!}`, admin);
  const after = await api.ok('GET', `/v2.0/ports?network_id=${netId}`, admin);
  assert.equal(after.ports.some((x: { id: string }) => x.id === portIds[6]), false);
});

test('shaped queries and other callers keep the ordinary path (fields, paging, admin-only attributes)', async () => {
  const fields = await api.ok('GET', `/v2.0/ports?network_id=${netId}&fields=id&fields=name`, admin);
  assert.deepEqual(Object.keys(fields.ports[0]).sort(), ['id', 'name']);
  const page = await api.ok('GET', `/v2.0/ports?network_id=${netId}&limit=2`, admin);
  assert.equal(page.ports.length, 2);
  assert.ok(page.ports_links.some((l: { rel: string }) => l.rel === 'next'));
  const mine = (await api.ok('POST', '/v2.0/networks', demo, { network: { name: 'demo-verbatim' } })).network.id;
  await api.ok('POST', '/v2.0/ports', demo, { port: { network_id: mine } });
  const seen = await api.ok('GET', `/v2.0/ports?network_id=${mine}`, demo);
  assert.equal(seen.ports.length, 1);
  assert.equal('binding:host_id' in seen.ports[0], false, 'admin-only attributes stay hidden from a member');
  assert.equal((await api.ok('GET', `/v2.0/ports?network_id=${netId}`, demo)).ports.length, 0, 'another project\'s ports stay invisible');
});
