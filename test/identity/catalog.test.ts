import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { buildCatalog } from '../../src/identity/catalog/build.js';

let h: IdentityHarness;
let admin: string;
let member: string;

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  member = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
});
after(async () => { await h.close(); });

const call = (method: string, path: string, body?: unknown, token = admin) => h.request(method, path, { token, body });

test('regions: create with generated id, PUT with id, filter, update, cycle and delete rules', async () => {
  const a = await call('POST', '/v3/regions', { region: { description: 'A' } });
  assert.equal(a.status, 201);
  assert.match(a.body.region.id, /^[0-9a-f]{32}$/);
  assert.equal(a.body.region.parent_region_id, null);
  assert.match(a.body.region.links.self, new RegExp(`^http://[^/]+/v3/regions/${a.body.region.id}$`));

  const b = await call('PUT', '/v3/regions/RegionB', { region: { description: null, parent_region_id: a.body.region.id, color: 'red' } });
  assert.equal(b.status, 201);
  assert.deepEqual({ ...b.body.region, links: undefined }, { id: 'RegionB', description: '', parent_region_id: a.body.region.id, color: 'red', links: undefined });

  assert.equal((await call('PUT', '/v3/regions/RegionB', { region: {} })).status, 409);
  assert.equal((await call('PUT', '/v3/regions/X1', { region: { id: 'X2' } })).status, 400);
  assert.equal((await call('POST', '/v3/regions', { region: { id: 'Orphan', parent_region_id: 'nope' } })).status, 404);
  assert.equal((await call('POST', '/v3/regions', { region: { description: 5 } })).status, 400);

  const listed = await call('GET', `/v3/regions?parent_region_id=${a.body.region.id}`);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.regions.map((r: { id: string }) => r.id), ['RegionB']);

  // A cannot become a child of its own child.
  const cyc = await call('PATCH', `/v3/regions/${a.body.region.id}`, { region: { parent_region_id: 'RegionB' } });
  assert.equal(cyc.status, 400);
  assert.match(cyc.body.error.message, /circular region hierarchy/);
  assert.equal((await call('PATCH', '/v3/regions/RegionB', { region: { parent_region_id: 'RegionB' } })).status, 400);
  assert.equal((await call('PATCH', '/v3/regions/RegionB', { region: { id: 'other' } })).status, 400);

  const upd = await call('PATCH', '/v3/regions/RegionB', { region: { description: 'B2', parent_region_id: null } });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.region.description, 'B2');
  assert.equal(upd.body.region.parent_region_id, null);
  assert.equal(upd.body.region.color, 'red');

  // Deleting a parent deletes its children, unless one of them has endpoints (403).
  await call('PATCH', '/v3/regions/RegionB', { region: { parent_region_id: a.body.region.id } });
  const svc = await call('POST', '/v3/services', { service: { type: 'rtest' } });
  const ep = await call('POST', '/v3/endpoints', { endpoint: { service_id: svc.body.service.id, interface: 'public', url: 'http://x', region_id: 'RegionB' } });
  assert.equal(ep.status, 201);
  const refused = await call('DELETE', `/v3/regions/${a.body.region.id}`);
  assert.equal(refused.status, 403);
  assert.match(refused.body.error.message, /child regions have associated endpoints/);
  assert.equal((await call('DELETE', `/v3/endpoints/${ep.body.endpoint.id}`)).status, 204);
  assert.equal((await call('DELETE', `/v3/regions/${a.body.region.id}`)).status, 204);
  assert.equal((await call('GET', '/v3/regions/RegionB')).status, 404);
  await call('DELETE', `/v3/services/${svc.body.service.id}`);
});

test('regions: policy — anyone may read, only admins write', async () => {
  assert.equal((await call('GET', '/v3/regions', undefined, member)).status, 200);
  assert.equal((await call('POST', '/v3/regions', { region: {} }, member)).status, 403);
  assert.equal((await h.request('GET', '/v3/regions')).status, 401);
});

test('services: create defaults, extras, filters, update, delete cascades endpoints', async () => {
  const s = await call('POST', '/v3/services', { service: { type: 'svc-t1', name: 'one', description: 'd1', flavor: 'x' } });
  assert.equal(s.status, 201);
  assert.equal(s.body.service.enabled, true);
  assert.equal(s.body.service.flavor, 'x');
  const bare = await call('POST', '/v3/services', { service: { type: 'svc-t2' } });
  assert.equal(bare.body.service.name, '');
  assert.ok(!('description' in bare.body.service));
  assert.equal((await call('POST', '/v3/services', { service: { name: 'x' } })).status, 400);
  assert.equal((await call('POST', '/v3/services', { service: { type: 'x', enabled: 'true' } })).status, 400);
  assert.equal((await call('POST', '/v3/services', { service: { type: 'x', name: '   ' } })).status, 400);
  assert.equal((await call('POST', '/v3/services', { service: { type: '' } })).status, 400);

  const byType = await call('GET', '/v3/services?type=svc-t1');
  assert.deepEqual(byType.body.services.map((x: { id: string }) => x.id), [s.body.service.id]);
  const byName = await call('GET', '/v3/services?name=one');
  assert.equal(byName.body.services.length, 1);

  const u = await call('PATCH', `/v3/services/${s.body.service.id}`, { service: { description: 'd2', enabled: false } });
  assert.equal(u.status, 200);
  assert.equal(u.body.service.description, 'd2');
  assert.equal(u.body.service.enabled, false);
  assert.equal(u.body.service.flavor, 'x');
  assert.deepEqual((await call('GET', `/v3/services/${s.body.service.id}`)).body.service, u.body.service);
  assert.equal((await call('PATCH', `/v3/services/${s.body.service.id}`, { service: {} })).status, 400);

  const ep = await call('POST', '/v3/endpoints', { endpoint: { service_id: bare.body.service.id, interface: 'admin', url: 'https://y:1/' } });
  assert.equal((await call('DELETE', `/v3/services/${bare.body.service.id}`)).status, 204);
  assert.equal((await call('GET', `/v3/endpoints/${ep.body.endpoint.id}`)).status, 404);
  assert.equal((await call('GET', `/v3/services/${bare.body.service.id}`)).status, 404);
  assert.equal((await call('GET', '/v3/services', undefined, member)).status, 403);
  await call('DELETE', `/v3/services/${s.body.service.id}`);
});

test('endpoints: validation, legacy region auto-created, filters, update', async () => {
  const s = (await call('POST', '/v3/services', { service: { type: 'ep-t' } })).body.service;
  const bad = async (endpoint: Record<string, unknown>) => (await call('POST', '/v3/endpoints', { endpoint })).status;
  const base = { service_id: s.id, interface: 'public', url: 'http://h:1/v1' };
  assert.equal(await bad({ ...base, interface: 'private' }), 400);
  assert.equal(await bad({ ...base, enabled: 'False' }), 400);
  assert.equal(await bad({ ...base, url: 'no-scheme' }), 400);
  assert.equal(await bad({ ...base, url: 'http://h/$(bogus)s' }), 400);
  assert.equal(await bad({ ...base, service_id: 'nope' }), 400);
  assert.equal(await bad({ ...base, region_id: 'no-such-region' }), 400);
  assert.equal(await bad({ service_id: s.id, interface: 'public' }), 400);

  const e = await call('POST', '/v3/endpoints', { endpoint: { ...base, url: 'http://h:1/v1/$(project_id)s', region: 'LegacyR', enabled: true } });
  assert.equal(e.status, 201);
  assert.equal(e.body.endpoint.region, 'LegacyR');
  assert.equal(e.body.endpoint.region_id, 'LegacyR');
  assert.equal((await call('GET', '/v3/regions/LegacyR')).status, 200);

  const shown = (await call('GET', `/v3/endpoints/${e.body.endpoint.id}`)).body.endpoint;
  assert.equal(shown.url, 'http://h:1/v1/$(project_id)s');
  assert.equal(shown.enabled, true);

  const i = await call('POST', '/v3/endpoints', { endpoint: { ...base, interface: 'internal' } });
  const pub = (await call('GET', `/v3/endpoints?interface=public&service_id=${s.id}`)).body.endpoints;
  assert.deepEqual(pub.map((x: { id: string }) => x.id), [e.body.endpoint.id]);
  const inRegion = (await call('GET', '/v3/endpoints?region_id=LegacyR')).body.endpoints;
  assert.deepEqual(inRegion.map((x: { id: string }) => x.id), [e.body.endpoint.id]);

  const u = await call('PATCH', `/v3/endpoints/${i.body.endpoint.id}`, { endpoint: { region: 'LegacyR2', interface: 'admin', enabled: false } });
  assert.equal(u.status, 200);
  assert.equal(u.body.endpoint.region, 'LegacyR2');
  assert.equal(u.body.endpoint.interface, 'admin');
  assert.equal(u.body.endpoint.enabled, false);
  assert.equal((await call('PATCH', `/v3/endpoints/${i.body.endpoint.id}`, { endpoint: { enabled: 'True' } })).status, 400);
  assert.equal((await call('PATCH', `/v3/endpoints/${i.body.endpoint.id}`, { endpoint: { service_id: 'nope' } })).status, 400);
  assert.equal((await call('PATCH', '/v3/endpoints/none', { endpoint: { url: 'http://z' } })).status, 404);

  assert.equal((await call('DELETE', `/v3/endpoints/${i.body.endpoint.id}`)).status, 204);
  assert.equal((await call('DELETE', `/v3/endpoints/${i.body.endpoint.id}`)).status, 404);
  assert.equal((await call('POST', '/v3/endpoints', { endpoint: base }, member)).status, 403);
  await call('DELETE', `/v3/services/${s.id}`);
});

test('buildCatalog: enabled services and endpoints, URL substitution, cache invalidation', async () => {
  const s = (await call('POST', '/v3/services', { service: { type: 'cat-t', name: 'cat' } })).body.service;
  const off = (await call('POST', '/v3/services', { service: { type: 'cat-off', enabled: false } })).body.service;
  const mk = async (service_id: string, url: string, extra: Record<string, unknown> = {}) =>
    (await call('POST', '/v3/endpoints', { endpoint: { service_id, interface: 'public', url, region_id: 'RegionOne', ...extra } })).body.endpoint;
  const templated = await mk(s.id, 'http://c/v1/$(project_id)s');
  const percent = await mk(s.id, 'http://c/v2/%(tenant_id)s');
  const plain = await mk(s.id, 'http://c/plain');
  const disabled = await mk(s.id, 'http://c/disabled', { enabled: false });
  await mk(off.id, 'http://off');

  const pid = 'p'.repeat(32);
  const cat = await buildCatalog(h.id, pid);
  const entry = cat.find((c) => c.id === s.id)!;
  assert.equal(entry.name, 'cat');
  assert.equal(entry.type, 'cat-t');
  const urls = Object.fromEntries(entry.endpoints.map((e) => [e.id, e.url]));
  assert.equal(urls[templated.id], `http://c/v1/${pid}`);
  assert.equal(urls[percent.id], `http://c/v2/${pid}`);
  assert.equal(urls[plain.id], 'http://c/plain');
  assert.ok(!(disabled.id in urls));
  assert.deepEqual(entry.endpoints.find((e) => e.id === plain.id), { id: plain.id, interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'http://c/plain' });
  assert.ok(!cat.some((c) => c.id === off.id));
  assert.ok(cat.some((c) => c.type === 'identity'), 'bootstrap identity service is listed');

  // Without project scope the project-templated endpoints are left out.
  const unscoped = (await buildCatalog(h.id)).find((c) => c.id === s.id)!;
  assert.deepEqual(unscoped.endpoints.map((e) => e.id), [plain.id]);

  // Writes through the API invalidate the cache.
  await call('PATCH', `/v3/endpoints/${plain.id}`, { endpoint: { url: 'http://c/changed' } });
  const again = (await buildCatalog(h.id, pid)).find((c) => c.id === s.id)!;
  assert.equal(again.endpoints.find((e) => e.id === plain.id)!.url, 'http://c/changed');

  // The token's catalog is the same thing.
  const tok = await h.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: admin } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } } });
  assert.equal(tok.status, 201);
  assert.ok(tok.body.token.catalog.some((c: { id: string }) => c.id === s.id));

  await call('DELETE', `/v3/services/${s.id}`);
  await call('DELETE', `/v3/services/${off.id}`);
  assert.ok(!(await buildCatalog(h.id, pid)).some((c) => c.id === s.id));
});
