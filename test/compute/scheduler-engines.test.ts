// The scheduler on the shared engines (PostgreSQL, MariaDB): its own queries (the compute view's
// fingerprint and unusual-services queries) and placement's claims under real concurrency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeServiceOf, updateService } from '../../src/compute/services.js';
import { NoValidHost } from '../../src/compute/scheduler/errors.js';
import { Scheduler } from '../../src/compute/scheduler/scheduler.js';
import { tempMariadb, tempPostgres } from '../lib/databases.js';
import { requestSpec, startSchedHarness } from './scheduler-harness.js';

for (const [engine, make] of [['PostgreSQL', tempPostgres], ['MariaDB', tempMariadb]] as const) {
  test(`scheduler on ${engine}: zones, a disabled service, concurrent schedulers never overcommit`, async () => {
    const db = await make();
    const h = await startSchedHarness({ databaseUrl: db.url });
    try {
      for (const n of ['e-1', 'e-2', 'e-3']) await h.addHost(n, { vcpus: 4, memoryMb: 2560, localGb: 100 }); // two 1 GiB instances each
      await h.addAggregate('az-e', ['e-3'], { zone: 'aze', metadata: { fast: 'yes' } });
      const sched = h.scheduler();
      assert.equal((await sched.selectDestinations(requestSpec({ availabilityZone: 'aze' }), 1))[0]!.host, 'e-3');
      await updateService(h.compute, (await computeServiceOf(h.compute, 'e-3'))!, { disabled: true, disabled_reason: 'pg' });
      const err = await sched.selectDestinations(requestSpec({ availabilityZone: 'aze' }), 1).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof NoValidHost);
      assert.equal(err.message, 'No valid host was found. 3 hosts: AvailabilityZoneFilter removed 2 (not in zone aze), ComputeFilter removed 1 (service disabled: pg)');
      await updateService(h.compute, (await computeServiceOf(h.compute, 'e-3'))!, { disabled: false });

      // Four schedulers, twelve 1 GiB instances, room for five more (e-3 holds one already): five succeed, none overcommits.
      const flavor = { vcpus: 1, memoryMb: 1024, rootGb: 1 };
      const schedulers = Array.from({ length: 4 }, () => new Scheduler({ placement: h.placement, compute: h.compute, weigher: 'stack' }));
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => schedulers[i % 4]!.selectDestinations(requestSpec({ flavor }), 1)));
      const placed = results.filter((r) => r.status === 'fulfilled').length;
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof NoValidHost, String(r.reason));
      assert.equal(placed, 5);
      for (const n of ['e-1', 'e-2', 'e-3']) {
        const uuid = (await h.compute.db.selectFrom('compute_node').select('uuid').where('host', '=', n).executeTakeFirstOrThrow()).uuid;
        assert.ok(((await h.placement.providerUsages(uuid)).MEMORY_MB ?? 0) <= 2048, `${n} not overcommitted`);
      }
    } finally {
      await h.close();
      await db.drop();
    }
  });
}
