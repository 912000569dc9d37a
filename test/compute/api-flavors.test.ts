// Flavors, extra specs and flavor access over real HTTP, per microversion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { computeApi, type ComputeApi } from './client.js';

let h: IdentityHarness;
let api: ComputeApi;
let admin: string;
let demo: string;
let demoProject: string;

before(async () => {
  h = await startIdentity();
  api = computeApi(h.computeUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  demoProject = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow()).id;
});
after(async () => { await h?.close(); });

test('first start made the standard flavors (ids 1-5, 42, 84) with their sizes', async () => {
  const all = await api.ok('GET', '/v2.1/flavors/detail', demo);
  const by = Object.fromEntries(all.flavors.map((f: any) => [f.id, [f.name, f.vcpus, f.ram, f.disk]]));
  assert.deepEqual(by, {
    1: ['m1.tiny', 1, 512, 1], 2: ['m1.small', 1, 2048, 20], 3: ['m1.medium', 2, 4096, 40], 4: ['m1.large', 4, 8192, 80],
    5: ['m1.xlarge', 8, 16384, 160], 42: ['m1.nano', 1, 128, 1], 84: ['m1.micro', 1, 192, 1],
  });
  // Nova sorts by flavorid (a string) by default.
  assert.deepEqual(all.flavors.map((f: any) => f.id), ['1', '2', '3', '4', '42', '5', '84']);
});

test('create, show and delete a flavor; the views follow the microversion (2.1, 2.55 description, 2.61 extra_specs, 2.75 swap)', async () => {
  const created = await api.ok('POST', '/v2.1/flavors', admin, {
    flavor: { name: 'fv-a', id: 'fv-a-id', ram: '256', vcpus: 2, disk: 3, 'OS-FLV-EXT-DATA:ephemeral': 1, swap: 0, rxtx_factor: '2.5', 'os-flavor-access:is_public': 'true' },
  });
  assert.deepEqual({ ...created.flavor, links: undefined }, {
    id: 'fv-a-id', name: 'fv-a', ram: 256, vcpus: 2, disk: 3, 'OS-FLV-EXT-DATA:ephemeral': 1, swap: '', rxtx_factor: 2.5,
    'os-flavor-access:is_public': true, 'OS-FLV-DISABLED:disabled': false, links: undefined,
  });
  assert.deepEqual(created.flavor.links.map((l: any) => l.rel), ['self', 'bookmark']);
  const v255 = await api.ok('GET', '/v2.1/flavors/fv-a-id', demo, undefined, 200, { version: '2.55' });
  assert.equal(v255.flavor.description, null);
  assert.equal('extra_specs' in v255.flavor, false);
  await api.ok('POST', '/v2.1/flavors/fv-a-id/os-extra_specs', admin, { extra_specs: { 'hw:cpu_policy': 'shared', free: 5 } });
  const v261 = await api.ok('GET', '/v2.1/flavors/fv-a-id', demo, undefined, 200, { version: '2.61' });
  assert.deepEqual(v261.flavor.extra_specs, { 'hw:cpu_policy': 'shared', free: '5' });
  assert.equal(v261.flavor.swap, '');
  const v275 = await api.ok('GET', '/v2.1/flavors/fv-a-id', demo, undefined, 200, { version: '2.75' });
  assert.equal(v275.flavor.swap, 0);
  // Without an id Nova makes a UUID; a number id becomes a string.
  const auto = await api.ok('POST', '/v2.1/flavors', admin, { flavor: { name: 'fv-auto', ram: 64, vcpus: 1, disk: 0 } });
  assert.match(auto.flavor.id, /^[0-9a-f-]{36}$/);
  const numeric = await api.ok('POST', '/v2.1/flavors', admin, { flavor: { name: 'fv-num', id: 777, ram: 64, vcpus: 1, disk: 0 } });
  assert.equal(numeric.flavor.id, '777');
  // Conflicts: same id, same name.
  assert.match(await api.fault('POST', '/v2.1/flavors', admin, { flavor: { name: 'other', id: 'fv-a-id', ram: 64, vcpus: 1, disk: 0 } }, 409), /Flavor with ID fv-a-id already exists/);
  assert.match(await api.fault('POST', '/v2.1/flavors', admin, { flavor: { name: 'fv-a', ram: 64, vcpus: 1, disk: 0 } }, 409), /Flavor with name fv-a already exists/);
  // Members may not manage flavors.
  assert.match(await api.fault('POST', '/v2.1/flavors', demo, { flavor: { name: 'nope', ram: 64, vcpus: 1, disk: 0 } }, 403), /os-flavor-manage:create/);
  await api.fault('DELETE', '/v2.1/flavors/777', demo, undefined, 403);
  await api.ok('DELETE', '/v2.1/flavors/777', admin, undefined, 202);
  await api.fault('GET', '/v2.1/flavors/777', admin, undefined, 404);
  await api.fault('DELETE', '/v2.1/flavors/777', admin, undefined, 404);
});

test('flavor bodies are validated as Nova does (400 naming the field), description only from 2.55', async () => {
  const bad: [unknown, RegExp][] = [
    [{ flavor: { name: 'x', ram: 0, vcpus: 1, disk: 0 } }, /field\/attribute ram.*less than the minimum of 1/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 'two', disk: 0 } }, /field\/attribute vcpus/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1, disk: -1 } }, /field\/attribute disk/],
    [{ flavor: { name: 'x', ram: 2 ** 31, vcpus: 1, disk: 0 } }, /greater than the maximum/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1 } }, /'disk' is a required property/],
    [{ flavor: { name: ' x', ram: 64, vcpus: 1, disk: 0 } }, /invalid 'name' value/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1, disk: 0, id: ' lead' } }, /field\/attribute id/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1, disk: 0, rxtx_factor: 0 } }, /field\/attribute rxtx_factor/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1, disk: 0, 'os-flavor-access:is_public': 'maybe' } }, /os-flavor-access:is_public/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1, disk: 0, colour: 'red' } }, /Additional properties are not allowed \('colour' was unexpected\)/],
    [{ flavor: { name: 'x', ram: 64, vcpus: 1, disk: 0, description: 'd' } }, /'description' was unexpected/],
    [{ flavors: {} }, /'flavor' is a required property/],
  ];
  for (const [body, re] of bad) assert.match(await api.fault('POST', '/v2.1/flavors', admin, body, 400), re, JSON.stringify(body));
  const described = await api.ok('POST', '/v2.1/flavors', admin, { flavor: { name: 'fv-desc', ram: 64, vcpus: 1, disk: 0, description: 'small one' } }, 200, { version: '2.55' });
  assert.equal(described.flavor.description, 'small one');
  const updated = await api.ok('PUT', `/v2.1/flavors/${described.flavor.id}`, admin, { flavor: { description: 'smaller' } }, 200, { version: '2.55' });
  assert.equal(updated.flavor.description, 'smaller');
  await api.fault('PUT', `/v2.1/flavors/${described.flavor.id}`, admin, { flavor: { description: 'x' } }, 404, { version: '2.54' });
  await api.fault('PUT', `/v2.1/flavors/${described.flavor.id}`, admin, { flavor: { name: 'x' } }, 400, { version: '2.55' });
  await api.fault('PUT', '/v2.1/flavors/none-such', admin, { flavor: { description: null } }, 404, { version: '2.55' });
});

test('lists: minRam/minDisk filters, sort keys and directions, limit/marker with next links, strict queries at 2.75', async () => {
  const big = await api.ok('GET', '/v2.1/flavors/detail?minRam=4096&minDisk=80', demo);
  assert.deepEqual(big.flavors.map((f: any) => f.name).sort(), ['m1.large', 'm1.xlarge']);
  const byRam = await api.ok('GET', '/v2.1/flavors/detail?sort_key=memory_mb&sort_dir=desc', demo);
  const rams = byRam.flavors.map((f: any) => f.ram);
  assert.deepEqual(rams, [...rams].sort((a: number, b: number) => b - a));
  const page1 = await api.ok('GET', '/v2.1/flavors?limit=2&sort_key=name', demo);
  assert.equal(page1.flavors.length, 2);
  const next = new URL(page1.flavors_links[0].href);
  assert.equal(next.searchParams.get('marker'), page1.flavors[1].id);
  assert.equal(next.searchParams.get('sort_key'), 'name');
  const page2 = await api.ok('GET', `/v2.1/flavors${next.search}`, demo);
  assert.ok(page2.flavors.every((f: any) => f.name > page1.flavors[1].name));
  assert.match(await api.fault('GET', '/v2.1/flavors?marker=nope', demo, undefined, 400), /marker \[nope\] not found/);
  assert.match(await api.fault('GET', '/v2.1/flavors?minRam=lots', demo, undefined, 400), /Invalid minRam filter \[lots\]/);
  assert.match(await api.fault('GET', '/v2.1/flavors?sort_key=colour', demo, undefined, 400), /query parameters sort_key/);
  assert.match(await api.fault('GET', '/v2.1/flavors?limit=-3', demo, undefined, 400), /query parameters limit/);
  // Unknown query parameters are ignored until 2.75, refused after.
  await api.ok('GET', '/v2.1/flavors?colour=red', demo, undefined, 200, { version: '2.74' });
  assert.match(await api.fault('GET', '/v2.1/flavors?colour=red', demo, undefined, 400, { version: '2.75' }), /Additional properties/);
});

test('private flavors: hidden from other projects until shared; access list, add/remove tenant access (409 on public flavors from 2.7)', async () => {
  const priv = (await api.ok('POST', '/v2.1/flavors', admin, { flavor: { name: 'fv-private', ram: 64, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false } })).flavor;
  assert.equal(priv['os-flavor-access:is_public'], false);
  await api.fault('GET', `/v2.1/flavors/${priv.id}`, demo, undefined, 404);
  assert.ok(!(await api.ok('GET', '/v2.1/flavors', demo)).flavors.some((f: any) => f.id === priv.id));
  // Admins see public ones by default, private ones with is_public=false, all with is_public=none.
  assert.ok(!(await api.ok('GET', '/v2.1/flavors', admin)).flavors.some((f: any) => f.id === priv.id));
  assert.deepEqual((await api.ok('GET', '/v2.1/flavors?is_public=false', admin)).flavors.map((f: any) => f.id), [priv.id]);
  assert.ok((await api.ok('GET', '/v2.1/flavors?is_public=None', admin)).flavors.some((f: any) => f.id === priv.id));
  assert.match(await api.fault('GET', '/v2.1/flavors?is_public=sometimes', admin, undefined, 400), /Invalid is_public filter/);

  assert.deepEqual(await api.ok('GET', `/v2.1/flavors/${priv.id}/os-flavor-access`, admin), { flavor_access: [] });
  const added = await api.ok('POST', `/v2.1/flavors/${priv.id}/action`, admin, { addTenantAccess: { tenant: demoProject } });
  assert.deepEqual(added.flavor_access, [{ flavor_id: priv.id, tenant_id: demoProject }]);
  assert.match(await api.fault('POST', `/v2.1/flavors/${priv.id}/action`, admin, { addTenantAccess: { tenant: demoProject } }, 409), /already exists/);
  assert.equal((await api.ok('GET', `/v2.1/flavors/${priv.id}`, demo)).flavor.name, 'fv-private');
  assert.ok((await api.ok('GET', '/v2.1/flavors', demo)).flavors.some((f: any) => f.id === priv.id));
  assert.match(await api.fault('POST', `/v2.1/flavors/${priv.id}/action`, admin, { addTenantAccess: { tenant: 'no-such-project' } }, 400), /not a valid project/);
  await api.fault('POST', `/v2.1/flavors/${priv.id}/action`, demo, { addTenantAccess: { tenant: demoProject } }, 403);
  await api.fault('GET', `/v2.1/flavors/${priv.id}/os-flavor-access`, demo, undefined, 403);

  const removed = await api.ok('POST', `/v2.1/flavors/${priv.id}/action`, admin, { removeTenantAccess: { tenant: demoProject } });
  assert.deepEqual(removed.flavor_access, []);
  await api.fault('POST', `/v2.1/flavors/${priv.id}/action`, admin, { removeTenantAccess: { tenant: demoProject } }, 404);
  await api.fault('GET', `/v2.1/flavors/${priv.id}`, demo, undefined, 404);

  assert.match(await api.fault('GET', '/v2.1/flavors/1/os-flavor-access', admin, undefined, 404), /public flavors/);
  const demoId = demoProject;
  assert.match(await api.fault('POST', '/v2.1/flavors/1/action', admin, { addTenantAccess: { tenant: demoId } }, 409, { version: '2.7' }), /public flavor/);
  assert.match(await api.fault('POST', `/v2.1/flavors/${priv.id}/action`, admin, { addTenantAccess: { tenant: demoId }, removeTenantAccess: { tenant: demoId } }, 400), /Malformed request body/);
  assert.match(await api.fault('POST', `/v2.1/flavors/${priv.id}/action`, admin, { shrink: {} }, 400), /no such action: shrink/);
});

test('extra specs: CRUD, member read access, key/value validation, and known-namespace validation from 2.86', async () => {
  const f = (await api.ok('POST', '/v2.1/flavors', admin, { flavor: { name: 'fv-specs', ram: 64, vcpus: 1, disk: 0 } })).flavor;
  const base = `/v2.1/flavors/${f.id}/os-extra_specs`;
  assert.deepEqual(await api.ok('POST', base, admin, { extra_specs: { 'hw:numa_nodes': '2', 'acme:colour': 'red' } }), { extra_specs: { 'hw:numa_nodes': '2', 'acme:colour': 'red' } });
  assert.deepEqual(await api.ok('GET', base, demo), { extra_specs: { 'hw:numa_nodes': '2', 'acme:colour': 'red' } });
  assert.deepEqual(await api.ok('GET', `${base}/acme:colour`, demo), { 'acme:colour': 'red' });
  assert.deepEqual(await api.ok('PUT', `${base}/acme:colour`, admin, { 'acme:colour': 'blue' }), { 'acme:colour': 'blue' });
  assert.match(await api.fault('PUT', `${base}/acme:colour`, admin, { 'acme:size': 'L' }, 400), /Request body and URI mismatch/);
  await api.fault('PUT', `${base}/a`, admin, { a: '1', b: '2' }, 400);
  await api.fault('POST', base, admin, { extra_specs: { 'bad/key': 'v' } }, 400);
  await api.fault('POST', base, admin, { extra_specs: { k: 'v'.repeat(256) } }, 400);
  await api.fault('POST', base, admin, { extra_specs: { k: true } }, 400);
  await api.fault('POST', base, demo, { extra_specs: { k: 'v' } }, 403);
  // Before 2.86 known namespaces are not checked; from 2.86 they are, other namespaces stay free.
  await api.ok('POST', base, admin, { extra_specs: { 'hw:cpu_policy': 'wobbly' } }, 200, { version: '2.85' });
  assert.match(await api.fault('POST', base, admin, { extra_specs: { 'hw:cpu_policy': 'wobbly' } }, 400, { version: '2.86' }), /'wobbly' is not one of: dedicated, shared, mixed/);
  assert.match(await api.fault('POST', base, admin, { extra_specs: { 'hw:numa_nodes': '0' } }, 400, { version: '2.86' }), /less than the min value/);
  assert.match(await api.fault('POST', base, admin, { extra_specs: { 'hw:no_such_thing': '1' } }, 400, { version: '2.86' }), /does not appear to be a valid extra spec/);
  assert.match(await api.fault('PUT', `${base}/resources:VCPU`, admin, { 'resources:VCPU': 'x' }, 400, { version: '2.86' }), /not a valid integer/);
  await api.ok('POST', base, admin, { extra_specs: { 'hw:cpu_policy': 'dedicated', 'trait:HW_CPU_X86_AVX2': 'required', 'resources1:CUSTOM_GOLD': '1', 'acme:x': 'y', nonamespace: 'z' } }, 200, { version: '2.86' });
  await api.ok('DELETE', `${base}/acme:colour`, admin, undefined, 200);
  assert.match(await api.fault('DELETE', `${base}/acme:colour`, admin, undefined, 404), /has no extra specs with key acme:colour/);
  await api.fault('GET', `${base}/acme:colour`, admin, undefined, 404);
  await api.fault('GET', '/v2.1/flavors/none-such/os-extra_specs', admin, undefined, 404);
  // Deleting the flavor takes its specs along.
  const db = h.cloud.compute.ctx.db;
  const internal = (await db.selectFrom('compute_flavor').select('id').where('flavorid', '=', f.id).executeTakeFirstOrThrow()).id;
  assert.ok((await db.selectFrom('compute_flavor_extra_spec').select('spec_key').where('flavor_id', '=', internal).execute()).length > 0);
  await api.ok('DELETE', `/v2.1/flavors/${f.id}`, admin, undefined, 202);
  assert.equal((await db.selectFrom('compute_flavor_extra_spec').select('spec_key').where('flavor_id', '=', internal).execute()).length, 0);
});
