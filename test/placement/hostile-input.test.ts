// Generated: walks every placement route with hostile ids, bodies, query strings, microversions
// and content types. Expectation: never a 5xx; every refusal is placement's fault body (or
// keystonemiddleware's for a 401); and (checked on SQLite) a refused call changes nothing. The
// walk also runs on PostgreSQL and MariaDB, whose type and text rules differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { testOnSharedEngines } from '../lib/databases.js';
import { routesOf } from '../../src/platform/http/server.js';

let h: IdentityHarness;
let admin: string;
const real: Record<string, string> = {};

async function inject(method: string, url: string, o: { token?: string; body?: string; version?: string; contentType?: string } = {}) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers['x-auth-token'] = o.token;
  if (o.version) headers['openstack-api-version'] = `placement ${o.version}`;
  if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  return h.cloud.placement.app.inject({ method: method as never, url, headers, payload: o.body });
}

/** SQLite's count of rows written so far on the cloud's connection (rolled back or not): unchanged means nothing was written. */
async function writes(): Promise<number> {
  const { sql } = await import('kysely');
  const r = await sql<{ n: number }>`select total_changes() as n`.execute(h.cloud.placement.ctx.db);
  return Number(r.rows[0]!.n);
}

/** Every placement row, summarised: compared when a refused call wrote anything (it must have rolled back). */
async function snapshot(): Promise<string> {
  const db = h.cloud.placement.ctx.db as unknown as import('kysely').Kysely<Record<string, unknown>>;
  const out: string[] = [];
  for (const t of ['placement_provider', 'placement_inventory', 'placement_allocation', 'placement_consumer', 'placement_provider_trait', 'placement_provider_aggregate', 'placement_trait', 'placement_resource_class']) {
    const rows = await db.selectFrom(t as never).selectAll().execute();
    out.push(`${t}=${rows.map((r) => JSON.stringify(r)).sort().join('')}`);
  }
  return out.join('\n');
}

/** The fixtures the walk keeps intact: a provider with inventory and one consumer's allocation. */
async function setup(harness: IdentityHarness): Promise<void> {
  h = harness;
  admin = await h.adminToken();
  const rp = await inject('POST', '/resource_providers', { token: admin, version: '1.39', body: JSON.stringify({ name: 'hostile-host' }) });
  assert.equal(rp.statusCode, 200, rp.body);
  real.uuid = rp.json().uuid;
  const inv = await inject('PUT', `/resource_providers/${real.uuid}/inventories`, { token: admin, version: '1.39', body: JSON.stringify({ resource_provider_generation: 0, inventories: { VCPU: { total: 4 }, DISK_GB: { total: 100 } } }) });
  assert.equal(inv.statusCode, 200, inv.body);
  real.consumer = randomUUID();
  const alloc = await inject('PUT', `/allocations/${real.consumer}`, { token: admin, version: '1.39', body: JSON.stringify({ allocations: { [real.uuid]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' }) });
  assert.equal(alloc.statusCode, 204, alloc.body);
}

const ids = () => ['x'.repeat(300), '%00', "'%20OR%201=1%20--", 'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ', real.uuid!, real.consumer!];
const names = ['VCPU', 'CUSTOM_X', 'lower', '%00', 'A'.repeat(300)];
const bodies = () => [
  '{bad json', '[]', 'null', '"string"', '12', '{}', '{"__proto__":{"polluted":true}}', JSON.stringify({ a: 'x'.repeat(70000) }),
  JSON.stringify({ name: 12, uuid: 'nope', parent_provider_uuid: 'x' }), JSON.stringify({ name: 'nul\u0000here' }),
  JSON.stringify({ allocations: {}, project_id: 'p\u0000', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' }),
  JSON.stringify({ name: 'n', parent_provider_uuid: real.uuid, uuid: real.uuid }),
  JSON.stringify({ name: 'y'.repeat(201) }),
  JSON.stringify({ resource_provider_generation: 'zero', inventories: { VCPU: { total: '8' } } }),
  JSON.stringify({ resource_provider_generation: 0, inventories: { VCPU: { total: 2 ** 53, reserved: -1, allocation_ratio: 1e308 } } }),
  JSON.stringify({ resource_provider_generation: 9e15, inventories: { vcpu: { total: 1 }, CUSTOM_NONE: { total: 1 } } }),
  JSON.stringify({ resource_class: 'VCPU', total: 1, min_unit: 0, step_size: 0 }),
  JSON.stringify({ total: 1e300, resource_provider_generation: 0 }),
  JSON.stringify({ allocations: { [real.uuid!]: { resources: { VCPU: 1e20, DISK_GB: 2 ** 31 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' }),
  JSON.stringify({ allocations: { [real.uuid!]: { resources: { VCPU: 0 } } }, project_id: '', user_id: 'u'.repeat(300), consumer_generation: 'x', consumer_type: 'lower' }),
  JSON.stringify({ allocations: [{ resource_provider: { uuid: 'x' }, resources: { VCPU: -1 } }] }),
  JSON.stringify({ allocations: {}, project_id: 'p', user_id: 'u', consumer_generation: 12345, consumer_type: 'INSTANCE', mappings: { '': ['x'] } }),
  JSON.stringify({ [real.consumer!]: { allocations: { [randomUUID()]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: 1, consumer_type: 'X' } }),
  JSON.stringify({ traits: ['CUSTOM_NOPE', 7], resource_provider_generation: 0 }),
  JSON.stringify({ aggregates: ['x', 'x'], resource_provider_generation: 0 }), JSON.stringify(['not-a-uuid']),
  JSON.stringify({ inventories: { [real.uuid!]: { resource_provider_generation: 0, inventories: { VCPU: { total: 1 } } } }, allocations: { x: 1 } }),
  JSON.stringify({ inventories: { [randomUUID()]: { resource_provider_generation: 0, inventories: {} } }, allocations: {} }),
];
const queries = [
  '?resources=VCPU:99999999999999999999', '?resources=', '?resources=VCPU', '?resources=VCPU:1,VCPU:x', '?resources=:1', '?required=!', '?required=in:',
  '?resources=VCPU:1&required=!!!!', '?member_of=in:', '?member_of=x,y', '?member_of=!in:x', '?limit=-1', '?limit=abc', '?limit=99999999999999999999999&resources=VCPU:1',
  '?in_tree=x', '?name=%00', '?uuid=x', '?resources=VCPU:1&group_policy=bogus', '?resources_%00=VCPU:1', `?resources${'9'.repeat(70)}=VCPU:1`,
  '?resources=VCPU:1&root_required=A&root_required=B', '?resources=VCPU:1&same_subtree=,', '?project_id=', '?project_id=p&consumer_type=lower', '?associated=maybe', '?name=in:', '?name=bad',
  '?resources=VCPU:1&required=CUSTOM_NOT_THERE', '?resources=NOT_A_CLASS:1',
];
async function walk(o: { versions: readonly string[]; stateCheck: boolean }): Promise<void> {
  const versions = o.versions;
  const routes = routesOf(h.cloud.placement.app).filter((r) => r.method !== 'HEAD');
  assert.ok(routes.length >= 20, `only ${routes.length} routes`);
  let calls = 0;
  let state = o.stateCheck ? await snapshot() : '';
  const stateCheck = o.stateCheck;
  const check = async (method: string, url: string, opts: { token?: string; body?: string; version?: string; contentType?: string }) => {
    const written = stateCheck ? await writes() : 0;
    const res = await inject(method, url, opts);
    calls++;
    const what = `${method} ${url} v${opts.version} ${opts.contentType ?? ''} body=${opts.body?.slice(0, 120)}`;
    assert.ok(res.statusCode < 500, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
    if (res.statusCode >= 400) {
      const body = res.json();
      if (res.statusCode === 401) assert.equal(body.error.code, 401, what);
      else {
        const e = body.errors?.[0];
        assert.ok(e && e.status === res.statusCode && typeof e.title === 'string' && typeof e.detail === 'string' && /^req-/.test(e.request_id), `${what} → ${res.body}`);
      }
      if (stateCheck && await writes() !== written) assert.equal(await snapshot(), state, `${what} → ${res.statusCode} changed state`);
    } else if (stateCheck && await writes() !== written) {
      state = await snapshot();
    }
  };
  for (const r of routes) {
    const fill = (id: string, name: string) => r.url.replace(':uuid', id).replace(':consumer', id).replace(':rc', name).replace(':name', name);
    const urls = new Set<string>([fill(real.uuid!, 'VCPU')]);
    for (const id of ids()) urls.add(fill(id, 'VCPU'));
    for (const n of names) urls.add(fill(real.uuid!, n));
    for (const url of urls) {
      for (const version of versions) {
        if (r.method === 'GET') {
          await check('GET', url, { token: admin, version });
          if (version === '1.39') for (const q of queries) await check('GET', `${url}${q}`, { token: admin, version });
        } else if (r.method === 'POST' || r.method === 'PUT') {
          const list = version === '1.39' || version === '1.14' ? bodies() : ['{bad json', '{}'];
          for (const body of list) await check(r.method, url, { token: admin, version, body });
          await check(r.method, url, { token: admin, version, body: '{}', contentType: 'text/plain' });
          await check(r.method, url, { token: admin, version });
        } else {
          // DELETE and the 405 catch-alls: only on made-up ids, so the fixtures stay.
          if (r.method === 'DELETE' && (url.includes(real.uuid!) || url.includes(real.consumer!))) continue;
          await check(r.method, url, { token: admin, version });
        }
      }
      await check(r.method === 'HEAD' ? 'GET' : r.method, url, { version: '1.39' });
    }
  }
  assert.ok(calls > 1000, `only ${calls} calls`);

  // Extremes within the rules: the largest total, a huge ratio, and usage summing past 2^31.
  const MAX = 2147483647;
  const big = (await inject('POST', '/resource_providers', { token: admin, version: '1.39', body: JSON.stringify({ name: `big-${randomUUID()}` }) })).json().uuid;
  const inv = await inject('PUT', `/resource_providers/${big}/inventories`, { token: admin, version: '1.39', body: JSON.stringify({ resource_provider_generation: 0, inventories: { VCPU: { total: MAX, allocation_ratio: 1e30 } } }) });
  assert.equal(inv.statusCode, 200, inv.body);
  for (let i = 0; i < 3; i++) {
    const r = await inject('PUT', `/allocations/${randomUUID()}`, { token: admin, version: '1.39', body: JSON.stringify({ allocations: { [big]: { resources: { VCPU: MAX } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' }) });
    assert.equal(r.statusCode, 204, r.body);
  }
  assert.equal((await inject('GET', `/resource_providers/${big}/usages`, { token: admin, version: '1.39' })).json().usages.VCPU, 3 * MAX);
  const cands = await inject('GET', `/allocation_candidates?resources=VCPU:${MAX}`, { token: admin, version: '1.39' });
  assert.equal(cands.statusCode, 200, cands.body);
  assert.ok(cands.json().allocation_requests.some((r: any) => r.allocations[big]));
  const listed = await inject('GET', `/resource_providers?resources=VCPU:${MAX}`, { token: admin, version: '1.39' });
  assert.deepEqual(listed.json().resource_providers.map((p: any) => p.uuid), [big]);
  // The fixtures survived everything: the provider and its allocation are intact.
  const alloc = await inject('GET', `/allocations/${real.consumer}`, { token: admin, version: '1.39' });
  assert.deepEqual(alloc.json().allocations[real.uuid!].resources, { VCPU: 1 });
}

test('SQLite: every placement route answers hostile input with a 4xx in placement form, never a 5xx, and rejected calls change nothing', async () => {
  const harness = await startIdentity();
  try {
    await setup(harness);
    await walk({ versions: ['1.0', '1.14', '1.39', '1.99', 'bad'], stateCheck: true });
  } finally { await harness.close(); }
});

testOnSharedEngines((engine) => `${engine}: every placement route answers hostile input with a 4xx in placement form, never a 5xx`, async (harness) => {
  await setup(harness);
  await walk({ versions: ['1.0', '1.39'], stateCheck: false });
});
