// Quota sets, quota classes and limits over real HTTP, per microversion, with usage from the hooks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import type { ComputeHooks } from '../../src/compute/context.js';
import { computeApi, type ComputeApi } from './client.js';

let h: IdentityHarness;
let api: ComputeApi;
let admin: string;
let demo: string;
let demoProject: string;
let adminProject: string;
let demoUser: string;
let savedHooks: ComputeHooks;
/** What the servers hook reports (as the servers code would count them), per project. */
const held = new Map<string, { instances: number; cores: number; ram: number }>();

before(async () => {
  h = await startIdentity();
  api = computeApi(h.computeUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  const projectId = async (name: string) => (await h.id.db.selectFrom('project').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
  demoProject = await projectId('demo');
  adminProject = await projectId('admin');
  demoUser = (await h.id.db.selectFrom('user_account').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow()).id;
  savedHooks = h.cloud.compute.ctx.hooks;
  h.cloud.compute.setHooks({
    instanceUsage: async (p, u) => (u && u !== demoUser ? { instances: 0, cores: 0, ram: 0 } : held.get(p) ?? { instances: 0, cores: 0, ram: 0 }),
    serverGroupUsage: async () => 0,
  });
});
after(async () => {
  if (h) h.cloud.compute.ctx.hooks = savedHooks;
  await h?.close();
});

const NETWORK = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const INJECTION = ['injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files'];
const CORE = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_group_members', 'server_groups'];

test('quota sets show the configured defaults, with the resources each microversion keeps', async () => {
  const v21 = (await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo)).quota_set;
  assert.deepEqual(Object.keys(v21).sort(), ['id', ...CORE, ...NETWORK, ...INJECTION].sort());
  assert.equal(v21.id, demoProject);
  assert.deepEqual([v21.instances, v21.cores, v21.ram, v21.key_pairs, v21.metadata_items, v21.floating_ips], [10, 20, 51200, 100, 128, -1]);
  assert.deepEqual(Object.keys((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo, undefined, 200, { version: '2.36' })).quota_set).sort(), ['id', ...CORE, ...INJECTION].sort());
  assert.deepEqual(Object.keys((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo, undefined, 200, { version: '2.57' })).quota_set).sort(), ['id', ...CORE].sort());
  assert.deepEqual((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}/defaults`, demo, undefined, 200, { version: '2.57' })).quota_set,
    { id: demoProject, cores: 20, instances: 10, key_pairs: 100, metadata_items: 128, ram: 51200, server_group_members: 10, server_groups: 10 });
  // Readers see their own project only; a project that does not exist is Nova's 400.
  assert.match(await api.fault('GET', `/v2.1/os-quota-sets/${adminProject}`, demo, undefined, 403), /os-quota-sets:show/);
  assert.match(await api.fault('GET', '/v2.1/os-quota-sets/no-such-project', admin, undefined, 400), /Project ID no-such-project is not a valid project/);
});

test('updates: admin only, validated like Nova (range, types, keys removed at 2.36), response without id; delete restores defaults', async () => {
  const r = await api.ok('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { instances: 5, cores: '9', ram: -1 } }, 200, { version: '2.57' });
  assert.equal('id' in r.quota_set, false);
  assert.deepEqual([r.quota_set.instances, r.quota_set.cores, r.quota_set.ram], [5, 9, -1]);
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo)).quota_set.instances, 5);
  await api.fault('PUT', `/v2.1/os-quota-sets/${demoProject}`, demo, { quota_set: { instances: 50 } }, 403);
  for (const [body, re] of [
    [{ quota_set: { instances: -2 } }, /field\/attribute instances.*less than the minimum of -1/],
    [{ quota_set: { instances: 'many' } }, /field\/attribute instances/],
    [{ quota_set: { instances: 2 ** 31 } }, /greater than the maximum/],
    [{ quota_set: { widgets: 1 } }, /'widgets' was unexpected/],
    [{ quota_set: { force: 'perhaps' } }, /field\/attribute force/],
    [{ quota: {} }, /'quota_set' is a required property/],
  ] as const) assert.match(await api.fault('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, body, 400), re, JSON.stringify(body));
  await api.ok('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { floating_ips: 3 } }, 200, { version: '2.35' });
  assert.match(await api.fault('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { floating_ips: 3 } }, 400, { version: '2.36' }), /'floating_ips' was unexpected/);
  await api.ok('DELETE', `/v2.1/os-quota-sets/${demoProject}`, admin, undefined, 202);
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo)).quota_set.instances, 10);
});

test('usage: detail shows in_use from the servers hook; a limit below usage needs force', async () => {
  held.set(demoProject, { instances: 3, cores: 6, ram: 1536 });
  try {
    const d = (await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}/detail`, demo, undefined, 200, { version: '2.57' })).quota_set;
    assert.deepEqual(d.instances, { limit: 10, in_use: 3, reserved: 0 });
    assert.deepEqual(d.cores, { limit: 20, in_use: 6, reserved: 0 });
    assert.deepEqual(d.ram, { limit: 51200, in_use: 1536, reserved: 0 });
    assert.match(await api.fault('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { instances: 2 } }, 400),
      /Quota limit 2 for instances must be greater than or equal to already used and reserved 3/);
    await api.ok('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { instances: 3, cores: -1 } });
    await api.ok('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { instances: 2, force: true } });
    assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo)).quota_set.instances, 2);
  } finally {
    held.delete(demoProject);
    await api.ok('DELETE', `/v2.1/os-quota-sets/${demoProject}`, admin, undefined, 202);
  }
});

test('per-user quotas: within what the project has left; shown and deleted per user', async () => {
  await api.ok('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { instances: 6 } });
  await api.ok('PUT', `/v2.1/os-quota-sets/${demoProject}?user_id=${demoUser}`, admin, { quota_set: { instances: 4 } });
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}?user_id=${demoUser}`, admin)).quota_set.instances, 4);
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, admin)).quota_set.instances, 6);
  assert.match(await api.fault('PUT', `/v2.1/os-quota-sets/${demoProject}?user_id=other-user`, admin, { quota_set: { instances: 5 } }, 400),
    /must be less than or equal to 2/);
  // The project limit cannot drop below what its users were given.
  assert.match(await api.fault('PUT', `/v2.1/os-quota-sets/${demoProject}`, admin, { quota_set: { instances: 3 } }, 400), /greater than or equal to already used and reserved 4/);
  await api.ok('DELETE', `/v2.1/os-quota-sets/${demoProject}?user_id=${demoUser}`, admin, undefined, 202);
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}?user_id=${demoUser}`, admin)).quota_set.instances, 6);
  await api.ok('DELETE', `/v2.1/os-quota-sets/${demoProject}`, admin, undefined, 202);
  assert.match(await api.fault('GET', `/v2.1/os-quota-sets/${demoProject}?colour=red`, admin, undefined, 400, { version: '2.75' }), /Additional properties/);
});

test('quota classes: admin only; the default class changes every project\'s defaults; server groups shown from 2.50', async () => {
  const v21 = (await api.ok('GET', '/v2.1/os-quota-class-sets/default', admin)).quota_class_set;
  assert.equal(v21.id, 'default');
  assert.equal('server_groups' in v21, false);
  assert.equal('floating_ips' in v21, true);
  const v250 = (await api.ok('GET', '/v2.1/os-quota-class-sets/default', admin, undefined, 200, { version: '2.50' })).quota_class_set;
  assert.equal(v250.server_groups, 10);
  assert.equal('floating_ips' in v250, false);
  assert.equal('injected_files' in (await api.ok('GET', '/v2.1/os-quota-class-sets/default', admin, undefined, 200, { version: '2.57' })).quota_class_set, false);
  await api.fault('GET', '/v2.1/os-quota-class-sets/default', demo, undefined, 403);
  const upd = await api.ok('PUT', '/v2.1/os-quota-class-sets/default', admin, { quota_class_set: { instances: 13 } }, 200, { version: '2.57' });
  assert.equal(upd.quota_class_set.instances, 13);
  assert.equal('id' in upd.quota_class_set, false);
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}`, demo)).quota_set.instances, 13);
  assert.equal((await api.ok('GET', `/v2.1/os-quota-sets/${demoProject}/defaults`, demo)).quota_set.instances, 13);
  await api.fault('PUT', '/v2.1/os-quota-class-sets/default', admin, { quota_class_set: { floating_ips: 1 } }, 400, { version: '2.50' });
  await api.ok('PUT', '/v2.1/os-quota-class-sets/default', admin, { quota_class_set: { instances: 10 } });
});

test('limits: absolute limits and usage per microversion; other projects\' limits for admins only', async () => {
  held.set(demoProject, { instances: 2, cores: 3, ram: 640 });
  try {
    const v21 = (await api.ok('GET', '/v2.1/limits', demo)).limits;
    assert.deepEqual(v21.rate, []);
    assert.deepEqual(Object.keys(v21.absolute).sort(), [
      'maxImageMeta', 'maxPersonality', 'maxPersonalitySize', 'maxSecurityGroupRules', 'maxSecurityGroups', 'maxServerGroupMembers',
      'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalFloatingIps', 'maxTotalInstances', 'maxTotalKeypairs', 'maxTotalRAMSize',
      'totalCoresUsed', 'totalFloatingIpsUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalSecurityGroupsUsed', 'totalServerGroupsUsed',
    ]);
    assert.deepEqual([v21.absolute.totalInstancesUsed, v21.absolute.totalCoresUsed, v21.absolute.totalRAMUsed], [2, 3, 640]);
    assert.equal(v21.absolute.maxTotalInstances, 10);
    const v257 = (await api.ok('GET', '/v2.1/limits', demo, undefined, 200, { version: '2.57' })).limits.absolute;
    assert.deepEqual(Object.keys(v257).sort(), [
      'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalInstances', 'maxTotalKeypairs', 'maxTotalRAMSize',
      'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed',
    ]);
    assert.equal('maxImageMeta' in (await api.ok('GET', '/v2.1/limits', demo, undefined, 200, { version: '2.39' })).limits.absolute, false);
    const other = (await api.ok('GET', `/v2.1/limits?tenant_id=${demoProject}`, admin)).limits.absolute;
    assert.equal(other.totalInstancesUsed, 2);
    assert.equal((await api.ok('GET', '/v2.1/limits', admin)).limits.absolute.totalInstancesUsed, 0);
    assert.match(await api.fault('GET', `/v2.1/limits?tenant_id=${adminProject}`, demo, undefined, 403), /limits:other_project/);
  } finally {
    held.delete(demoProject);
  }
});
