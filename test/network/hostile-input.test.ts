// Generated: walks every network route with hostile ids, query strings and bodies. Expectation:
// never a 5xx, always Neutron's fault body on a 4xx, and no state change from a rejected call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { routesOf } from '../../src/platform/http/server.js';

let h: IdentityHarness;
let admin: string;
let demo: string;
const ids: Record<string, string> = {};

async function call(method: string, url: string, token: string | undefined, body?: string) {
  return h.cloud.network.app.inject({
    method: method as never, url, payload: body,
    headers: { ...(token ? { 'x-auth-token': token } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  });
}

/** SQLite's count of rows written so far on the cloud's connection: unchanged means nothing was written. */
async function writes(): Promise<number> {
  const { sql } = await import('kysely');
  const r = await sql<{ n: number }>`select total_changes() as n`.execute(h.cloud.network.ctx.db);
  return Number(r.rows[0]!.n);
}

/** Every network table's rows: compared only when a call wrote something (it may have rolled back). */
async function snapshot(): Promise<string> {
  const db = h.cloud.network.ctx.db as unknown as import('kysely').Kysely<Record<string, unknown>>;
  const tables = (await db.introspection.getTables()).map((t) => t.name).filter((n) => n.startsWith('net_')).sort();
  const out: string[] = [];
  for (const t of tables) {
    const rows = await db.selectFrom(t as never).selectAll().execute();
    out.push(`${t}=${rows.length}:${rows.map((r) => JSON.stringify(r)).sort().join('').length}`);
  }
  return out.join(' ');
}

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  const post = async (path: string, body: unknown) => {
    const r = await call('POST', path, demo, JSON.stringify(body));
    assert.equal(r.statusCode, 201, r.body);
    return r.json();
  };
  ids.network = (await post('/v2.0/networks', { network: { name: 'h' } })).network.id;
  ids.subnet = (await post('/v2.0/subnets', { subnet: { network_id: ids.network, cidr: '10.66.0.0/24', ip_version: 4 } })).subnet.id;
  ids.port = (await post('/v2.0/ports', { port: { network_id: ids.network } })).port.id;
  // Listing security groups creates a project's default group (as Neutron does): do it up front,
  // so that a later rejected list does not look like a state change.
  for (const t of [admin, demo]) assert.equal((await call('GET', '/v2.0/security-groups', t)).statusCode, 200);
});
after(async () => { await h?.close(); });

const hostileIds = () => ['x'.repeat(300), '%00', "' OR 1=1 --", ids.network!, ids.port!];
const bodies = [
  '{bad json', '[]', 'null', '"string"', '12', '{}', JSON.stringify({ a: 'x'.repeat(70000) }),
  '{"__proto__":{"polluted":true}}',
  JSON.stringify({ network: { name: 12, admin_state_up: 'maybe', mtu: -1, shared: 'yes', 'provider:network_type': 'gre' } }),
  JSON.stringify({ network: { 'provider:network_type': 'vlan', 'provider:segmentation_id': 99999 } }),
  JSON.stringify({ subnet: { network_id: 'nope', cidr: '300.1.1.1/99', ip_version: 5 } }),
  JSON.stringify({ subnet: { network_id: '%NET%', cidr: '10.66.0.0/24', ip_version: 4 } }),
  JSON.stringify({ subnet: { network_id: '%NET%', cidr: '10.67.0.0/24', ip_version: 4, allocation_pools: [{ start: '10.67.0.9', end: '10.67.0.2' }], gateway_ip: 'x', dns_nameservers: ['a'], host_routes: [{ destination: 'x' }] } }),
  JSON.stringify({ subnet: { network_id: '%NET%', cidr: '::/0', ip_version: 6, ipv6_ra_mode: 'bogus' } }),
  JSON.stringify({ port: { network_id: '%NET%', mac_address: 'zz:zz', fixed_ips: [{ ip_address: '10.66.0.999' }], allowed_address_pairs: [{}], security_groups: ['x'] } }),
  JSON.stringify({ port: { network_id: '%NET%', fixed_ips: [{ subnet_id: '%SUB%', ip_address: '10.66.0.0' }] } }),
  JSON.stringify({ port: { network_id: '%NET%', mac_address: 'ff:ff:ff:ff:ff:ff', 'binding:profile': 'x', device_owner: 'network:router_interface' } }),
  JSON.stringify({ networks: [] }), JSON.stringify({ networks: [{ name: 'ok' }, { mtu: 'x' }] }),
  JSON.stringify({ security_group: { name: 7 } }), JSON.stringify({ security_group_rule: { direction: 'sideways', protocol: 'tcp', port_range_min: 90, port_range_max: 80, remote_ip_prefix: 'x' } }),
  JSON.stringify({ router: { external_gateway_info: { network_id: 'x', external_fixed_ips: 'a' }, routes: [{ destination: 'x', nexthop: 'y' }] } }),
  JSON.stringify({ floatingip: { floating_network_id: '%NET%', port_id: 'x', floating_ip_address: '1.2.3' } }),
  JSON.stringify({ quota: { network: 'lots', port: -7 } }), JSON.stringify({ subnet_id: 'x', port_id: 'y' }), JSON.stringify({ tags: [1, {}] }),
  JSON.stringify({ agent: { admin_state_up: 'x' } }), JSON.stringify({ network_id: 'x' }),
];
const queries = ['?limit=-1', '?limit=abc', '?marker=nope&limit=1', '?sort_key=__proto__', '?sort_dir=sideways&sort_key=name', '?fields=__proto__', '?fixed_ips=ip_address%3D%00', '?tags=%00,' + 'x'.repeat(500)];

test('every network route answers hostile input with a 4xx in Neutron form, never a 5xx (501 for what Neutron does not offer), and rejected calls change nothing', async (t) => {
  const routes = routesOf(h.cloud.network.app);
  assert.ok(routes.length > 20, `expected the whole API, got ${routes.length} routes`);
  const failures: string[] = [];
  let calls = 0;
  let state = await snapshot();
  let written = await writes();
  const check = async (method: string, path: string, token: string | undefined, body: string | undefined, label: string) => {
    calls++;
    const res = await call(method, path, token, body);
    const where = `${method} ${path.slice(0, 90)} ${label} token=${token === admin ? 'admin' : token === demo ? 'demo' : token ?? 'none'}`;
    if (res.statusCode >= 500 && res.statusCode !== 501) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400) {
      let parsed: any;
      try { parsed = JSON.parse(res.body); } catch { /* checked below */ }
      const neutron = typeof parsed?.NeutronError?.message === 'string' && typeof parsed.NeutronError.type === 'string';
      const keystone401 = res.statusCode === 401 && parsed?.error?.code === 401;
      if (!neutron && !keystone401) failures.push(`bad fault body ${where}: ${res.body.slice(0, 160)}`);
    }
    const w = await writes();
    if (w === written) return;
    written = w;
    const now = await snapshot();
    if (res.statusCode >= 400 && now !== state) failures.push(`state changed by a rejected call (${res.statusCode}) ${where}`);
    state = now;
  };
  for (const r of routes) {
    if (r.method === 'HEAD' || r.method === 'OPTIONS') continue;
    const paths = r.url.includes(':') ? hostileIds().map((v) => r.url.replace(/:[A-Za-z_]+/g, v)) : [r.url];
    const writes = ['POST', 'PUT'].includes(r.method);
    for (const path of paths) {
      if (r.method === 'DELETE' && (path.includes(ids.network!) || path.includes(ids.port!))) continue; // a real delete is not a rejection
      for (const token of [admin, demo, undefined, 'gAAAAABnot-a-token']) {
        if (r.method === 'GET' && !r.url.includes(':') && (token === admin || token === demo)) {
          for (const q of queries) await check('GET', `${path}${q}`, token, undefined, q);
        }
        if (!writes) { await check(r.method, path, token, undefined, ''); continue; }
        if (token !== admin && token !== demo) { await check(r.method, path, token, '{}', 'body={}'); continue; }
        // Every body as admin (who may do most); as the member only those on real objects.
        if (token === demo && !path.includes(ids.network!) && !path.includes(ids.port!) && r.url.includes(':')) continue;
        for (const b of bodies) {
          const body = b.replace('%NET%', ids.network!).replace('%SUB%', ids.subnet!);
          await check(r.method, path, token, body, `body=${b.slice(0, 50)}`);
        }
      }
    }
  }
  t.diagnostic(`${calls} hostile calls over ${routes.length} routes`);
  assert.deepEqual(failures.slice(0, 25), []);
});
