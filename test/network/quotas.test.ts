// Network quotas over HTTP, as Neutron's quotas and quota_details extensions behave: defaults,
// per-project overrides, who may read and set them, enforcement on create (409 OverQuota), usage
// details, and hostile bodies refused with 4xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';

let h: IdentityHarness;
let api: NetworkApi;
let admin: string;
let demo: string;
let demoProject: string;

const DEFAULTS = { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 };
const project = () => randomUUID().replace(/-/g, '');

before(async () => {
  h = await startIdentity();
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  demoProject = (await api.ok('GET', '/v2.0/quotas/project', demo)).project.project_id;
});
after(async () => { await h?.close(); });

test('defaults are Neutron\'s; show and default agree for a project without overrides; the extensions are advertised', async () => {
  const p = project();
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${p}`, admin)).quota, DEFAULTS);
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${p}/default`, admin)).quota, DEFAULTS);
  const aliases = (await api.ok('GET', '/v2.0/extensions', demo)).extensions.map((e: any) => e.alias);
  for (const a of ['quotas', 'quota_details', 'quota-check-limit']) assert.ok(aliases.includes(a), a);
  assert.deepEqual(await api.ok('GET', '/v2.0/quotas/tenant', demo), { tenant: { tenant_id: demoProject } });
  await api.fault('POST', '/v2.0/quotas', admin, { quota: { network: 1 } }, 501);
});

test('update, list (non-default only), show and reset; only admins write or read other projects', async () => {
  const p = project();
  const set = (await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: 0, port: 0 } })).quota;
  assert.deepEqual(set, { ...DEFAULTS, network: 0, port: 0 });
  const listed = (await api.ok('GET', '/v2.0/quotas', admin)).quotas.find((q: any) => q.project_id === p);
  assert.deepEqual(listed, { ...DEFAULTS, network: 0, port: 0, project_id: p, tenant_id: p });
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${p}`, admin)).quota, set);
  // Upsert: a second update changes one limit and keeps the other.
  assert.equal((await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: '7' } })).quota.network, 7);
  assert.equal((await api.ok('GET', `/v2.0/quotas/${p}`, admin)).quota.port, 0);

  await api.fault('PUT', `/v2.0/quotas/${p}`, demo, { quota: { network: 1 } }, 403, 'PolicyNotAuthorized');
  await api.fault('PUT', `/v2.0/quotas/${demoProject}`, demo, { quota: { network: 1000 } }, 403);
  await api.fault('GET', '/v2.0/quotas', demo, undefined, 403);
  await api.fault('GET', `/v2.0/quotas/${p}`, demo, undefined, 403);
  await api.fault('GET', `/v2.0/quotas/${p}/default`, demo, undefined, 403);
  await api.fault('DELETE', `/v2.0/quotas/${p}`, demo, undefined, 403);
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${demoProject}`, demo)).quota, DEFAULTS, 'a project reads its own');
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${demoProject}/default`, demo)).quota, DEFAULTS);

  await api.ok('DELETE', `/v2.0/quotas/${p}`, admin);
  assert.equal((await api.ok('GET', '/v2.0/quotas', admin)).quotas.some((q: any) => q.project_id === p), false);
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${p}`, admin)).quota, DEFAULTS);
  await api.fault('DELETE', `/v2.0/quotas/${p}`, admin, undefined, 404, 'TenantQuotaNotFound');
});

test('creates beyond the limit fail with 409 OverQuota, bulk creates count whole, -1 is unlimited', async () => {
  const p = project();
  await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: 2, subnet: 1, port: 1 } });
  const n1 = (await api.ok('POST', '/v2.0/networks', admin, { network: { name: 'q1', project_id: p } })).network;
  await api.ok('POST', '/v2.0/networks', admin, { network: { name: 'q2', project_id: p } });
  const msg = await api.fault('POST', '/v2.0/networks', admin, { network: { name: 'q3', project_id: p } }, 409, 'OverQuota');
  assert.equal(msg, "Quota exceeded for resources: ['network'].");

  // A bulk create that does not fit creates nothing.
  await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: 3 } });
  await api.fault('POST', '/v2.0/networks', admin, { networks: [{ name: 'b1', project_id: p }, { name: 'b2', project_id: p }] }, 409, 'OverQuota');
  assert.equal((await api.ok('GET', `/v2.0/networks?project_id=${p}`, admin)).networks.length, 2);

  // Subnets: DHCP off, so the only port is the one the project asks for.
  await api.ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: n1.id, ip_version: 4, cidr: '10.70.0.0/24', enable_dhcp: false, project_id: p } });
  assert.match(await api.fault('POST', '/v2.0/subnets', admin, { subnet: { network_id: n1.id, ip_version: 4, cidr: '10.70.1.0/24', project_id: p } }, 409, 'OverQuota'), /\['subnet'\]/);
  const port = (await api.ok('POST', '/v2.0/ports', admin, { port: { network_id: n1.id, project_id: p } })).port;
  assert.match(await api.fault('POST', '/v2.0/ports', admin, { port: { network_id: n1.id, project_id: p } }, 409, 'OverQuota'), /\['port'\]/);
  // Freeing one makes room again; lowering a limit below usage is allowed without check_limit.
  await api.ok('DELETE', `/v2.0/ports/${port.id}`, admin);
  await api.ok('POST', '/v2.0/ports', admin, { port: { network_id: n1.id, project_id: p } });
  await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: -1 } });
  for (let i = 0; i < 3; i++) await api.ok('POST', '/v2.0/networks', admin, { network: { name: `u${i}`, project_id: p } });

  // check_limit refuses a limit below what is used (quota-check-limit); force is accepted.
  const refused = await api.fault('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: 1, check_limit: true } }, 400);
  assert.match(refused, /must be greater than or equal to already used 5/);
  await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { network: 1, force: true } });
});

test('a member is held to its own project\'s quota', async () => {
  await api.ok('PUT', `/v2.0/quotas/${demoProject}`, admin, { quota: { network: 0 } });
  try {
    await api.fault('POST', '/v2.0/networks', demo, { network: { name: 'over' } }, 409, 'OverQuota');
  } finally {
    await api.ok('DELETE', `/v2.0/quotas/${demoProject}`, admin);
  }
  const n = (await api.ok('POST', '/v2.0/networks', demo, { network: { name: 'fits' } })).network;
  await api.ok('DELETE', `/v2.0/networks/${n.id}`, demo);
});

test('details give limit, used and reserved per resource (details and details.json); DHCP ports count as used', async () => {
  const p = project();
  await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { port: 9 } });
  const net = (await api.ok('POST', '/v2.0/networks', admin, { network: { project_id: p } })).network;
  await api.ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: net.id, ip_version: 4, cidr: '10.71.0.0/24', project_id: p } });
  await api.ok('POST', '/v2.0/ports', admin, { port: { network_id: net.id, project_id: p } });
  for (const suffix of ['details', 'details.json']) {
    const d = (await api.ok('GET', `/v2.0/quotas/${p}/${suffix}`, admin)).quota;
    assert.deepEqual(Object.keys(d).sort(), Object.keys(DEFAULTS).sort());
    for (const v of Object.values(d) as any[]) assert.deepEqual(Object.keys(v).sort(), ['limit', 'reserved', 'used']);
    assert.deepEqual(d.network, { limit: 100, used: 1, reserved: 0 });
    assert.deepEqual(d.subnet, { limit: 100, used: 1, reserved: 0 });
    assert.deepEqual(d.port, { limit: 9, used: 2, reserved: 0 }, 'the DHCP port belongs to the project too');
  }
  assert.equal(typeof (await api.ok('GET', `/v2.0/quotas/${demoProject}/details`, demo)).quota.network.used, 'number');
  await api.fault('GET', `/v2.0/quotas/${p}/details`, demo, undefined, 403, 'AdminRequired');
});

test('hostile quota requests get 4xx in Neutron\'s fault body, never 5xx, and change nothing', async () => {
  const p = project();
  await api.ok('PUT', `/v2.0/quotas/${p}`, admin, { quota: { router: 3 } });
  const bodies: unknown[] = [
    'not json', '[]', 'null', '{"quota": "x"}', { quota: [] }, { quota: null }, { quotas: { network: 1 } }, {},
    { quota: { network: 'many' } }, { quota: { network: -2 } }, { quota: { network: 2 ** 31 } }, { quota: { network: 1.5 } },
    { quota: { network: null } }, { quota: { network: true } }, { quota: { network: [1] } }, { quota: { bogus: 1 } },
    { quota: { subnetpool: 1 } }, { quota: { check_limit: 'perhaps' } }, { quota: { force: {} } }, { quota: { network: '1e3' } },
  ];
  for (const b of bodies) {
    const r = await api.call('PUT', `/v2.0/quotas/${p}`, admin, b);
    assert.ok(r.status >= 400 && r.status < 500, `PUT ${JSON.stringify(b)} → ${r.status} ${r.text}`);
    assert.equal(typeof r.body?.NeutronError?.message, 'string', r.text);
  }
  assert.deepEqual((await api.ok('GET', `/v2.0/quotas/${p}`, admin)).quota, { ...DEFAULTS, router: 3 });
  const long = 'x'.repeat(300);
  const odd = [long, '%00', '..', '%2F', "'%20OR%201=1", '%F0%9F%92%A5'];
  for (const id of odd) {
    for (const [m, path, body] of [['GET', `/v2.0/quotas/${id}`], ['PUT', `/v2.0/quotas/${id}`, { quota: { network: 1 } }], ['DELETE', `/v2.0/quotas/${id}`],
      ['GET', `/v2.0/quotas/${id}/default`], ['GET', `/v2.0/quotas/${id}/details`]] as [string, string, unknown?][]) {
      const r = await api.call(m, path, admin, body);
      assert.ok(r.status < 500, `${m} ${path} → ${r.status} ${r.text}`);
    }
  }
  await api.fault('PUT', `/v2.0/quotas/${long}`, admin, { quota: { network: 1 } }, 400);
  // Clean up the odd project ids that were valid enough to store.
  for (const id of odd.slice(1)) await api.call('DELETE', `/v2.0/quotas/${id}`, admin);
});
