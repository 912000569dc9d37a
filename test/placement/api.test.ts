// The placement API over real HTTP: version document and microversions, policy, providers and
// trees, inventories, traits, aggregates, allocations, usages, allocation candidates (flat,
// nested, sharing, granular) and the reshaper, with placement's codes and fault bodies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { assertFault, placementCaller } from './lib.js';

let h: IdentityHarness;
let call: ReturnType<typeof placementCaller>;
let demoCall: ReturnType<typeof placementCaller>;
let demoProjectId: string;

before(async () => {
  h = await startIdentity();
  call = placementCaller(h.placementUrl, () => h.adminToken());
  const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  demoCall = placementCaller(h.placementUrl, () => demo);
  const projects = await h.request('GET', '/v3/projects?name=demo', { token: await h.adminToken() });
  demoProjectId = projects.body.projects[0].id;
});
after(async () => { await h?.close(); });

/** Creates a provider (latest microversion) with inventory and traits; returns its uuid. */
async function provider(name: string, o: { parent?: string; inventory?: Record<string, Record<string, number>>; traits?: string[]; aggregates?: string[] } = {}): Promise<string> {
  const r = await call('POST', '/resource_providers', { body: { name, parent_provider_uuid: o.parent ?? null }, version: '1.39' });
  assert.equal(r.status, 200, r.text);
  const uuid = r.json.uuid as string;
  let gen = r.json.generation as number;
  if (o.inventory) {
    const inv = await call('PUT', `/resource_providers/${uuid}/inventories`, { body: { resource_provider_generation: gen, inventories: o.inventory }, version: '1.39' });
    assert.equal(inv.status, 200, inv.text);
    gen = inv.json.resource_provider_generation;
  }
  if (o.traits) {
    for (const t of o.traits.filter((x) => x.startsWith('CUSTOM_'))) assert.ok([201, 204].includes((await call('PUT', `/traits/${t}`, { version: '1.39' })).status));
    const tr = await call('PUT', `/resource_providers/${uuid}/traits`, { body: { resource_provider_generation: gen, traits: o.traits }, version: '1.39' });
    assert.equal(tr.status, 200, tr.text);
    gen = tr.json.resource_provider_generation;
  }
  if (o.aggregates) {
    const ag = await call('PUT', `/resource_providers/${uuid}/aggregates`, { body: { resource_provider_generation: gen, aggregates: o.aggregates }, version: '1.39' });
    assert.equal(ag.status, 200, ag.text);
  }
  return uuid;
}

const candidates = (query: string, version = '1.39') => call('GET', `/allocation_candidates?${query}`, { version });
/** The allocation requests of a response as sorted "rp:RC=n" strings, one per request. */
const requestsOf = (json: any): string[] => (json.allocation_requests as any[]).map((r) => Object.entries(r.allocations as Record<string, { resources: Record<string, number> }>)
  .flatMap(([rp, a]) => Object.entries(a.resources).map(([rc, n]) => `${rp}:${rc}=${n}`)).sort().join(' ')).sort();

test('the version document is public and advertises 1.0–1.39; microversions are negotiated and echoed', async () => {
  const root = await fetch(`${h.placementUrl}/`);
  assert.equal(root.status, 200);
  assert.deepEqual((await root.json()).versions, [{ id: 'v1.0', max_version: '1.39', min_version: '1.0', status: 'CURRENT', links: [{ rel: 'self', href: '' }] }]);
  assert.equal(root.headers.get('openstack-api-version'), 'placement 1.0');
  assert.match(root.headers.get('vary') ?? '', /openstack-api-version/);

  const latest = await call('GET', '/', { version: 'latest' });
  assert.equal(latest.headers.get('openstack-api-version'), 'placement 1.39');
  assert.equal(latest.headers.get('cache-control'), 'no-cache');
  assert.match(latest.headers.get('last-modified') ?? '', /^\w+, \d+ \w+ \d{4} [\d:]+ GMT$/);
  assert.equal((await call('GET', '/', { version: '1.14' })).headers.get('cache-control'), null);

  const tooNew = await call('GET', '/resource_providers', { version: '1.40' });
  assertFault(tooNew, 406);
  assert.match(tooNew.json.errors[0].detail, /Unacceptable version header: 1\.40/);
  assert.equal(tooNew.json.errors[0].max_version, '1.39');
  assertFault(await call('GET', '/', { version: 'pony.horse' }), 400);
  assertFault(await call('GET', '/', { version: '1.2.3' }), 400);

  // Routes newer than the request's microversion are not there (404), or not allowed (405).
  assertFault(await call('GET', '/traits', { version: '1.5' }), 404);
  assert.equal((await call('GET', '/traits', { version: '1.6' })).status, 200);
  const rp = await provider(`mv-${randomUUID()}`);
  assertFault(await call('DELETE', `/resource_providers/${rp}/inventories`, { version: '1.4' }), 405);
  // The error code appears from 1.23.
  assert.equal((await call('GET', '/nothing-here', { version: '1.22' })).json.errors[0].code, undefined);
  assertFault(await call('GET', '/nothing-here', { version: '1.23' }), 404, 'placement.undefined_code');
  const wrongMethod = await call('PATCH', '/resource_providers');
  assertFault(wrongMethod, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
});

test('authentication and policy: 401 without a token, 403 for a project member, a project reader sees its own usages', async () => {
  const anon = await fetch(`${h.placementUrl}/resource_providers`);
  assert.equal(anon.status, 401);
  assert.equal((await anon.json()).error.code, 401);
  assertFault(await demoCall('GET', '/resource_providers', { version: '1.39' }), 403, 'placement.undefined_code');
  assertFault(await demoCall('POST', '/resource_providers', { body: { name: 'nope' }, version: '1.39' }), 403);
  const own = await demoCall('GET', `/usages?project_id=${demoProjectId}`, { version: '1.9' });
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.json, { usages: {} });
  assertFault(await demoCall('GET', `/usages?project_id=${randomUUID()}`, { version: '1.9' }), 403);
});

test('providers: create (201 before 1.20, 200 with the body after), duplicates, trees, re-parenting rules, filters, delete', async () => {
  const name = `cn-${randomUUID()}`;
  const old = await call('POST', '/resource_providers', { body: { name }, version: '1.19' });
  assert.equal(old.status, 201);
  assert.match(old.headers.get('location') ?? '', /\/resource_providers\/[0-9a-f-]{36}$/);
  const root = old.headers.get('location')!.split('/').pop()!;
  assertFault(await call('POST', '/resource_providers', { body: { name }, version: '1.39' }), 409, 'placement.duplicate_name');
  assertFault(await call('POST', '/resource_providers', { body: { name: 'x', uuid: root }, version: '1.39' }), 409, 'placement.duplicate_name');

  const child = await provider(`numa-${randomUUID()}`, { parent: root });
  const grandchild = await provider(`pf-${randomUUID()}`, { parent: child });
  const g = await call('GET', `/resource_providers/${grandchild}`, { version: '1.39' });
  assert.equal(g.json.root_provider_uuid, root);
  assert.equal(g.json.parent_provider_uuid, child);
  assert.deepEqual(g.json.links.map((l: any) => l.rel), ['self', 'inventories', 'usages', 'aggregates', 'traits', 'allocations']);
  assert.equal((await call('GET', `/resource_providers/${grandchild}`, { version: '1.13' })).json.root_provider_uuid, undefined);

  const tree = await call('GET', `/resource_providers?in_tree=${grandchild}`, { version: '1.39' });
  assert.deepEqual(tree.json.resource_providers.map((p: any) => p.uuid).sort(), [root, child, grandchild].sort());
  assertFault(await call('GET', '/resource_providers?in_tree=not-a-uuid', { version: '1.39' }), 400);

  // A parent cannot be changed before 1.37, nor moved under its own subtree, nor deleted while it has children.
  const other = await provider(`other-${randomUUID()}`);
  assertFault(await call('PUT', `/resource_providers/${grandchild}`, { body: { name: 'pf', parent_provider_uuid: other }, version: '1.36' }), 400);
  assertFault(await call('PUT', `/resource_providers/${root}`, { body: { name, parent_provider_uuid: grandchild }, version: '1.39' }), 400);
  const moved = await call('PUT', `/resource_providers/${child}`, { body: { name: 'numa-moved', parent_provider_uuid: other }, version: '1.37' });
  assert.equal(moved.status, 200, moved.text);
  assert.equal((await call('GET', `/resource_providers/${grandchild}`, { version: '1.39' })).json.root_provider_uuid, other);
  assertFault(await call('DELETE', `/resource_providers/${other}`), 409, undefined);
  assert.equal((await call('DELETE', `/resource_providers/${other}`, { version: '1.39' })).json.errors[0].code, 'placement.resource_provider.cannot_delete_parent');
  for (const u of [grandchild, child, other, root]) assert.equal((await call('DELETE', `/resource_providers/${u}`)).status, 204);
  assertFault(await call('GET', `/resource_providers/${root}`), 404);
});

test('inventories: generations, capacity rules, classes in use, custom classes', async () => {
  const rp = await provider(`inv-${randomUUID()}`);
  const put = (gen: number, inventories: unknown, version = '1.39') => call('PUT', `/resource_providers/${rp}/inventories`, { body: { resource_provider_generation: gen, inventories }, version });
  const r = await put(0, { VCPU: { total: 8, allocation_ratio: 2.0 }, MEMORY_MB: { total: 2048, reserved: 512, max_unit: 1024, step_size: 256 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.resource_provider_generation, 1);
  assert.deepEqual(r.json.inventories.MEMORY_MB, { total: 2048, reserved: 512, min_unit: 1, max_unit: 1024, step_size: 256, allocation_ratio: 1 });
  assertFault(await put(0, { VCPU: { total: 4 } }), 409, 'placement.concurrent_update');
  // reserved == total: refused before 1.26, accepted after.
  assertFault(await put(1, { VCPU: { total: 4, reserved: 4 } }, '1.25'), 400);
  const eq = await put(1, { VCPU: { total: 4, reserved: 4 }, MEMORY_MB: { total: 2048 } });
  assert.equal(eq.status, 200, eq.text);
  assertFault(await put(2, { VCPU: { total: 4, reserved: 5 } }), 400);
  assertFault(await put(2, { CUSTOM_NOT_THERE: { total: 4 } }), 400);
  assertFault(await put(2, { VCPU: { total: 0 } }), 400);
  assertFault(await put(2, { VCPU: { total: 2147483648 } }), 400);

  assert.equal((await call('PUT', '/resource_classes/CUSTOM_GOLD', { version: '1.7' })).status, 201);
  assert.equal((await call('PUT', '/resource_classes/CUSTOM_GOLD', { version: '1.7' })).status, 204);
  assertFault(await call('PUT', '/resource_classes/VCPU', { version: '1.7' }), 400);
  const gold = await put(2, { VCPU: { total: 8 }, CUSTOM_GOLD: { total: 3 } });
  assert.equal(gold.status, 200, gold.text);
  const consumer = randomUUID();
  const alloc = await call('PUT', `/allocations/${consumer}`, { body: { allocations: { [rp]: { resources: { CUSTOM_GOLD: 2 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' }, version: '1.39' });
  assert.equal(alloc.status, 204, alloc.text);
  const gen = (await call('GET', `/resource_providers/${rp}`, { version: '1.39' })).json.generation;
  assertFault(await put(gen, { VCPU: { total: 8 } }), 409, 'placement.inventory.inuse');
  assertFault(await call('DELETE', `/resource_classes/CUSTOM_GOLD`, { version: '1.39' }), 409);
  assertFault(await call('DELETE', `/resource_classes/VCPU`, { version: '1.39' }), 400);
  assertFault(await call('DELETE', `/resource_providers/${rp}`, { version: '1.39' }), 409, 'placement.resource_provider.inuse');
  assert.equal((await call('DELETE', `/allocations/${consumer}`)).status, 204);
  assertFault(await call('DELETE', `/allocations/${consumer}`), 404);
  assert.equal((await call('DELETE', `/resource_providers/${rp}/inventories/CUSTOM_GOLD`)).status, 204);
  assert.equal((await call('DELETE', '/resource_classes/CUSTOM_GOLD', { version: '1.2' })).status, 204);
  const single = await call('GET', `/resource_providers/${rp}/inventories/VCPU`);
  assert.equal(single.json.total, 8);
  assertFault(await call('GET', `/resource_providers/${rp}/inventories/DISK_GB`), 404);
});

test('traits and aggregates: custom traits, provider traits guarded by generation, filters on GET /resource_providers', async () => {
  assertFault(await call('PUT', '/traits/NOT_CUSTOM', { version: '1.6' }), 400);
  assertFault(await call('DELETE', '/traits/HW_CPU_X86_AVX', { version: '1.6' }), 400);
  assert.equal((await call('GET', '/traits/COMPUTE_ARCH_X86_64', { version: '1.6' })).status, 204);
  const listed = await call('GET', '/traits?name=startswith:HW_CPU_X86_AVX', { version: '1.6' });
  assert.ok(listed.json.traits.includes('HW_CPU_X86_AVX2'), listed.text);
  assert.ok(listed.json.traits.every((t: string) => t.startsWith('HW_CPU_X86_AVX')));
  const agg = randomUUID();
  const fast = await provider(`fast-${randomUUID()}`, { traits: ['HW_CPU_X86_AVX2', 'CUSTOM_FAST'], aggregates: [agg] });
  const slow = await provider(`slow-${randomUUID()}`, { traits: ['HW_CPU_X86_SSE'] });
  const names = async (q: string, version = '1.39') => (await call('GET', `/resource_providers?${q}`, { version })).json.resource_providers.map((p: any) => p.uuid);
  assert.deepEqual(await names('required=CUSTOM_FAST'), [fast]);
  assert.ok(!(await names('required=!CUSTOM_FAST')).includes(fast));
  assert.ok((await names('required=!CUSTOM_FAST')).includes(slow));
  assert.deepEqual((await names('required=in:CUSTOM_FAST,HW_CPU_X86_SSE')).filter((u: string) => u === fast || u === slow).sort(), [fast, slow].sort());
  assertFault(await call('GET', '/resource_providers?required=in:CUSTOM_FAST', { version: '1.38' }), 400);
  assertFault(await call('GET', '/resource_providers?required=CUSTOM_UNKNOWN_TRAIT', { version: '1.39' }), 400);
  assert.deepEqual(await names(`member_of=${agg}`), [fast]);
  assert.ok(!(await names(`member_of=!${agg}`)).includes(fast));

  const t = await call('GET', `/resource_providers/${fast}/traits`, { version: '1.6' });
  assert.deepEqual(t.json.traits, ['HW_CPU_X86_AVX2', 'CUSTOM_FAST']);
  assertFault(await call('PUT', `/resource_providers/${fast}/traits`, { body: { traits: [], resource_provider_generation: t.json.resource_provider_generation - 1 }, version: '1.23' }), 409, 'placement.concurrent_update');
  assertFault(await call('PUT', `/resource_providers/${fast}/traits`, { body: { traits: ['CUSTOM_NOPE'], resource_provider_generation: t.json.resource_provider_generation }, version: '1.23' }), 400);
  assertFault(await call('DELETE', '/traits/CUSTOM_FAST', { version: '1.6' }), 409);

  const a = await call('GET', `/resource_providers/${fast}/aggregates`, { version: '1.19' });
  assert.deepEqual(a.json.aggregates, [agg]);
  assertFault(await call('PUT', `/resource_providers/${fast}/aggregates`, { body: { aggregates: [], resource_provider_generation: a.json.resource_provider_generation + 5 }, version: '1.23' }), 409, 'placement.concurrent_update');
  const legacy = await call('PUT', `/resource_providers/${fast}/aggregates`, { body: [agg, randomUUID()], version: '1.1' });
  assert.equal(legacy.status, 200, legacy.text);
  assert.equal(legacy.json.aggregates.length, 2);
  assert.equal(legacy.json.resource_provider_generation, undefined);
});

test('allocations: consumer generations, capacity and unit rules, POST for several consumers, usages by project and type', async () => {
  const rp = await provider(`alloc-${randomUUID()}`, { inventory: { VCPU: { total: 4 }, MEMORY_MB: { total: 1024, min_unit: 128, step_size: 128 } } });
  const c1 = randomUUID();
  const project = randomUUID();
  const body = (resources: Record<string, number>, gen: number | null, type = 'INSTANCE') => ({ allocations: { [rp]: { resources } }, project_id: project, user_id: 'alice', consumer_generation: gen, consumer_type: type });
  assert.equal((await call('PUT', `/allocations/${c1}`, { body: body({ VCPU: 2, MEMORY_MB: 256 }, null), version: '1.39' })).status, 204);
  const got = await call('GET', `/allocations/${c1}`, { version: '1.39' });
  assert.deepEqual(got.json, { allocations: { [rp]: { generation: got.json.allocations[rp].generation, resources: { VCPU: 2, MEMORY_MB: 256 } } }, project_id: project, user_id: 'alice', consumer_generation: 1, consumer_type: 'INSTANCE' });
  assertFault(await call('PUT', `/allocations/${c1}`, { body: body({ VCPU: 1 }, null), version: '1.39' }), 409, 'placement.concurrent_update');
  assertFault(await call('PUT', `/allocations/${c1}`, { body: body({ VCPU: 1 }, 7), version: '1.39' }), 409, 'placement.concurrent_update');
  assert.equal((await call('PUT', `/allocations/${c1}`, { body: body({ VCPU: 3, MEMORY_MB: 256 }, 1), version: '1.39' })).status, 204);

  const c2 = randomUUID();
  const over = await call('PUT', `/allocations/${c2}`, { body: body({ VCPU: 2 }, null), version: '1.39' });
  assertFault(over, 409);
  assert.match(over.json.errors[0].detail, /would exceed the capacity/);
  const step = await call('PUT', `/allocations/${c2}`, { body: body({ MEMORY_MB: 100 }, null), version: '1.39' });
  assertFault(step, 409);
  assert.match(step.json.errors[0].detail, /would violate inventory constraints/);
  assertFault(await call('PUT', `/allocations/${c2}`, { body: body({ DISK_GB: 1 }, null), version: '1.39' }), 409);
  assertFault(await call('PUT', `/allocations/${c2}`, { body: { ...body({ VCPU: 1 }, null), allocations: { [randomUUID()]: { resources: { VCPU: 1 } } } }, version: '1.39' }), 400);
  assertFault(await call('PUT', '/allocations/not-a-uuid', { body: body({ VCPU: 1 }, null), version: '1.39' }), 400);

  // POST moves capacity between consumers atomically (a migration's swap).
  const migration = randomUUID();
  const gen1 = (await call('GET', `/allocations/${c1}`, { version: '1.39' })).json.consumer_generation;
  const post = await call('POST', '/allocations', {
    body: {
      [c1]: { allocations: {}, project_id: project, user_id: 'alice', consumer_generation: gen1, consumer_type: 'INSTANCE' },
      [migration]: { allocations: { [rp]: { resources: { VCPU: 3, MEMORY_MB: 256 } } }, project_id: project, user_id: 'alice', consumer_generation: null, consumer_type: 'MIGRATION' },
    },
    version: '1.39',
  });
  assert.equal(post.status, 204, post.text);
  assert.deepEqual((await call('GET', `/allocations/${c1}`, { version: '1.39' })).json, { allocations: {} });
  assert.deepEqual((await call('GET', `/resource_providers/${rp}/usages`)).json.usages, { MEMORY_MB: 256, VCPU: 3 });
  const byRp = await call('GET', `/resource_providers/${rp}/allocations`, { version: '1.28' });
  assert.deepEqual(byRp.json.allocations, { [migration]: { resources: { VCPU: 3, MEMORY_MB: 256 }, consumer_generation: 1 } });

  assert.deepEqual((await call('GET', `/usages?project_id=${project}`, { version: '1.9' })).json, { usages: { MEMORY_MB: 256, VCPU: 3 } });
  assert.deepEqual((await call('GET', `/usages?project_id=${project}`, { version: '1.38' })).json, { usages: { MIGRATION: { MEMORY_MB: 256, VCPU: 3, consumer_count: 1 } } });
  assert.deepEqual((await call('GET', `/usages?project_id=${project}&consumer_type=all`, { version: '1.38' })).json, { usages: { all: { MEMORY_MB: 256, VCPU: 3, consumer_count: 1 } } });
  assertFault(await call('GET', '/usages', { version: '1.9' }), 400);
  // Before 1.8 the project is the "incomplete consumer" one; before 1.12 the body is a list.
  const legacy = randomUUID();
  assert.equal((await call('PUT', `/allocations/${legacy}`, { body: { allocations: [{ resource_provider: { uuid: rp }, resources: { VCPU: 1 } }] }, version: '1.7' })).status, 204);
  const lg = await call('GET', `/allocations/${legacy}`, { version: '1.12' });
  assert.equal(lg.json.project_id, '00000000-0000-0000-0000-000000000000');
  // A safe delete: empty allocations at the consumer's generation.
  assert.equal((await call('PUT', `/allocations/${legacy}`, { body: { allocations: {}, project_id: 'x', user_id: 'y', consumer_generation: 1, consumer_type: 'INSTANCE' }, version: '1.39' })).status, 204);
  assert.deepEqual((await call('GET', `/resource_providers/${rp}/usages`)).json.usages, { MEMORY_MB: 256, VCPU: 3 });
});

test('allocation candidates: flat hosts, traits (required, forbidden, any-of), aggregates, limit, summaries by microversion', async () => {
  const agg = randomUUID();
  const tag = `CUSTOM_AC_${randomUUID().slice(0, 8).toUpperCase()}`;
  const a = await provider(`ac-a-${randomUUID()}`, { inventory: { VCPU: { total: 4 }, MEMORY_MB: { total: 4096 } }, traits: [tag, 'HW_CPU_X86_AVX2'], aggregates: [agg] });
  const b = await provider(`ac-b-${randomUUID()}`, { inventory: { VCPU: { total: 4 }, MEMORY_MB: { total: 4096 } }, traits: [tag, 'HW_CPU_X86_SSE'] });
  await provider(`ac-c-${randomUUID()}`, { inventory: { VCPU: { total: 1 }, MEMORY_MB: { total: 4096 } }, traits: [tag] });
  const mine = (json: any) => requestsOf(json).filter((r) => r.includes(a) || r.includes(b));

  const both = await candidates(`resources=VCPU:2,MEMORY_MB:1024&required=${tag}`);
  assert.equal(both.status, 200, both.text);
  assert.deepEqual(requestsOf(both.json), [`${a}:MEMORY_MB=1024 ${a}:VCPU=2`, `${b}:MEMORY_MB=1024 ${b}:VCPU=2`].sort());
  assert.deepEqual(both.json.provider_summaries[a].resources, { VCPU: { capacity: 4, used: 0 }, MEMORY_MB: { capacity: 4096, used: 0 } });
  assert.deepEqual(both.json.provider_summaries[a].traits.sort(), [tag, 'HW_CPU_X86_AVX2'].sort());
  assert.equal(both.json.provider_summaries[a].root_provider_uuid, a);
  assert.deepEqual(both.json.allocation_requests[0].mappings[''].length, 1);

  assert.deepEqual(mine((await candidates(`resources=VCPU:2&required=${tag},!HW_CPU_X86_SSE`)).json), [`${a}:VCPU=2`]);
  assert.deepEqual(mine((await candidates(`resources=VCPU:2&required=${tag}&required=in:HW_CPU_X86_SSE,HW_CPU_X86_SSE2`)).json), [`${b}:VCPU=2`]);
  assert.deepEqual(mine((await candidates(`resources=VCPU:2&member_of=${agg}`)).json), [`${a}:VCPU=2`]);
  assert.deepEqual(mine((await candidates(`resources=VCPU:2&member_of=!${agg}&required=${tag}`)).json), [`${b}:VCPU=2`]);
  const limited = await candidates(`resources=VCPU:2&required=${tag}&limit=1`);
  assert.equal(limited.json.allocation_requests.length, 1);
  assert.equal(Object.keys(limited.json.provider_summaries).length, 1);
  assert.equal((await candidates(`resources=VCPU:5&required=${tag}`)).json.allocation_requests.length, 0);

  // Older shapes: the list form before 1.12, no traits before 1.17, only requested classes before 1.27.
  const v110 = await candidates(`resources=VCPU:2,MEMORY_MB:1024`, '1.10');
  assert.ok(Array.isArray(v110.json.allocation_requests[0].allocations));
  const v126 = await candidates(`resources=VCPU:2&required=${tag}`, '1.26');
  assert.deepEqual(Object.keys(v126.json.provider_summaries[a].resources), ['VCPU']);
  assert.equal(v126.json.provider_summaries[a].root_provider_uuid, undefined);
  assert.equal((await candidates(`resources=VCPU:2`, '1.16')).json.provider_summaries[a].traits, undefined);

  assertFault(await candidates('resources=VCPU:x'), 400);
  assertFault(await candidates('resources=CUSTOM_NO_SUCH:1'), 400);
  assertFault(await candidates('resources=VCPU:1&required=CUSTOM_NO_SUCH_TRAIT'), 400);
  assertFault(await candidates('resources=VCPU:1&limit=0'), 400);
  assertFault(await candidates('resources=VCPU:1&bogus=1'), 400);
  assertFault(await candidates(`resources=VCPU:1&required=${tag}&required=!${tag}`), 400);
  assertFault(await candidates('resources1=VCPU:1&resources2=MEMORY_MB:1'), 400);
  const missing = await candidates('required=HW_CPU_X86_AVX');
  assertFault(missing, 400, 'placement.query.missing_value');
});

test('allocation candidates: nested trees, sharing providers, granular groups with isolate, root_required, same_subtree', async () => {
  const agg = randomUUID();
  const root = await provider(`tree-${randomUUID()}`, { inventory: { VCPU: { total: 8 }, MEMORY_MB: { total: 8192 } }, traits: ['COMPUTE_VOLUME_MULTI_ATTACH'], aggregates: [agg] });
  const nic = await provider(`nic-${randomUUID()}`, { parent: root, traits: ['CUSTOM_NIC_ROOT'] });
  const pf1 = await provider(`pf1-${randomUUID()}`, { parent: nic, inventory: { SRIOV_NET_VF: { total: 4 } }, traits: ['CUSTOM_PHYSNET_A'] });
  const pf2 = await provider(`pf2-${randomUUID()}`, { parent: nic, inventory: { SRIOV_NET_VF: { total: 4 } }, traits: ['CUSTOM_PHYSNET_B'] });
  const share = await provider(`nfs-${randomUUID()}`, { inventory: { DISK_GB: { total: 1000 } }, traits: ['MISC_SHARES_VIA_AGGREGATE'], aggregates: [agg] });

  // The unsuffixed group takes VCPU from the root, a VF from either PF and disk from the share
  // (in_tree would leave the share out: it is not in the tree).
  const r = await candidates('resources=VCPU:1,SRIOV_NET_VF:1,DISK_GB:10');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(requestsOf(r.json), [
    [`${root}:VCPU=1`, `${pf1}:SRIOV_NET_VF=1`, `${share}:DISK_GB=10`].sort().join(' '),
    [`${root}:VCPU=1`, `${pf2}:SRIOV_NET_VF=1`, `${share}:DISK_GB=10`].sort().join(' '),
  ].sort());
  assert.equal((await candidates(`resources=VCPU:1,SRIOV_NET_VF:1,DISK_GB:10&in_tree=${root}`)).json.allocation_requests.length, 0);
  // Every provider of the trees involved is summarised, the resourceless NIC too.
  for (const u of [root, nic, pf1, pf2, share]) assert.ok(r.json.provider_summaries[u], `summary of ${u}`);
  assert.equal(r.json.provider_summaries[pf1].parent_provider_uuid, nic);
  // Before 1.29 a request may not use two providers of one tree.
  assert.equal((await candidates('resources=VCPU:1,SRIOV_NET_VF:1', '1.29')).json.allocation_requests.length, 2);
  assert.equal((await candidates('resources=VCPU:1,SRIOV_NET_VF:1', '1.28')).json.allocation_requests.length, 0);

  // Granular groups: one VF on physnet A and one on physnet B, on different PFs.
  const g = await candidates(`resources=VCPU:1&in_tree=${root}&resources_A=SRIOV_NET_VF:1&required_A=CUSTOM_PHYSNET_A&resources_B=SRIOV_NET_VF:1&required_B=CUSTOM_PHYSNET_B&group_policy=isolate`);
  assert.equal(g.json.allocation_requests.length, 1, g.text);
  assert.deepEqual(g.json.allocation_requests[0].mappings, { '': [root], _A: [pf1], _B: [pf2] });
  // Two VFs from two distinct PFs (isolate) vs possibly the same one (none).
  const isolate = await candidates(`resources=VCPU:1&in_tree=${root}&resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=isolate`);
  assert.equal(isolate.json.allocation_requests.length, 2);
  const none = await candidates(`resources=VCPU:1&in_tree=${root}&resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1&group_policy=none`);
  assert.equal(none.json.allocation_requests.length, 4);
  assert.ok(requestsOf(none.json).some((x) => x.includes(`${pf1}:SRIOV_NET_VF=2`)));

  // root_required filters on the root's traits; same_subtree ties groups under one provider.
  assert.equal((await candidates(`resources=VCPU:1&in_tree=${root}&root_required=COMPUTE_VOLUME_MULTI_ATTACH`)).json.allocation_requests.length, 1);
  assert.equal((await candidates(`resources=VCPU:1&in_tree=${root}&root_required=!COMPUTE_VOLUME_MULTI_ATTACH`)).json.allocation_requests.length, 0);
  const st = await candidates(`resources_VF1=SRIOV_NET_VF:1&resources_VF2=SRIOV_NET_VF:1&required_NIC=CUSTOM_NIC_ROOT&same_subtree=_VF1,_VF2,_NIC&group_policy=isolate&in_tree_VF1=${root}`);
  assert.equal(st.status, 200, st.text);
  assert.equal(st.json.allocation_requests.length, 2);
  for (const req of st.json.allocation_requests) assert.deepEqual(req.mappings._NIC, [nic]);
  assertFault(await candidates('resources_VF1=SRIOV_NET_VF:1&required_NIC=CUSTOM_NIC_ROOT'), 400, 'placement.query.bad_value');
});

test('reshaper: inventory and the allocations against it move from a root to a new child in one step', async () => {
  const root = await provider(`rs-${randomUUID()}`, { inventory: { VCPU: { total: 4 }, VGPU: { total: 2 } } });
  const consumer = randomUUID();
  assert.equal((await call('PUT', `/allocations/${consumer}`, { body: { allocations: { [root]: { resources: { VCPU: 1, VGPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' }, version: '1.39' })).status, 204);
  const gpu = await provider(`rs-gpu-${randomUUID()}`, { parent: root });
  const rootGen = (await call('GET', `/resource_providers/${root}`)).json.generation;
  const gpuGen = (await call('GET', `/resource_providers/${gpu}`)).json.generation;
  const reshape = (rg: number) => call('POST', '/reshaper', {
    body: {
      inventories: {
        [root]: { resource_provider_generation: rg, inventories: { VCPU: { total: 4 } } },
        [gpu]: { resource_provider_generation: gpuGen, inventories: { VGPU: { total: 2 } } },
      },
      allocations: { [consumer]: { allocations: { [root]: { resources: { VCPU: 1 } }, [gpu]: { resources: { VGPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: 1, consumer_type: 'INSTANCE' } },
    },
    version: '1.39',
  });
  assertFault(await reshape(rootGen + 1), 409, 'placement.concurrent_update');
  assertFault(await call('POST', '/reshaper', { body: { inventories: {}, allocations: {} }, version: '1.29' }), 404);
  const r = await reshape(rootGen);
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(Object.keys((await call('GET', `/resource_providers/${root}/inventories`)).json.inventories), ['VCPU']);
  assert.deepEqual((await call('GET', `/resource_providers/${gpu}/usages`)).json.usages, { VGPU: 1 });
  assert.deepEqual((await call('GET', `/resource_providers/${root}/usages`)).json.usages, { VCPU: 1 });
  assert.equal((await call('GET', `/allocations/${consumer}`, { version: '1.39' })).json.consumer_generation, 2);
});
