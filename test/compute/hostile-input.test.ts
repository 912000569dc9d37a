// Generated: walks every route of the compute API foundation (flavors, key pairs, quotas, limits,
// services, zones, hypervisors, aggregates, versions) with hostile ids, queries, bodies and
// microversions. Expectation: never a 5xx (501 where something is not offered), always Nova's
// fault body on a 4xx, and no state change from a rejected call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { routesOf } from '../../src/platform/http/server.js';

let h: IdentityHarness;
let admin: string;
let demo: string;
const ids: Record<string, string> = {};
/** The collections this foundation serves (other parts of compute register more routes on the same app). */
const OURS = /^\/v2(\.1)?(\/:project_id)?(\/(flavors|os-keypairs|os-quota-sets|os-quota-class-sets|limits|os-services|os-availability-zone|os-hypervisors|os-aggregates|extensions|versions)(\/|$)|$)|^\/$/;

async function call(method: string, url: string, token: string | undefined, body: string | undefined, version?: string) {
  return h.cloud.compute.app.inject({
    method: method as never, url, payload: body,
    headers: {
      ...(token ? { 'x-auth-token': token } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(version ? { 'openstack-api-version': `compute ${version}` } : {}),
    },
  });
}

/** SQLite's count of rows written so far on the cloud's connection: unchanged means nothing was written. */
async function writes(): Promise<number> {
  const r = await sql<{ n: number }>`select total_changes() as n`.execute(h.cloud.compute.ctx.db);
  return Number(r.rows[0]!.n);
}

/** Every compute table's rows, compared only when a call wrote something. */
async function snapshot(): Promise<string> {
  const db = h.cloud.compute.ctx.db as unknown as Kysely<Record<string, unknown>>;
  const tables = (await db.introspection.getTables()).map((t) => t.name).filter((n) => n.startsWith('compute_')).sort();
  const out: string[] = [];
  for (const t of tables) {
    const rows = await db.selectFrom(t as never).selectAll().execute();
    out.push(`${t}=${rows.length}:${rows.map((r) => JSON.stringify(r)).sort().join('|')}`);
  }
  return out.join(' ');
}

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  const post = async (path: string, body: unknown, token = admin) => {
    const r = await call('POST', path, token, JSON.stringify(body));
    assert.ok(r.statusCode < 300, r.body);
    return r.json();
  };
  ids.flavor = (await post('/v2.1/flavors', { flavor: { name: 'hostile', id: 'hostile-flavor', ram: 64, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false } })).flavor.id;
  await post(`/v2.1/flavors/${ids.flavor}/os-extra_specs`, { extra_specs: { k: 'v' } });
  ids.keypair = (await post('/v2.1/os-keypairs', { keypair: { name: 'hostile-key' } }, demo)).keypair.name;
  await h.cloud.compute.heartbeat(`hx${process.pid}`, 'nova-compute');
  ids.node = String((await h.cloud.compute.reportHypervisor(`hx${process.pid}`, { hypervisor_type: 'QEMU', hypervisor_version: 7002000, vcpus: 2, memory_mb: 2048, local_gb: 10 })).id);
  ids.aggregate = String((await post('/v2.1/os-aggregates', { aggregate: { name: 'hostile-agg', availability_zone: 'hz' } })).aggregate.id);
  ids.host = `hx${process.pid}`;
});
after(async () => { await h?.close(); });

const hostileIds = () => ['x'.repeat(300), '%00', "'%20OR%201=1%20--", '-1', '99999999999999999999', '1.5', ids.flavor!, ids.keypair!, ids.node!, ids.aggregate!];
const bodies = [
  '{bad json', '[]', 'null', '"string"', '12', '{}', JSON.stringify({ a: 'x'.repeat(70000) }), '{"__proto__":{"polluted":true}}',
  JSON.stringify({ flavor: { name: 7, ram: -1, vcpus: 'x', disk: [], id: {} } }),
  JSON.stringify({ flavor: { name: 'h2', ram: 1e30, vcpus: 1.5, disk: '1e3', rxtx_factor: 'NaN' } }),
  JSON.stringify({ flavor: { description: 'x'.repeat(70000) } }),
  JSON.stringify({ extra_specs: { ['k'.repeat(300)]: 'v' } }), JSON.stringify({ extra_specs: [] }), JSON.stringify({ extra_specs: { a: { b: 1 } } }),
  JSON.stringify({ k: null }),
  JSON.stringify({ addTenantAccess: { tenant: '' } }), JSON.stringify({ removeTenantAccess: { tenant: 'x'.repeat(300) } }), JSON.stringify({ addTenantAccess: 'x' }),
  JSON.stringify({ keypair: { name: 'ok-name', public_key: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ== x', type: 'ssh' } }),
  JSON.stringify({ keypair: { name: 'ok-name', public_key: 7, user_id: [] } }), JSON.stringify({ keypair: { name: '\u0000' } }),
  JSON.stringify({ quota_set: { instances: '1e3', cores: true, ram: null } }), JSON.stringify({ quota_set: { force: 'yes', key_pairs: -5 } }),
  JSON.stringify({ quota_class_set: { instances: 'x' } }),
  JSON.stringify({ host: '%HOST%', binary: 'nova-compute', disabled_reason: '' }), JSON.stringify({ host: 'a b', binary: 7 }),
  JSON.stringify({ status: 'maybe', forced_down: 'perhaps' }),
  JSON.stringify({ aggregate: { name: '', availability_zone: 'a:b' } }), JSON.stringify({ aggregate: { name: 'hostile-agg' } }),
  JSON.stringify({ add_host: { host: '' } }), JSON.stringify({ remove_host: { host: 'no-such-host' } }),
  JSON.stringify({ set_metadata: { metadata: { availability_zone: '' } } }), JSON.stringify({ set_metadata: { metadata: 'x' } }),
  JSON.stringify({ cache: [{ id: 'not-a-uuid' }] }),
];
const queries = ['?limit=-1', '?limit=abc', '?marker=nope&limit=1', '?sort_key=__proto__', '?sort_dir=sideways', '?is_public=maybe', '?minRam=x&minDisk=%00',
  '?user_id=%00', '?tenant_id=' + 'x'.repeat(300), '?host=%00&binary=' + 'b'.repeat(300), '?hypervisor_hostname_pattern=%25&with_servers=perhaps', '?colour=red'];

test('every compute foundation route answers hostile input with a 4xx in Nova form, never a 5xx, and rejected calls change nothing', async (t) => {
  const routes = routesOf(h.cloud.compute.app).filter((r) => OURS.test(r.url) && !r.url.startsWith('/v2/'));
  assert.ok(routes.length > 40, `expected the whole foundation, got ${routes.length} routes`);
  const failures: string[] = [];
  let calls = 0;
  let state = await snapshot();
  let written = await writes();
  const check = async (method: string, path: string, token: string | undefined, body: string | undefined, version: string | undefined, label: string) => {
    calls++;
    const res = await call(method, path, token, body, version);
    const where = `${method} ${path.slice(0, 90)} ${label} v=${version ?? '-'} token=${token === admin ? 'admin' : token === demo ? 'demo' : token ?? 'none'}`;
    if (res.statusCode >= 500 && res.statusCode !== 501) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400) {
      let parsed: any;
      try { parsed = JSON.parse(res.body); } catch { /* checked below */ }
      const name = parsed && Object.keys(parsed).length === 1 ? Object.keys(parsed)[0] : undefined;
      const nova = name !== undefined && parsed[name]?.code === res.statusCode && typeof parsed[name].message === 'string';
      if (!nova) failures.push(`bad fault body ${where}: ${res.body.slice(0, 160)}`);
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
    if (r.url.includes(':project_id') && !r.url.endsWith('/flavors') && !r.url.endsWith('/os-keypairs')) continue; // one sample of the project form is enough
    const concrete = r.url.replace(':project_id', 'not-my-project');
    const paths = concrete.includes(':') ? hostileIds().map((v) => concrete.replace(/:[A-Za-z_]+/g, v)) : [concrete];
    const writing = ['POST', 'PUT'].includes(r.method);
    for (const path of paths) {
      // A real delete of a real object is not a rejection.
      if (r.method === 'DELETE' && Object.values(ids).some((v) => path.endsWith(`/${v}`))) continue;
      for (const token of [admin, demo, undefined, 'gAAAAABnot-a-token']) {
        for (const version of token === admin ? [undefined, '2.10', '2.90'] : [undefined]) {
          if (r.method === 'GET' && !r.url.includes(':id') && token === admin) {
            for (const q of queries) await check('GET', `${path}${q}`, token, undefined, version, q);
          }
          if (!writing) { await check(r.method, path, token, undefined, version, ''); continue; }
          if (token !== admin && token !== demo) { await check(r.method, path, token, '{}', version, 'body={}'); continue; }
          for (const b of bodies) await check(r.method, path, token, b.replace('%HOST%', ids.host!), version, `body=${b.slice(0, 50)}`);
        }
      }
    }
  }
  t.diagnostic(`${calls} hostile calls over ${routes.length} routes`);
  assert.deepEqual(failures.slice(0, 25), []);
});
