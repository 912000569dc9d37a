// Server groups' records on each engine (SQLite, PostgreSQL, MariaDB): migration 0003, groups and
// members (deleted instances are not members), quota counts, and the group-aware scheduler
// wrapper — requests of one group scheduled one at a time, each seeing the hosts chosen for the
// earlier ones before their records show them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Database } from '../../src/platform/db/connect.js';
import { migrateCompute } from '../../src/compute/service.js';
import { insertInstance, markDeleted, type Instance } from '../../src/compute/servers/store.js';
import {
  createGroup, deleteGroup, getGroup, groupCount, groupRequest, groupsDb, joinGroup, leaveGroups, listGroups, memberPlacements, membersOf,
} from '../../src/compute/servers/groups.js';
import { GroupAwareScheduler } from '../../src/compute/servers/groups-scheduler.js';
import type { RequestSpec, Selection } from '../../src/compute/scheduler/types.js';
import { tempMariadb, tempPostgres } from '../lib/databases.js';

const now = () => new Date().toISOString().replace('Z', '000');

async function addInstance(database: Database, o: { project: string; user: string; host?: string | null }): Promise<string> {
  const uuid = randomUUID();
  const inst: Omit<Instance, 'id'> = {
    uuid, project_id: o.project, user_id: o.user, display_name: 'i', host: o.host ?? null, node: o.host ?? null, vm_state: 'building',
    task_state: 'scheduling', power_state: 0, image_ref: randomUUID(), flavor_id: '42', availability_zone: null, reservation_id: 'r-x',
    launch_index: 0, key_name: null, locked: 0, created_at: now(), updated_at: null, launched_at: null, terminated_at: null, deleted: 0, deleted_at: null,
    body: {
      description: null, hostname: 'i', flavor: { flavorid: '42', name: 'm1.nano', vcpus: 1, memory_mb: 128, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} },
      image: { id: 'x', name: 'x', disk_format: 'qcow2', min_disk: 0, min_ram: 0, properties: {} }, metadata: {}, user_data: null, key_data: null,
      config_drive: false, requested_networks: 'none', ports: [], addresses: {}, security_groups: [], access_ip_v4: '', access_ip_v6: '', tags: [],
      fault: null, server_group: null, scheduler_hints: {}, locked_reason: null, locked_by: null, progress: 0,
    },
  };
  await insertInstance(database.db, inst);
  return uuid;
}

/**
 * A stand-in for the real scheduler (the API suites run the real one): it records the group it
 * was given, answers after `delayMs` with the first host no member is on, and says which.
 */
function spreadingScheduler(hosts: readonly string[], delayMs: number) {
  const seen: { uuid: string; memberHosts: readonly string[] }[] = [];
  return {
    seen,
    async selectDestinations(spec: RequestSpec): Promise<Selection[]> {
      seen.push({ uuid: spec.instanceUuids[0]!, memberHosts: [...(spec.group?.memberHosts ?? [])] });
      await sleep(delayMs);
      const host = hosts.find((h) => !spec.group?.memberHosts.includes(h)) ?? hosts[0]!;
      return spec.instanceUuids.map((instanceUuid) => ({
        instanceUuid, host, nodename: host, computeNodeUuid: randomUUID(), availabilityZone: 'nova', allocationRequest: {}, consumerGeneration: 1, weight: 0, alternates: [],
      }));
    },
  };
}

async function exercise(database: Database): Promise<void> {
  await migrateCompute(database);
  const db = groupsDb(database.db);
  const [p1, p2, u1, u2] = ['p1', 'p2', 'u1', 'u2'].map((x) => `${x}-${randomUUID().slice(0, 8)}`) as [string, string, string, string];

  const g = await createGroup(db, { name: 'g', projectId: p1, userId: u1, policy: 'anti-affinity', rules: { max_server_per_host: 2 } });
  assert.deepEqual([g.name, g.policy, g.rules, g.project_id], ['g', 'anti-affinity', { max_server_per_host: 2 }, p1]);
  assert.equal((await getGroup(db, g.uuid.toUpperCase()))?.id, g.id, 'UUIDs compare case-insensitively');
  const other = await createGroup(db, { name: 'o', projectId: p2, userId: u2, policy: 'affinity' });
  await createGroup(db, { name: 'g2', projectId: p1, userId: u2, policy: 'soft-affinity' });
  assert.deepEqual((await listGroups(db, p1)).map((x) => x.name), ['g', 'g2']);
  assert.equal((await listGroups(db)).length, 3);
  assert.deepEqual([await groupCount(db, p1), await groupCount(db, p1, u1), await groupCount(db, p2)], [2, 1, 1]);

  // Members: by joining time; deleted instances are not members; the scheduler's view skips the requested ones.
  const a = await addInstance(database, { project: p1, user: u1, host: 'h1' });
  const b = await addInstance(database, { project: p1, user: u1 });
  assert.deepEqual((await joinGroup(database.db, g, [a])).memberHosts, [], 'the joining instances are not counted');
  const gr = await joinGroup(database.db, g, [b]);
  assert.deepEqual(gr, { uuid: g.uuid, policy: 'anti-affinity', memberHosts: ['h1'], rules: { max_server_per_host: 2 } });
  assert.deepEqual([...(await membersOf(db, [g.id, other.id])).get(g.id) ?? []].sort(), [a, b].sort(), 'members (joins within one clock tick order by UUID)');
  assert.deepEqual((await membersOf(db, [g.id, other.id])).get(other.id), []);
  const byUuid = (x: { uuid: string }, y: { uuid: string }): number => x.uuid.localeCompare(y.uuid);
  assert.deepEqual((await memberPlacements(db, g.uuid)).sort(byUuid), [{ uuid: a, host: 'h1' }, { uuid: b, host: null }].sort(byUuid));
  assert.deepEqual((await groupRequest(db, g, [a])).memberHosts, []);
  await markDeleted(database.db, a);
  assert.deepEqual((await membersOf(db, [g.id])).get(g.id), [b], 'a deleted instance is no member even before it left');
  await leaveGroups(database.db, a);
  assert.equal((await db.selectFrom('compute_server_group_member').selectAll().where('instance_uuid', '=', a).execute()).length, 0);

  // The wrapper: two requests of one group at once; the second sees the host chosen for the first.
  const inner = spreadingScheduler(['h1', 'h2', 'h3'], 150);
  const sched = new GroupAwareScheduler(database.db, inner);
  const c1 = await addInstance(database, { project: p1, user: u1 });
  const c2 = await addInstance(database, { project: p1, user: u1 });
  const d1 = await addInstance(database, { project: p2, user: u2 });
  const g2 = await createGroup(db, { name: 'anti', projectId: p1, userId: u1, policy: 'anti-affinity' });
  const r1 = await joinGroup(database.db, g2, [c1]);
  const r2 = await joinGroup(database.db, g2, [c2]);
  const r3 = await joinGroup(database.db, other, [d1]);
  const spec = (uuid: string, group: RequestSpec['group']): RequestSpec => ({ instanceUuids: [uuid], projectId: p1, userId: u1, flavor: { vcpus: 1, memoryMb: 128, rootGb: 1 }, group });
  const t0 = Date.now();
  const [s1, s2, s3] = await Promise.all([sched.selectDestinations(spec(c1, r1)), sched.selectDestinations(spec(c2, r2)), sched.selectDestinations(spec(d1, r3))]);
  const took = Date.now() - t0;
  assert.equal(s1[0]!.host, 'h1');
  assert.equal(s2[0]!.host, 'h2', 'the second member avoids the first one\'s host, not yet recorded');
  assert.deepEqual(inner.seen.find((x) => x.uuid === c2)?.memberHosts, ['h1']);
  assert.ok(took >= 300 && took < 1500, `one group's requests one at a time, another group's alongside: ${took} ms`);
  assert.equal(s3[0]!.host, 'h1');
  // Once the record shows a host, the record wins.
  await database.db.updateTable('compute_instance').set({ host: 'h3' }).where('uuid', '=', c1).execute();
  const c3 = await addInstance(database, { project: p1, user: u1 });
  const r4 = await joinGroup(database.db, g2, [c3]);
  const s4 = await sched.selectDestinations(spec(c3, r4));
  assert.deepEqual([...(inner.seen.at(-1)?.memberHosts ?? [])].sort(), ['h2', 'h3'], 'the recorded host and the in-flight one (a set: order is not defined)');
  assert.equal(s4[0]!.host, 'h1');
  // A failing request does not block the group's next one.
  const failing = new GroupAwareScheduler(database.db, { selectDestinations: async () => { throw new Error('no host'); } });
  await assert.rejects(failing.selectDestinations(spec(c3, r4)), /no host/);
  await assert.rejects(failing.selectDestinations(spec(c3, r4)), /no host/);

  // Deleting a group takes its member rows.
  assert.equal(await deleteGroup(db, g2), true);
  assert.equal(await deleteGroup(db, g2), false);
  assert.equal(await getGroup(db, g2.uuid), undefined);
  assert.equal((await db.selectFrom('compute_server_group_member').selectAll().where('group_id', '=', g2.id).execute()).length, 0);
}

test('server group records and group-aware scheduling on SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-groups-'));
  const database = await openDatabase(`sqlite://${join(dir, 'db.sqlite')}`);
  try { await exercise(database); } finally { await database.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('server group records and group-aware scheduling on PostgreSQL', async () => {
  const pg = await tempPostgres();
  const database = await openDatabase(pg.url);
  try { await exercise(database); } finally { await database.close(); await pg.drop(); }
});

test('server group records and group-aware scheduling on MariaDB', async () => {
  const my = await tempMariadb();
  const database = await openDatabase(my.url);
  try { await exercise(database); } finally { await database.close(); await my.drop(); }
});
