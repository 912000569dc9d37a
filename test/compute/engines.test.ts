// The compute foundation on PostgreSQL and MariaDB: migrations, engine-numbered ids, upserts and
// concurrent writers (heartbeats of one service, creates of one name) behave as on SQLite.
import assert from 'node:assert/strict';
import { testOnSharedEngines } from '../lib/databases.js';
import { computeApi } from './client.js';

testOnSharedEngines((engine) => `compute API foundation on ${engine}: ids, upserts, races`, async (h) => {
  const api = computeApi(h.computeUrl);
  const admin = await h.adminToken();
  // First start's flavors, numbered by the engine.
  const flavors = await api.ok('GET', '/v2.1/flavors/detail', admin);
  assert.equal(flavors.flavors.length, 7);
  const created = await Promise.all(Array.from({ length: 6 }, () => api.call('POST', '/v2.1/flavors', admin, { flavor: { name: 'race', ram: 64, vcpus: 1, disk: 0 } })));
  assert.deepEqual(created.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409]);
  await api.ok('POST', `/v2.1/flavors/${created.find((r) => r.status === 200)!.body.flavor.id}/os-extra_specs`, admin, { extra_specs: { a: '1', b: '2' } });

  const kp = await api.ok('POST', '/v2.1/os-keypairs', admin, { keypair: { name: 'engine-key' } }, 201, { version: '2.2' });
  const shown = await api.ok('GET', '/v2.1/os-keypairs/engine-key', admin);
  assert.equal(typeof shown.keypair.id, 'number');
  assert.equal(shown.keypair.fingerprint, kp.keypair.fingerprint);

  const project = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow()).id;
  await api.ok('PUT', `/v2.1/os-quota-sets/${project}`, admin, { quota_set: { instances: 4 } });
  await api.ok('PUT', `/v2.1/os-quota-sets/${project}`, admin, { quota_set: { instances: 5, cores: 6 } });
  const q = (await api.ok('GET', `/v2.1/os-quota-sets/${project}`, admin)).quota_set;
  assert.deepEqual([q.instances, q.cores], [5, 6]);

  // Eight agents' heartbeats of one service at once make one row counting all of them.
  const host = `hx${process.pid}-${h.cloud.compute.ctx.engine}`;
  await Promise.all(Array.from({ length: 8 }, () => h.cloud.compute.heartbeat(host, 'nova-compute')));
  const rows = await h.cloud.compute.ctx.db.selectFrom('compute_service').selectAll().where('host', '=', host).execute();
  assert.equal(rows.length, 1);
  assert.equal(Number(rows[0].report_count), 8);
  await Promise.all(Array.from({ length: 4 }, (_, i) => h.cloud.compute.reportHypervisor(host, { hypervisor_type: 'QEMU', hypervisor_version: 7002000, vcpus: 2 + i, memory_mb: 2048, local_gb: 20 })));
  const nodes = (await api.ok('GET', '/v2.1/os-hypervisors/detail', admin)).hypervisors.filter((n: any) => n.hypervisor_hostname === host);
  assert.equal(nodes.length, 1);

  const agg = (await api.ok('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'engine-agg', availability_zone: 'ez' } })).aggregate;
  assert.equal(typeof agg.id, 'number');
  await api.ok('POST', `/v2.1/os-aggregates/${agg.id}/action`, admin, { add_host: { host } });
  await api.ok('POST', `/v2.1/os-aggregates/${agg.id}/action`, admin, { set_metadata: { metadata: { k: 'v' } } });
  await api.ok('POST', `/v2.1/os-aggregates/${agg.id}/action`, admin, { set_metadata: { metadata: { k: 'w' } } });
  const services = (await api.ok('GET', `/v2.1/os-services?host=${host}`, admin)).services;
  assert.equal(services[0].zone, 'ez');
  assert.deepEqual((await api.ok('GET', `/v2.1/os-aggregates/${agg.id}`, admin)).aggregate.metadata, { availability_zone: 'ez', k: 'w' });
});
