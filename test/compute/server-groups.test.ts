// Server groups through the compute API over HTTP: create/list/show/delete per microversion,
// validation, visibility, quotas; members joining with the scheduler hint `group` and leaving on
// delete; and the scheduler honouring the policies across two simulated (`fake`) compute hosts —
// hard anti-affinity spreads or fails with a fault naming its filter, affinity stacks, soft
// anti-affinity spreads without failing, max_server_per_host (2.64) caps each host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCompute, until, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
const HOSTS = [`fake-${process.pid}-a`, `fake-${process.pid}-b`];
before(async () => { c = await startFakeCompute(HOSTS); });
after(async () => { await c?.close(); });

const groups = (token: string, query = '', version?: string) => c.api.ok('GET', `/v2.1/os-server-groups${query}`, token, undefined, 200, version ? { version } : {}).then((b) => b.server_groups as any[]);
const createGroup = (token: string, group: Record<string, unknown>, version?: string) => c.api.ok('POST', '/v2.1/os-server-groups', token, { server_group: group }, 200, version ? { version } : {}).then((b) => b.server_group);
const showGroup = (token: string, id: string, version?: string) => c.api.ok('GET', `/v2.1/os-server-groups/${id}`, token, undefined, 200, version ? { version } : {}).then((b) => b.server_group);
const setQuota = (project: string, quota: Record<string, number>) => c.api.ok('PUT', `/v2.1/os-quota-sets/${project}`, c.admin, { quota_set: quota });
const hostOf = async (id: string) => (await c.show(id))['OS-EXT-SRV-ATTR:host'] as string;

test('create/show/list/delete per microversion: policies (2.1), project and user (2.13), soft policies (2.15), policy and rules (2.64)', async () => {
  const g1 = await createGroup(c.demo, { name: 'g1', policies: ['anti-affinity'] });
  assert.deepEqual(Object.keys(g1).sort(), ['id', 'members', 'metadata', 'name', 'policies']);
  assert.deepEqual([g1.name, g1.policies, g1.members, g1.metadata], ['g1', ['anti-affinity'], [], {}]);
  const shown13 = await showGroup(c.demo, g1.id, '2.13');
  assert.equal(shown13.project_id, c.demoProject);
  assert.match(shown13.user_id, /^[0-9a-f]{32}$/);
  assert.deepEqual(shown13.policies, ['anti-affinity']);
  const shown64 = await showGroup(c.demo, g1.id, '2.64');
  assert.deepEqual([shown64.policy, shown64.rules, 'policies' in shown64, 'metadata' in shown64], ['anti-affinity', {}, false, false]);

  // Soft policies only from 2.15; policy/rules only from 2.64.
  let msg = await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policies: ['soft-affinity'] } }, 400, { version: '2.14' });
  assert.match(msg, /'soft-affinity' is not one of \['anti-affinity', 'affinity'\]/);
  const soft = await createGroup(c.demo, { name: 'soft', policies: ['soft-anti-affinity'] }, '2.15');
  assert.deepEqual(soft.policies, ['soft-anti-affinity']);
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policy: 'affinity' } }, 400, { version: '2.63' });
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policies: ['affinity'] } }, 400, { version: '2.64' });
  msg = await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } } }, 400, { version: '2.64' });
  assert.equal(msg, 'Only anti-affinity policy supports rules.');
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } } }, 400, { version: '2.64' });
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policy: 'anti-affinity', rules: { other: 1 } } }, 400, { version: '2.64' });
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policy: 'spread' } }, 400, { version: '2.64' });
  const ruled = await createGroup(c.demo, { name: 'ruled', policy: 'anti-affinity', rules: { max_server_per_host: '3' } }, '2.64');
  assert.deepEqual([ruled.policy, ruled.rules, ruled.project_id], ['anti-affinity', { max_server_per_host: 3 }, c.demoProject]);
  assert.deepEqual((await showGroup(c.demo, ruled.id)).policies, ['anti-affinity'], 'a 2.64 group seen at 2.1');
  msg = await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { policies: ['affinity'] } }, 400);
  assert.match(msg, /'name' is a required property/);
  msg = await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: ' padded', policies: ['affinity'] } }, 400);
  assert.match(msg, /invalid 'name'/);
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policies: ['affinity', 'anti-affinity'] } }, 400);
  await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'x', policies: [] } }, 400);
  // Same name twice is fine (two groups).
  const dup = await createGroup(c.demo, { name: 'g1', policies: ['anti-affinity'] });
  assert.notEqual(dup.id, g1.id);

  // Other projects' groups do not exist for a non-admin; an admin sees them.
  const adminGroup = await createGroup(c.admin, { name: 'admins', policies: ['affinity'] });
  await c.api.fault('GET', `/v2.1/os-server-groups/${adminGroup.id}`, c.demo, undefined, 404);
  await c.api.fault('DELETE', `/v2.1/os-server-groups/${adminGroup.id}`, c.demo, undefined, 404);
  assert.equal((await showGroup(c.admin, g1.id)).name, 'g1');

  // Lists: own project; all_projects for admins only (a non-admin silently gets its own); limit/offset.
  const demoIds = [g1.id, soft.id, ruled.id, dup.id];
  assert.deepEqual((await groups(c.demo)).map((g) => g.id), demoIds);
  assert.deepEqual((await groups(c.demo, '?all_projects=1')).map((g) => g.id), demoIds);
  assert.deepEqual((await groups(c.admin)).map((g) => g.id), [adminGroup.id]);
  assert.deepEqual((await groups(c.admin, '?all_projects=True')).map((g) => g.id).sort(), [...demoIds, adminGroup.id].sort());
  assert.deepEqual((await groups(c.demo, '?limit=2&offset=1')).map((g) => g.id), demoIds.slice(1, 3));
  assert.deepEqual((await groups(c.demo, '?limit=0')).map((g) => g.id), demoIds, 'limit 0 is max_limit');
  await c.api.fault('GET', '/v2.1/os-server-groups?limit=-1', c.demo, undefined, 400);
  await c.api.fault('GET', '/v2.1/os-server-groups?offset=x', c.demo, undefined, 400);
  assert.equal((await groups(c.demo, '?foo=1', '2.74')).length, 4, 'unknown parameters ignored before 2.75');
  msg = await c.api.fault('GET', '/v2.1/os-server-groups?foo=1', c.demo, undefined, 400, { version: '2.75' });
  assert.match(msg, /Additional properties are not allowed/);

  // Quota server_groups (project).
  await setQuota(c.demoProject, { server_groups: 4 });
  msg = await c.api.fault('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'over', policies: ['affinity'] } }, 403);
  assert.equal(msg, 'Quota exceeded, too many server groups.');
  const usage = await c.api.ok('GET', `/v2.1/os-quota-sets/${c.demoProject}/detail`, c.admin);
  assert.equal(usage.quota_set.server_groups.in_use, 4);

  // Delete.
  for (const id of [soft.id, ruled.id, dup.id]) await c.api.ok('DELETE', `/v2.1/os-server-groups/${id}`, c.demo, undefined, 204);
  await c.api.fault('GET', `/v2.1/os-server-groups/${dup.id}`, c.demo, undefined, 404);
  await c.api.fault('DELETE', `/v2.1/os-server-groups/${dup.id}`, c.demo, undefined, 404);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${adminGroup.id}`, c.admin, undefined, 204);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g1.id}`, c.demo, undefined, 204);
  assert.deepEqual(await groups(c.demo), []);
  await setQuota(c.demoProject, { server_groups: 10 });
});

test('the scheduler hint group: a UUID of a visible group (400 otherwise), quota server_group_members (403)', async () => {
  let msg = await c.api.fault('POST', '/v2.1/servers', c.demo, { server: { name: 'x', imageRef: c.imageId, flavorRef: '42', networks: 'none' }, 'os:scheduler_hints': { group: 'nope' } }, 400, { version: '2.37' });
  assert.match(msg, /group.*'nope' is not a 'uuid'/);
  const unknown = '8c5a3f8e-7f3e-4b8e-9a57-0d7a7ec1f0aa';
  msg = await c.api.fault('POST', '/v2.1/servers', c.demo, { server: { name: 'x', imageRef: c.imageId, flavorRef: '42', networks: 'none' }, 'os:scheduler_hints': { group: unknown } }, 400, { version: '2.37' });
  assert.equal(msg, `Instance group ${unknown} could not be found.`);
  const adminGroup = await createGroup(c.admin, { name: 'admins', policies: ['affinity'] });
  msg = await c.api.fault('POST', '/v2.1/servers', c.demo, { server: { name: 'x', imageRef: c.imageId, flavorRef: '42', networks: 'none' }, 'os:scheduler_hints': { group: adminGroup.id } }, 400, { version: '2.37' });
  assert.match(msg, /could not be found/);
  assert.deepEqual((await c.api.ok('GET', '/v2.1/servers', c.demo)).servers, [], 'nothing recorded by refused requests');

  const g = await createGroup(c.demo, { name: 'small', policies: ['affinity'] });
  await setQuota(c.demoProject, { server_group_members: 1 });
  try {
    const first = await c.createServer(c.demo, { name: 'm1' }, { group: g.id });
    msg = await c.api.fault('POST', '/v2.1/servers', c.demo, { server: { name: 'm2', imageRef: c.imageId, flavorRef: '42', networks: 'none' }, 'os:scheduler_hints': { group: g.id } }, 403, { version: '2.37' });
    assert.equal(msg, 'Quota exceeded, too many servers in group');
    await c.waitStatus(first, 'ACTIVE');
    await c.deleteServer(c.demo, first);
    // The deleted member left: room again.
    const again = await c.createServer(c.demo, { name: 'm3' }, { group: g.id });
    assert.deepEqual((await showGroup(c.demo, g.id)).members, [again]);
    await c.waitStatus(again, 'ACTIVE');
    await c.deleteServer(c.demo, again);
  } finally {
    await setQuota(c.demoProject, { server_group_members: 10 });
  }
  assert.deepEqual((await showGroup(c.demo, g.id)).members, []);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 204);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${adminGroup.id}`, c.admin, undefined, 204);
});

test('anti-affinity across two fake hosts: a multi-create spreads; a third member fails with a fault naming ServerGroupAntiAffinityFilter; a delete frees its host', async () => {
  const g = await createGroup(c.demo, { name: 'anti', policies: ['anti-affinity'] });
  await c.api.ok('POST', '/v2.1/servers', c.demo, { server: { name: 'anti', imageRef: c.imageId, flavorRef: '42', networks: 'auto', min_count: 2 }, 'os:scheduler_hints': { group: g.id } }, 202, { version: '2.37' });
  const members = (await showGroup(c.demo, g.id)).members as string[];
  assert.equal(members.length, 2);
  for (const id of members) await c.waitStatus(id, 'ACTIVE');
  const hosts = await Promise.all(members.map(hostOf));
  assert.deepEqual([...hosts].sort(), [...HOSTS].sort(), `one member per host: ${hosts}`);
  const shown = await c.api.ok('GET', `/v2.1/servers/${members[0]}`, c.demo, undefined, 200, { version: '2.71' });
  assert.deepEqual(shown.server.server_groups, [g.id]);
  assert.deepEqual((await c.api.ok('GET', `/v2.1/servers/${members[0]}`, c.demo, undefined, 200, { version: '2.70' })).server.server_groups, undefined);

  const third = await c.createServer(c.demo, { name: 'anti-3' }, { group: g.id });
  const failed = await c.waitStatus(third, 'ERROR');
  assert.match(failed.fault.message, /No valid host was found\..*ServerGroupAntiAffinityFilter removed 2/);
  assert.ok(failed.fault.message.includes(g.id), failed.fault.message);
  assert.equal(failed['OS-EXT-SRV-ATTR:host'], null);

  // A member deleted: its host takes the next member.
  const freed = hosts[0]!;
  await c.deleteServer(c.demo, members[0]!);
  await c.deleteServer(c.demo, third);
  assert.deepEqual((await showGroup(c.demo, g.id)).members, [members[1]]);
  const next = await c.createServer(c.demo, { name: 'anti-4' }, { group: g.id });
  await c.waitStatus(next, 'ACTIVE');
  assert.equal(await hostOf(next), freed);

  // All or nothing: three in one request cannot fit two hosts.
  const g3 = await createGroup(c.demo, { name: 'anti3', policies: ['anti-affinity'] });
  await c.api.ok('POST', '/v2.1/servers', c.demo, { server: { name: 'trio', imageRef: c.imageId, flavorRef: '42', networks: 'auto', min_count: 3 }, 'os:scheduler_hints': { group: g3.id } }, 202, { version: '2.37' });
  const trio = (await showGroup(c.demo, g3.id)).members as string[];
  assert.equal(trio.length, 3);
  for (const id of trio) {
    const s = await c.waitStatus(id, 'ERROR');
    assert.match(s.fault.message, /ServerGroupAntiAffinityFilter/);
  }
  for (const id of trio) {
    const r = await fetch(`${c.h.placementUrl}/allocations/${id}`, { headers: { 'x-auth-token': c.admin } });
    assert.equal(r.status, 200);
    assert.deepEqual(((await r.json()) as { allocations: unknown }).allocations, {}, 'no claim left behind');
  }
  for (const id of [...trio, next, members[1]!]) await c.deleteServer(c.demo, id);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 204);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g3.id}`, c.demo, undefined, 204);
});

test('back-to-back creates (no wait in between) of one group: affinity stacks on one host, anti-affinity spreads', async () => {
  // The spread weigher alone would split an affinity pair on two equal hosts and put an
  // anti-affinity pair both on the emptier host: only the members' hosts as the scheduler
  // sees them when it places each one keep the policies.
  const aff = await createGroup(c.demo, { name: 'aff', policies: ['affinity'] });
  const anti = await createGroup(c.demo, { name: 'anti', policies: ['anti-affinity'] });
  const settle = async (ids: string[]) => {
    for (const id of ids) {
      const s = await c.waitStatus(id, 'ACTIVE', 'ERROR');
      assert.equal(s.status, 'ACTIVE', `${s.name}: ${s.fault?.message}`);
    }
    return Promise.all(ids.map(hostOf));
  };
  const a = await Promise.all([c.createServer(c.demo, { name: 'a1' }, { group: aff.id }), c.createServer(c.demo, { name: 'a2' }, { group: aff.id })]);
  const [h1, h2] = await settle(a);
  assert.equal(h1, h2, 'affinity: one host');
  // Now the other host is the emptier one.
  const n = await Promise.all([c.createServer(c.demo, { name: 'n1' }, { group: anti.id }), c.createServer(c.demo, { name: 'n2' }, { group: anti.id })]);
  const [h3, h4] = await settle(n);
  assert.notEqual(h3, h4, 'anti-affinity: two hosts');
  // A later member of the affinity group goes to the group's host although the other host is emptier.
  const a3 = await c.createServer(c.demo, { name: 'a3' }, { group: aff.id });
  await c.waitStatus(a3, 'ACTIVE');
  assert.equal(await hostOf(a3), h1);
  for (const id of [...a, ...n, a3]) await c.deleteServer(c.demo, id);
  for (const g of [aff, anti]) await c.api.ok('DELETE', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 204);
});

test('soft-anti-affinity spreads without failing; max_server_per_host 2 (2.64) allows two per host and no more', async () => {
  const soft = await createGroup(c.demo, { name: 'soft', policy: 'soft-anti-affinity' }, '2.64');
  const softIds: string[] = [];
  for (const n of [1, 2, 3]) {
    const id = await c.createServer(c.demo, { name: `soft${n}` }, { group: soft.id });
    await c.waitStatus(id, 'ACTIVE');
    softIds.push(id);
  }
  const softHosts = await Promise.all(softIds.map(hostOf));
  assert.equal(new Set(softHosts.slice(0, 2)).size, 2, `the first two on two hosts: ${softHosts}`);

  const capped = await createGroup(c.demo, { name: 'capped', policy: 'anti-affinity', rules: { max_server_per_host: 2 } }, '2.64');
  await c.api.ok('POST', '/v2.1/servers', c.demo, { server: { name: 'cap', imageRef: c.imageId, flavorRef: '42', networks: 'auto', min_count: 4 }, 'os:scheduler_hints': { group: capped.id } }, 202, { version: '2.37' });
  const four = (await showGroup(c.demo, capped.id)).members as string[];
  for (const id of four) await c.waitStatus(id, 'ACTIVE');
  const perHost = new Map<string, number>();
  for (const h of await Promise.all(four.map(hostOf))) perHost.set(h, (perHost.get(h) ?? 0) + 1);
  assert.deepEqual([...perHost.values()], [2, 2]);
  const fifth = await c.createServer(c.demo, { name: 'cap5' }, { group: capped.id });
  const s = await c.waitStatus(fifth, 'ERROR');
  assert.match(s.fault.message, /already runs 2 members of anti-affinity group .* \(max_server_per_host 2\)/);
  for (const id of [...softIds, ...four, fifth]) await c.deleteServer(c.demo, id);
  await until('no servers left', async () => (await c.api.ok('GET', '/v2.1/servers', c.demo)).servers.length === 0);
});

test('a deleted group leaves its servers in no group (2.71 server_groups)', async () => {
  const g = await createGroup(c.demo, { name: 'brief', policies: ['affinity'] });
  const id = await c.createServer(c.demo, { name: 'member' }, { group: g.id });
  await c.waitStatus(id, 'ACTIVE');
  const groupsOf = async () => (await c.api.ok('GET', `/v2.1/servers/${id}`, c.demo, undefined, 200, { version: '2.71' })).server.server_groups;
  assert.deepEqual(await groupsOf(), [g.id]);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 204);
  assert.deepEqual(await groupsOf(), []);
  await c.deleteServer(c.demo, id);
});

test('unshelving an offloaded member keeps its group\'s policy: affinity brings it back to the group\'s host, not the emptier one', async () => {
  const g = await createGroup(c.demo, { name: 'stay', policies: ['affinity'] });
  const ids = [await c.createServer(c.demo, { name: 's1' }, { group: g.id })];
  await c.waitStatus(ids[0]!, 'ACTIVE');
  ids.push(await c.createServer(c.demo, { name: 's2' }, { group: g.id }));
  await c.waitStatus(ids[1]!, 'ACTIVE');
  const home = await hostOf(ids[0]!);
  assert.equal(await hostOf(ids[1]!), home);
  const act = (body: unknown) => c.api.call('POST', `/v2.1/servers/${ids[0]}/action`, c.demo, body).then((r) => assert.equal(r.status, 202, r.text));
  await act({ shelve: null });
  await c.waitStatus(ids[0]!, 'SHELVED', 'SHELVED_OFFLOADED');
  if ((await c.show(ids[0]!)).status === 'SHELVED') {
    await c.api.call('POST', `/v2.1/servers/${ids[0]}/action`, c.admin, { shelveOffload: null }).then((r) => assert.equal(r.status, 202, r.text));
  }
  await c.waitStatus(ids[0]!, 'SHELVED_OFFLOADED');
  assert.equal(await hostOf(ids[0]!), null, 'offloaded: on no host');
  // Now `home` holds s2 and the other host is empty: the spread weigher alone would pick the other one.
  await act({ unshelve: null });
  const s = await c.waitStatus(ids[0]!, 'ACTIVE', 'ERROR');
  assert.equal(s.status, 'ACTIVE', s.fault?.message);
  assert.equal(await hostOf(ids[0]!), home, 'back beside s2');
  for (const id of ids) await c.deleteServer(c.demo, id);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 204);
});
