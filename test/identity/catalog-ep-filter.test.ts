import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { buildCatalog } from '../../src/identity/catalog/build.js';

let h: IdentityHarness;
let admin: string;
let member: string;
let demoProject: string;
let svcA: string;
let svcB: string;
const ep: Record<string, string> = {};

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  member = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  demoProject = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow()).id;
  svcA = (await call('POST', '/v3/services', { service: { type: 'filt-a', name: 'a' } })).body.service.id;
  svcB = (await call('POST', '/v3/services', { service: { type: 'filt-b', name: 'b' } })).body.service.id;
  for (const [key, service_id, iface] of [['aPub', svcA, 'public'], ['aInt', svcA, 'internal'], ['bPub', svcB, 'public']] as const) {
    ep[key] = (await call('POST', '/v3/endpoints', { endpoint: { service_id, interface: iface, url: `http://${key}/`, region_id: 'RegionOne' } })).body.endpoint.id;
  }
});
after(async () => { await h.close(); });

const call = (method: string, path: string, body?: unknown, token = admin) => h.request(method, path, { token, body });
const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();

test('endpoint groups: CRUD, HEAD, validation', async () => {
  const bad = async (endpoint_group: Record<string, unknown>) => (await call('POST', '/v3/OS-EP-FILTER/endpoint_groups', { endpoint_group })).status;
  assert.equal(await bad({ name: 'g', filters: {} }), 400);
  assert.equal(await bad({ name: 'g', filters: { enabled: true } }), 400);
  assert.equal(await bad({ filters: { service_id: svcA } }), 400);
  assert.equal(await bad({ name: 'g', filters: 'x' }), 400);

  const g = await call('POST', '/v3/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'g1', description: 'd', filters: { service_id: svcA } } });
  assert.equal(g.status, 201);
  const gid = g.body.endpoint_group.id;
  assert.deepEqual(g.body.endpoint_group.filters, { service_id: svcA });
  assert.match(g.body.endpoint_group.links.self, new RegExp(`/v3/OS-EP-FILTER/endpoint_groups/${gid}$`));

  const list = await call('GET', '/v3/OS-EP-FILTER/endpoint_groups');
  assert.deepEqual(list.body.endpoint_groups, [g.body.endpoint_group]);
  const head = await call('HEAD', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`);
  assert.equal(head.status, 200);
  assert.equal((await call('HEAD', '/v3/OS-EP-FILTER/endpoint_groups/nope')).status, 404);

  const inGroup = await call('GET', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/endpoints`);
  assert.deepEqual(ids(inGroup.body.endpoints), [ep.aPub, ep.aInt].sort());

  const u = await call('PATCH', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`, { endpoint_group: { name: 'g2', filters: { service_id: svcA, interface: 'public' } } });
  assert.equal(u.status, 200);
  assert.equal(u.body.endpoint_group.name, 'g2');
  assert.equal(u.body.endpoint_group.description, 'd');
  const narrowed = await call('GET', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/endpoints`);
  assert.deepEqual(ids(narrowed.body.endpoints), [ep.aPub]);
  assert.equal((await call('PATCH', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`, { endpoint_group: { filters: { url: 'x' } } })).status, 400);

  assert.equal((await call('POST', '/v3/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'm', filters: { service_id: svcA } } }, member)).status, 403);
  assert.equal((await call('DELETE', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`)).status, 204);
  assert.equal((await call('GET', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`)).status, 404);
});

test('project ↔ endpoint associations filter the project catalog', async () => {
  const before = await buildCatalog(h.id, demoProject);
  assert.ok(before.some((c) => c.id === svcB), 'no filter: full catalog');

  const path = `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints/${ep.aPub}`;
  assert.equal((await call('HEAD', path)).status, 404);
  assert.equal((await call('PUT', path)).status, 204);
  assert.equal((await call('PUT', path)).status, 204);
  assert.equal((await call('HEAD', path)).status, 204);
  assert.equal((await call('GET', path)).status, 204);
  assert.equal((await call('PUT', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints/nope`)).status, 404);
  assert.equal((await call('PUT', `/v3/OS-EP-FILTER/projects/nope/endpoints/${ep.aPub}`)).status, 404);

  const listed = await call('GET', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints`);
  assert.deepEqual(ids(listed.body.endpoints), [ep.aPub]);
  const projects = await call('GET', `/v3/OS-EP-FILTER/endpoints/${ep.aPub}/projects`);
  assert.deepEqual(ids(projects.body.projects), [demoProject]);
  assert.equal(projects.body.projects[0].name, 'demo');

  const filtered = await buildCatalog(h.id, demoProject);
  assert.deepEqual(filtered.map((c) => c.id), [svcA], 'only the service with an associated endpoint remains');
  assert.deepEqual(filtered[0].endpoints.map((e) => e.id), [ep.aPub]);
  // The member's token catalog follows the filter.
  const tok = await h.request('GET', '/v3/auth/catalog', { token: member });
  assert.equal(tok.status, 200);
  assert.deepEqual(tok.body.catalog.map((c: { id: string }) => c.id), [svcA]);
  // Other projects are untouched.
  const adminProject = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
  assert.ok((await buildCatalog(h.id, adminProject)).some((c) => c.id === svcB));

  // An endpoint group adds to the direct associations.
  const g = (await call('POST', '/v3/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'b-only', filters: { service_id: svcB } } })).body.endpoint_group;
  const gp = `/v3/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${demoProject}`;
  assert.equal((await call('GET', gp)).status, 404);
  assert.equal((await call('PUT', gp)).status, 204);
  assert.equal((await call('PUT', gp)).status, 409);
  const assoc = await call('GET', gp);
  assert.equal(assoc.status, 200);
  assert.deepEqual({ ...assoc.body.project_endpoint_group, links: undefined }, { endpoint_group_id: g.id, project_id: demoProject, links: undefined });
  assert.deepEqual(ids((await call('GET', `/v3/OS-EP-FILTER/endpoint_groups/${g.id}/projects`)).body.projects), [demoProject]);
  assert.deepEqual(ids((await call('GET', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoint_groups`)).body.endpoint_groups), [g.id]);
  assert.deepEqual(ids((await call('GET', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints`)).body.endpoints), [ep.aPub, ep.bPub].sort());
  assert.deepEqual((await buildCatalog(h.id, demoProject)).map((c) => c.id).sort(), [svcA, svcB].sort());

  // Removing associations restores the full catalog.
  assert.equal((await call('DELETE', gp)).status, 204);
  assert.equal((await call('DELETE', gp)).status, 404);
  assert.equal((await call('DELETE', path)).status, 204);
  assert.equal((await call('DELETE', path)).status, 404);
  assert.ok((await buildCatalog(h.id, demoProject)).some((c) => c.id === svcB));
  assert.equal((await call('PUT', path, undefined, member)).status, 403);
});

test('deleting an endpoint drops its associations', async () => {
  const extra = (await call('POST', '/v3/endpoints', { endpoint: { service_id: svcB, interface: 'admin', url: 'http://gone/' } })).body.endpoint.id;
  assert.equal((await call('PUT', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints/${extra}`)).status, 204);
  assert.equal((await call('DELETE', `/v3/endpoints/${extra}`)).status, 204);
  const rows = await h.id.db.selectFrom('project_endpoint').selectAll().where('endpoint_id', '=', extra).execute();
  assert.equal(rows.length, 0);
  assert.ok((await buildCatalog(h.id, demoProject)).some((c) => c.id === svcA));
});
