// Server group policies and weighing on a real SQLite placement + compute database with fake
// hosts: hard (anti-)affinity filters, soft (anti-)affinity weighers, spread versus stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NoValidHost } from '../../src/compute/scheduler/errors.js';
import type { ServerGroupRequest } from '../../src/compute/scheduler/types.js';
import { requestSpec, startSchedHarness, type SchedHarness } from './scheduler-harness.js';

async function withHarness(fn: (h: SchedHarness) => Promise<void>, overrides?: Record<string, Record<string, unknown>>): Promise<void> {
  const h = await startSchedHarness({ overrides });
  try { await fn(h); } finally { await h.close(); }
}

const group = (policy: ServerGroupRequest['policy'], memberHosts: string[], rules?: ServerGroupRequest['rules']): ServerGroupRequest => ({
  uuid: 'a2a0c0de-0000-4000-8000-00000000a11a', policy, memberHosts, rules,
});

async function rejects(p: Promise<unknown>): Promise<NoValidHost> {
  try { await p; } catch (err) {
    assert.ok(err instanceof NoValidHost, `expected NoValidHost, got ${String(err)}`);
    return err;
  }
  assert.fail('expected NoValidHost');
}

test('anti-affinity across two hosts: the second member goes to the other host, a third finds none and the fault names the filter', async () => {
  await withHarness(async (h) => {
    await h.addHost('fake-0001');
    await h.addHost('fake-0002');
    const sched = h.scheduler({ weigher: 'stack' }); // stacking would put them together but for the policy
    const members: string[] = [];
    const [first] = await sched.selectDestinations(requestSpec({ group: group('anti-affinity', members) }), 1);
    members.push(first!.host);
    const [second] = await sched.selectDestinations(requestSpec({ group: group('anti-affinity', members) }), 1);
    assert.notEqual(second!.host, first!.host);
    members.push(second!.host);
    const third = requestSpec({ group: group('anti-affinity', members) });
    const err = await rejects(sched.selectDestinations(third, 1));
    assert.equal(err.message, 'No valid host was found. 2 hosts: ServerGroupAntiAffinityFilter removed 2 (already runs 1 member of anti-affinity group a2a0c0de-0000-4000-8000-00000000a11a)');
    assert.deepEqual((await h.placement.getAllocations(third.instanceUuids[0]!)).allocations, {});
    // max_server_per_host 2 (microversion 2.64 rules): room for one more on each host.
    const [fourth] = await sched.selectDestinations(requestSpec({ group: group('anti-affinity', members, { max_server_per_host: 2 }) }), 1);
    assert.ok(members.includes(fourth!.host));
  });
});

test('anti-affinity within one multi-create request: each instance on its own host; more instances than hosts is all or nothing', async () => {
  await withHarness(async (h) => {
    for (const n of ['fake-0001', 'fake-0002', 'fake-0003']) await h.addHost(n);
    const sched = h.scheduler({ weigher: 'stack' });
    const sels = await sched.selectDestinations(requestSpec({ count: 3, group: group('anti-affinity', []) }), 3);
    assert.equal(new Set(sels.map((s) => s.host)).size, 3);
    const four = requestSpec({ count: 4, group: group('anti-affinity', []) });
    const err = await rejects(sched.selectDestinations(four, 4));
    assert.match(err.message, /^No valid host was found\. There are not enough hosts available: 3 of 4 instances placed, none left for the next\. 3 hosts: ServerGroupAntiAffinityFilter removed 3 \(already runs 1 member/);
    for (const id of four.instanceUuids) assert.deepEqual((await h.placement.getAllocations(id)).allocations, {}, 'the claims of the failed request are released');
  });
});

test('affinity: once the group has a member, every instance goes to its host, even against spreading', async () => {
  await withHarness(async (h) => {
    for (const n of ['fake-0001', 'fake-0002', 'fake-0003']) await h.addHost(n);
    const sched = h.scheduler({ weigher: 'spread' });
    const sels = await sched.selectDestinations(requestSpec({ count: 3, group: group('affinity', []) }), 3);
    assert.equal(new Set(sels.map((s) => s.host)).size, 1, 'a multi-create of an empty affinity group lands on one host');
    const home = sels[0]!.host;
    const [next] = await sched.selectDestinations(requestSpec({ group: group('affinity', [home]) }), 1);
    assert.equal(next!.host, home);
    await h.compute.db.updateTable('compute_service').set({ disabled: 1, disabled_reason: 'gone' }).where('host', '=', home).execute();
    const err = await rejects(sched.selectDestinations(requestSpec({ group: group('affinity', [home]) }), 1));
    assert.match(err.message, /ComputeFilter removed 1 \(service disabled: gone\), ServerGroupAffinityFilter removed 2 \(not the host of affinity group \S+ \(fake-000\d\)\)/);
  });
});

test('soft-anti-affinity and soft-affinity are weighers: they win over stacking and spreading, but never block', async () => {
  await withHarness(async (h) => {
    await h.addHost('fake-0001');
    await h.addHost('fake-0002');
    const stack = h.scheduler({ weigher: 'stack' });
    const [a] = await stack.selectDestinations(requestSpec({ group: group('soft-anti-affinity', []) }), 1);
    const [b] = await stack.selectDestinations(requestSpec({ group: group('soft-anti-affinity', [a!.host]) }), 1);
    assert.notEqual(b!.host, a!.host, 'soft anti-affinity outweighs stacking');
    const [c] = await stack.selectDestinations(requestSpec({ group: group('soft-anti-affinity', [a!.host, b!.host]) }), 1);
    assert.ok([a!.host, b!.host].includes(c!.host), 'no host without members left: soft anti-affinity still places');
    const [plain] = await stack.selectDestinations(requestSpec(), 1);
    assert.equal(plain!.host, c!.host, 'without a group, stacking goes to the fullest host');

    const spread = h.scheduler({ weigher: 'spread' });
    const target = plain!.host; // now the fuller host
    const [d] = await spread.selectDestinations(requestSpec({ group: group('soft-affinity', [target]) }), 1);
    assert.equal(d!.host, target, 'soft affinity outweighs spreading');
    const [e] = await spread.selectDestinations(requestSpec(), 1);
    assert.notEqual(e!.host, target, 'without a group, spreading goes to the emptier host');

    // With Nova's multiplier (1.0) the group weigher only breaks ties of equally loaded hosts.
    const nova = h.scheduler({ weigher: 'spread', multipliers: { softAffinity: 1, softAntiAffinity: 1 } });
    const [f] = await nova.selectDestinations(requestSpec({ group: group('soft-affinity', [target]) }), 1);
    assert.notEqual(f!.host, target, 'at 1.0 spreading (three resource weighers) wins');
  });
});

test('spread puts each instance on the least loaded host; stack fills the most loaded host that still fits', async () => {
  await withHarness(async (h) => {
    for (const n of ['eq-1', 'eq-2', 'eq-3']) await h.addHost(n);
    const spread = h.scheduler({ weigher: 'spread' });
    const sp: string[] = [];
    for (let i = 0; i < 3; i++) sp.push((await spread.selectDestinations(requestSpec(), 1))[0]!.host);
    assert.deepEqual([...sp].sort(), ['eq-1', 'eq-2', 'eq-3'], 'equal hosts: one instance each');
    const stack = h.scheduler({ weigher: 'stack' });
    const st: string[] = [];
    for (let i = 0; i < 3; i++) st.push((await stack.selectDestinations(requestSpec(), 1))[0]!.host);
    assert.equal(new Set(st).size, 1, `stacking keeps to one host: ${st.join(',')}`);
  });
  await withHarness(async (h) => {
    await h.addHost('big', { vcpus: 32, memoryMb: 131072, localGb: 2000 });
    await h.addHost('mid', { vcpus: 16, memoryMb: 65536, localGb: 1000 });
    await h.addHost('small', { vcpus: 8, memoryMb: 16384, localGb: 500 });
    const flavor = { vcpus: 2, memoryMb: 8192, rootGb: 20 };
    assert.equal((await h.scheduler({ weigher: 'spread' }).selectDestinations(requestSpec({ flavor }), 1))[0]!.host, 'big', 'spread: most free first');
    const stack = h.scheduler({ weigher: 'stack' });
    const st: string[] = [];
    for (let i = 0; i < 3; i++) st.push((await stack.selectDestinations(requestSpec({ flavor }), 1))[0]!.host);
    // small has 16384 − 512 reserved = 15872 MB usable: one 8 GiB instance, then the next fullest, mid.
    assert.deepEqual(st, ['small', 'mid', 'mid']);
    const bigUuid = (await h.compute.db.selectFrom('compute_node').select('uuid').where('host', '=', 'big').executeTakeFirstOrThrow()).uuid;
    assert.equal((await h.placement.providerUsages(bigUuid)).MEMORY_MB, 8192, 'placement holds exactly the claims made');
  });
});

test('multi-create: later instances see the earlier claims of the request; a request bigger than the cloud is all or nothing', async () => {
  await withHarness(async (h) => {
    await h.addHost('fake-0001', { vcpus: 4, memoryMb: 2560, localGb: 100 }); // 2048 MB usable: two 1 GiB instances
    await h.addHost('fake-0002', { vcpus: 4, memoryMb: 2560, localGb: 100 });
    const sched = h.scheduler({ weigher: 'stack' });
    const flavor = { vcpus: 1, memoryMb: 1024, rootGb: 1 };
    const sels = await sched.selectDestinations(requestSpec({ count: 4, flavor }), 4);
    const per = new Map<string, number>();
    for (const s of sels) per.set(s.host, (per.get(s.host) ?? 0) + 1);
    assert.deepEqual([...per.values()].sort(), [2, 2], 'stacking fills a host, then moves on when the request itself filled it');
    const more = requestSpec({ count: 1, flavor, instanceUuids: [randomUUID()] });
    const err = await rejects(sched.selectDestinations(more, 1));
    assert.match(err.message, /Placement found no host with 1024 MB RAM, 1 VCPU, 1 GB disk free among 2 hosts \(hosts with enough free: RAM 0, VCPU 2, disk 2\)/);
  });
});
