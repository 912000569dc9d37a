// The compute API's version documents, microversion negotiation and URL forms, over real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { computeApi, type ComputeApi } from './client.js';

let h: IdentityHarness;
let api: ComputeApi;
let admin: string;
let adminProject: string;

before(async () => {
  h = await startIdentity();
  api = computeApi(h.computeUrl);
  admin = await h.adminToken();
  adminProject = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
});
after(async () => { await h?.close(); });

test('GET / lists v2.0 (deprecated) and v2.1 (2.1 to 2.90) without a token, and each self link answers its own document', async () => {
  const r = await api.call('GET', '/', undefined);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('openstack-api-version'), null, 'the root document is not versioned');
  const versions = r.body.versions;
  assert.deepEqual(versions.map((v: any) => [v.id, v.status, v.version, v.min_version]), [['v2.0', 'DEPRECATED', '', ''], ['v2.1', 'CURRENT', '2.90', '2.1']]);
  for (const v of versions) {
    const self = v.links.filter((l: any) => l.rel === 'self');
    assert.equal(self.length, 1);
    const doc = await fetch(self[0].href, { headers: { 'x-auth-token': admin } });
    assert.equal(doc.status, 200);
    const body = await doc.json() as any;
    assert.equal(body.version.id, v.id);
    assert.deepEqual(body.version.links.filter((l: any) => l.rel === 'self'), self);
    assert.ok(body.version['media-types'].length === 1);
  }
});

test('microversions: default 2.1, latest is 2.90, both header styles, echoed with Vary; garbage is 400, out of range 406', async () => {
  const dflt = await api.call('GET', '/v2.1/flavors', admin);
  assert.equal(dflt.status, 200);
  assert.equal(dflt.headers.get('openstack-api-version'), 'compute 2.1');
  assert.equal(dflt.headers.get('x-openstack-nova-api-version'), '2.1');
  assert.match(dflt.headers.get('vary') ?? '', /OpenStack-API-Version/);
  assert.match(dflt.headers.get('vary') ?? '', /X-OpenStack-Nova-API-Version/);
  assert.equal((await api.call('GET', '/v2.1/flavors', admin, undefined, { version: 'latest' })).headers.get('openstack-api-version'), 'compute 2.90');
  const legacy = await api.call('GET', '/v2.1/flavors', admin, undefined, { headers: { 'x-openstack-nova-api-version': '2.53' } });
  assert.equal(legacy.headers.get('x-openstack-nova-api-version'), '2.53');
  // Another service's version in the same header is not ours.
  const mixed = await api.call('GET', '/v2.1/flavors', admin, undefined, { headers: { 'openstack-api-version': 'volume 3.60, compute 2.42' } });
  assert.equal(mixed.headers.get('openstack-api-version'), 'compute 2.42');
  assert.match(await api.fault('GET', '/v2.1/flavors', admin, undefined, 406, { version: '2.91', name: 'computeFault' }), /maximum is 2\.90/);
  assert.match(await api.fault('GET', '/v2.1/flavors', admin, undefined, 406, { version: '2.0', name: 'computeFault' }), /Minimum is 2\.1/);
  assert.match(await api.fault('GET', '/v2.1/flavors', admin, undefined, 400, { version: 'two' }), /invalid format/);
});

test('URLs with and without the project id both work; a foreign project id in the URL is refused', async () => {
  const plain = await api.ok('GET', '/v2.1/flavors/1', admin);
  const withProject = await api.ok('GET', `/v2.1/${adminProject}/flavors/1`, admin);
  assert.equal(plain.flavor.name, 'm1.tiny');
  assert.equal(withProject.flavor.name, 'm1.tiny');
  assert.equal(plain.flavor.links[0].href, `${h.computeUrl}/v2.1/flavors/1`);
  assert.equal(withProject.flavor.links[0].href, `${h.computeUrl}/v2.1/${adminProject}/flavors/1`);
  assert.equal(withProject.flavor.links[1].href, `${h.computeUrl}/${adminProject}/flavors/1`, 'bookmark links drop the version');
  assert.match(await api.fault('GET', '/v2.1/0123456789abcdef/flavors', admin, undefined, 400), /doesn't match Context's project_id/);
  // The legacy /v2 prefix serves the same API without microversion headers.
  const v2 = await api.call('GET', `/v2/${adminProject}/flavors/1`, admin);
  assert.equal(v2.status, 200);
  assert.equal(v2.headers.get('openstack-api-version'), null);
  assert.equal(v2.body.flavor.links[0].href, `${h.computeUrl}/v2/${adminProject}/flavors/1`);
});

test('without a token: 401 in keystonemiddleware form with WWW-Authenticate; unknown routes are Nova 404s; request ids on every response', async () => {
  const r = await api.call('GET', '/v2.1/flavors', undefined);
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 401);
  assert.match(r.headers.get('www-authenticate') ?? '', /Keystone uri=/);
  const missing = await api.call('GET', '/v2.1/no-such-thing', admin);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.code, 404);
  const ok = await api.call('GET', '/v2.1/os-keypairs', admin);
  assert.match(ok.headers.get('x-openstack-request-id') ?? '', /^req-/);
  assert.equal(ok.headers.get('x-compute-request-id'), ok.headers.get('x-openstack-request-id'));
});

test('the catalog advertises compute (nova) at /v2.1 and the extensions list names what is served', async () => {
  const tok = await fetch(`${h.url}/v3/auth/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: h.adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  const catalog = ((await tok.json()) as any).token.catalog;
  const compute = catalog.find((s: any) => s.type === 'compute');
  assert.equal(compute.name, 'nova');
  assert.ok(compute.endpoints.some((e: any) => e.interface === 'public' && e.url === `${h.computeUrl}/v2.1`));
  const ext = await api.ok('GET', '/v2.1/extensions', admin);
  assert.ok(ext.extensions.some((e: any) => e.alias === 'os-keypairs'));
  assert.equal((await api.ok('GET', '/v2.1/extensions/os-aggregates', admin)).extension.name, 'Aggregates');
  await api.fault('GET', '/v2.1/extensions/os-cloudpipe', admin, undefined, 404);
});
