// Claims in placement: two schedulers racing for the last room on a host, alternates and
// reschedules, and a scheduler whose cached view of placement went stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Placement } from '../../src/placement/client.js';
import { NoValidHost } from '../../src/compute/scheduler/errors.js';
import { Scheduler } from '../../src/compute/scheduler/scheduler.js';
import { requestSpec, startSchedHarness, type SchedHarness } from './scheduler-harness.js';

async function withHarness(fn: (h: SchedHarness) => Promise<void>): Promise<void> {
  const h = await startSchedHarness();
  try { await fn(h); } finally { await h.close(); }
}

/**
 * The real placement, whose `claim` waits until `parties` claims have arrived (or 5 s passed), so
 * the racing schedulers have both decided before either claims.
 */
function gatedPlacement(real: Placement, parties: number): Placement & { claims: string[] } {
  let waiting = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  const timer = setTimeout(() => open(), 5000);
  const claims: string[] = [];
  const p = Object.create(real) as Placement & { claims: string[] };
  p.claims = claims;
  p.claim = async (consumer, allocations, opts) => {
    claims.push(Object.keys(allocations)[0]!);
    if (++waiting >= parties) { clearTimeout(timer); open(); }
    await gate;
    return real.claim(consumer, allocations, opts);
  };
  return p;
}

test('claim race: two schedulers choose the same last slot; placement accepts one claim and the other scheduler moves to another host', async () => {
  await withHarness(async (h) => {
    const tight = await h.addHost('tight', { vcpus: 4, memoryMb: 1024, localGb: 100 }); // 512 MB usable: one instance
    const roomy = await h.addHost('roomy', { vcpus: 16, memoryMb: 65536, localGb: 1000 });
    const gated = gatedPlacement(h.placement, 2);
    const s1 = new Scheduler({ placement: gated, compute: h.compute, weigher: 'stack' });
    const s2 = new Scheduler({ placement: gated, compute: h.compute, weigher: 'stack' });
    const [r1, r2] = await Promise.all([s1.selectDestinations(requestSpec(), 1), s2.selectDestinations(requestSpec(), 1)]);
    assert.deepEqual(gated.claims.slice(0, 2), [tight.node.uuid, tight.node.uuid], 'both schedulers first claimed the stacked host');
    assert.deepEqual([r1[0]!.host, r2[0]!.host].sort(), ['roomy', 'tight'], 'the loser of the race went to the other host');
    assert.equal(gated.claims[2], roomy.node.uuid);
    assert.equal((await h.placement.providerUsages(tight.node.uuid)).MEMORY_MB, 512, 'the tight host is not overcommitted');
    for (const r of [r1[0]!, r2[0]!]) {
      const a = await h.placement.getAllocations(r.instanceUuid);
      assert.deepEqual(Object.keys(a.allocations), [r.computeNodeUuid]);
      assert.equal(a.consumerGeneration, r.consumerGeneration);
    }
  });
});

test('the race lost on the only host: NoValidHost says placement refused the claim', async () => {
  await withHarness(async (h) => {
    await h.addHost('only', { vcpus: 4, memoryMb: 1024, localGb: 100 });
    const gated = gatedPlacement(h.placement, 2);
    const s1 = new Scheduler({ placement: gated, compute: h.compute, placementCacheMs: 0 });
    const s2 = new Scheduler({ placement: gated, compute: h.compute, placementCacheMs: 0 });
    const results = await Promise.allSettled([s1.selectDestinations(requestSpec(), 1), s2.selectDestinations(requestSpec(), 1)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(failed.length, 1);
    assert.ok(failed[0]!.reason instanceof NoValidHost);
    assert.equal(failed[0]!.reason.message, 'No valid host was found. Placement refused the claim on the one host that passed the filters: their resources were taken concurrently.');
  });
});

test('alternates: up to max_attempts − 1 other fitting hosts, best first; claimAlternate moves the claim, then runs out', async () => {
  await withHarness(async (h) => {
    for (const n of ['fake-0001', 'fake-0002', 'fake-0003', 'fake-0004']) await h.addHost(n);
    const sched = h.scheduler({ maxAttempts: 3 });
    const spec = requestSpec();
    const [sel] = await sched.selectDestinations(spec, 1);
    assert.equal(sel!.alternates.length, 2);
    const hosts = [sel!.host, ...sel!.alternates.map((a) => a.host)];
    assert.equal(new Set(hosts).size, 3, 'alternates are other hosts');
    for (const a of sel!.alternates) assert.deepEqual(a.allocationRequest, { [a.computeNodeUuid]: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } });

    // The build failed on the chosen host: the conductor claims the first alternate.
    const re = await sched.claimAlternate(spec, sel!.instanceUuid, sel!.alternates);
    assert.equal(re.host, sel!.alternates[0]!.host);
    assert.deepEqual(re.alternates, sel!.alternates.slice(1));
    const a = await h.placement.getAllocations(sel!.instanceUuid);
    assert.deepEqual(Object.keys(a.allocations), [re.computeNodeUuid], 'the claim moved: nothing left on the failed host');
    assert.equal((await h.placement.providerUsages(sel!.computeNodeUuid)).VCPU ?? 0, 0);

    const last = await sched.claimAlternate(spec, sel!.instanceUuid, re.alternates);
    assert.deepEqual(last.alternates, []);
    await assert.rejects(sched.claimAlternate(spec, sel!.instanceUuid, last.alternates), (err: unknown) => err instanceof NoValidHost
      && err.message === `No valid host was found. Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${sel!.instanceUuid}.`);

    const single = h.scheduler({ maxAttempts: 1 });
    assert.deepEqual((await single.selectDestinations(requestSpec(), 1))[0]!.alternates, []);
  });
});

test('claimAlternate skips an alternate that filled up meanwhile', async () => {
  await withHarness(async (h) => {
    await h.addHost('a', { vcpus: 4, memoryMb: 1024, localGb: 100 });
    await h.addHost('b', { vcpus: 4, memoryMb: 1024, localGb: 100 });
    await h.addHost('c', { vcpus: 4, memoryMb: 1024, localGb: 100 });
    const sched = h.scheduler({ maxAttempts: 3 });
    const spec = requestSpec();
    const [sel] = await sched.selectDestinations(spec, 1);
    const [first, second] = sel!.alternates;
    // Someone else takes the first alternate's only slot.
    await h.placement.claim(randomUUID(), first!.allocationRequest, { projectId: 'other', userId: 'other' });
    const re = await sched.claimAlternate(spec, sel!.instanceUuid, sel!.alternates);
    assert.equal(re.host, second!.host);
  });
});

test('a stale cached view: capacity taken by others moves the scheduler on; capacity freed by others is found', async () => {
  await withHarness(async (h) => {
    const one = await h.addHost('one', { vcpus: 4, memoryMb: 1536, localGb: 100 }); // two 512 MB instances
    const sched = h.scheduler({ placementCacheMs: 60_000 });
    const [first] = await sched.selectDestinations(requestSpec(), 1);
    // Another scheduler (a claim straight into placement) takes the last slot behind this one's back.
    const intruder = randomUUID();
    await h.placement.claim(intruder, { [one.node.uuid]: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } }, { projectId: 'p', userId: 'u' });
    const err = await sched.selectDestinations(requestSpec(), 1).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NoValidHost, 'the cached view said there was room; placement refused; the fresh answer has none');
    assert.match(err.message, /Placement found no host with 512 MB RAM, 1 VCPU, 1 GB disk free among 1 host/);
    // Both leave: the cached (fresh, full) view is retried on a new answer.
    await h.placement.removeAllocations(intruder);
    await h.placement.removeAllocations(first!.instanceUuid);
    const sels = await sched.selectDestinations(requestSpec({ count: 2 }), 2);
    assert.deepEqual(sels.map((s) => s.host), ['one', 'one']);
  });
});

test('bad requests are programming errors, not NoValidHost', async () => {
  await withHarness(async (h) => {
    await h.addHost('x');
    const sched = h.scheduler();
    await assert.rejects(sched.selectDestinations(requestSpec({ count: 2 }), 3), TypeError);
    await assert.rejects(sched.selectDestinations({ ...requestSpec(), instanceUuids: ['nope'] }, 1), TypeError);
    const id = randomUUID();
    await assert.rejects(sched.selectDestinations({ ...requestSpec(), instanceUuids: [id, id] }, 2), TypeError);
  });
});
