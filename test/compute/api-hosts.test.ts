// Compute services, hypervisors, availability zones and aggregates over real HTTP, fed through
// the entry points the compute agent calls (heartbeat, reportHypervisor).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import type { ComputeHooks, HostedServer } from '../../src/compute/context.js';
import { computeApi, type ComputeApi } from './client.js';

const DOWN_AFTER_S = 4;
/** The compute agents' periodic heartbeats, done by hand before timing-sensitive checks. */
const beat = async () => { for (const n of ['a', 'b']) await h.cloud.compute.heartbeat(host(n), 'nova-compute'); await h.cloud.compute.heartbeat(host('ctl'), 'nova-scheduler'); };
let h: IdentityHarness;
let api: ComputeApi;
let admin: string;
let demo: string;
let savedHooks: ComputeHooks;
/** Servers each host runs, as the servers code reports them through the hook. */
const serversOn = new Map<string, HostedServer[]>();
const host = (n: string) => `hx${process.pid}-${n}`;

const report = (name: string, extra: Record<string, unknown> = {}) => h.cloud.compute.reportHypervisor(host(name), {
  hypervisor_type: 'QEMU', hypervisor_version: 7002000, virt_type: 'qemu', vcpus: 4, memory_mb: 8192, local_gb: 100,
  vcpus_used: 1, memory_mb_used: 1024, local_gb_used: 10, running_vms: 1, disk_available_least: 80, host_ip: '198.51.100.7',
  cpu_info: { arch: 'x86_64', model: 'qemu64', vendor: 'AMD', topology: { cells: 1, sockets: 1, cores: 4, threads: 1 }, features: ['sse2'] },
  uptime: ' 10:00:00 up 1 day,  2:03,  0 users,  load average: 0.10, 0.20, 0.30', ...extra,
});

before(async () => {
  h = await startIdentity({ overrides: { compute: { service_down_time: DOWN_AFTER_S } } });
  api = computeApi(h.computeUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  savedHooks = h.cloud.compute.ctx.hooks;
  h.cloud.compute.setHooks({ serversOnHost: async (hst) => serversOn.get(hst) ?? [] });
  for (const n of ['a', 'b']) {
    await h.cloud.compute.heartbeat(host(n), 'nova-compute');
    await report(n);
  }
  await h.cloud.compute.heartbeat(host('ctl'), 'nova-scheduler');
});
after(async () => {
  if (h) h.cloud.compute.ctx.hooks = savedHooks;
  await h?.close();
});

const mine = (services: any[]) => services.filter((s) => String(s.host).startsWith(`hx${process.pid}-`));

test('heartbeats make services; os-services shows them per microversion (integer ids, forced_down from 2.11, uuids from 2.53)', async () => {
  const v21 = mine((await api.ok('GET', '/v2.1/os-services', admin)).services);
  assert.deepEqual(v21.map((s) => [s.host, s.binary, s.zone, s.status, s.state]).sort(), [
    [host('a'), 'nova-compute', 'nova', 'enabled', 'up'], [host('b'), 'nova-compute', 'nova', 'enabled', 'up'],
    [host('ctl'), 'nova-scheduler', 'internal', 'enabled', 'up'],
  ]);
  assert.ok(v21.every((s) => typeof s.id === 'number' && s.disabled_reason === null && !('forced_down' in s) && /^\d{4}-/.test(s.updated_at)));
  assert.ok(mine((await api.ok('GET', '/v2.1/os-services', admin, undefined, 200, { version: '2.11' })).services).every((s) => s.forced_down === false));
  const v253 = mine((await api.ok('GET', '/v2.1/os-services', admin, undefined, 200, { version: '2.53' })).services);
  assert.ok(v253.every((s) => /^[0-9a-f-]{36}$/.test(s.id)));
  const filtered = (await api.ok('GET', `/v2.1/os-services?host=${host('a')}&binary=nova-compute`, admin)).services;
  assert.deepEqual(filtered.map((s: any) => s.host), [host('a')]);
  assert.deepEqual((await api.ok('GET', '/v2.1/os-services?binary=nova-nothing', admin)).services, []);
  assert.match(await api.fault('GET', '/v2.1/os-services', demo, undefined, 403), /os-services:list/);
  // A second heartbeat of the same service is the same row.
  const again = await h.cloud.compute.heartbeat(host('a'), 'nova-compute');
  assert.equal(again.id, v21.find((s) => s.host === host('a')).id);
  assert.ok(again.report_count >= 2);
});

test('a service without heartbeats for service_down_time is down, and up again on its next heartbeat', async () => {
  await h.cloud.compute.heartbeat(host('late'), 'nova-compute');
  await sleep(DOWN_AFTER_S * 1000 + 600);
  const state = async () => mine((await api.ok('GET', `/v2.1/os-services?host=${host('late')}`, admin)).services)[0].state;
  assert.equal(await state(), 'down');
  await h.cloud.compute.heartbeat(host('late'), 'nova-compute');
  assert.equal(await state(), 'up');
});

test('enable/disable (with reason) and force-down: the pre-2.53 actions and PUT /os-services/{uuid} from 2.53', async () => {
  await beat();
  const body = { host: host('a'), binary: 'nova-compute' };
  assert.deepEqual(await api.ok('PUT', '/v2.1/os-services/disable', admin, body), { service: { ...body, status: 'disabled' } });
  assert.deepEqual(await api.ok('PUT', '/v2.1/os-services/disable-log-reason', admin, { ...body, disabled_reason: 'maintenance' }),
    { service: { ...body, status: 'disabled', disabled_reason: 'maintenance' } });
  const shown = mine((await api.ok('GET', `/v2.1/os-services?host=${host('a')}`, admin)).services)[0];
  assert.deepEqual([shown.status, shown.disabled_reason], ['disabled', 'maintenance']);
  assert.deepEqual(await api.ok('PUT', '/v2.1/os-services/enable', admin, body), { service: { ...body, status: 'enabled' } });
  assert.equal(await api.fault('PUT', '/v2.1/os-services/disable-log-reason', admin, body, 400), 'Missing disabled reason field');
  assert.equal(await api.fault('PUT', '/v2.1/os-services/force-down', admin, body, 404), 'Unknown action');
  assert.deepEqual(await api.ok('PUT', '/v2.1/os-services/force-down', admin, { ...body, forced_down: true }, 200, { version: '2.11' }), { service: { ...body, forced_down: true } });
  assert.equal(mine((await api.ok('GET', `/v2.1/os-services?host=${host('a')}`, admin)).services)[0].state, 'down', 'forced down means down');
  await api.ok('PUT', '/v2.1/os-services/force-down', admin, { ...body, forced_down: 'false' }, 200, { version: '2.11' });
  assert.match(await api.fault('PUT', '/v2.1/os-services/enable', admin, { host: 'no-such-host', binary: 'nova-compute' }, 404), /Could not find binary nova-compute on host no-such-host/);
  assert.match(await api.fault('PUT', '/v2.1/os-services/disable', admin, { host: host('ctl'), binary: 'nova-scheduler' }, 400), /Only nova-compute services can be updated/);
  await api.fault('PUT', '/v2.1/os-services/disable', admin, { host: host('a') }, 400);
  await api.fault('PUT', '/v2.1/os-services/disable', demo, body, 403);

  const svc = mine((await api.ok('GET', `/v2.1/os-services?host=${host('a')}`, admin, undefined, 200, { version: '2.53' })).services)[0];
  const put = (b: unknown, status = 200) => api.ok('PUT', `/v2.1/os-services/${svc.id}`, admin, b, status, { version: '2.53' });
  const disabled = (await put({ status: 'disabled', disabled_reason: 'kernel update' })).service;
  assert.deepEqual([disabled.id, disabled.status, disabled.disabled_reason, disabled.forced_down, disabled.zone, disabled.state], [svc.id, 'disabled', 'kernel update', false, 'nova', 'up']);
  const enabled = (await put({ status: 'enabled' })).service;
  assert.deepEqual([enabled.status, enabled.disabled_reason], ['enabled', null]);
  assert.equal((await put({ forced_down: true })).service.state, 'down');
  await put({ forced_down: false });
  assert.match(await api.fault('PUT', `/v2.1/os-services/${svc.id}`, admin, { status: 'enabled', disabled_reason: 'x' }, 400, { version: '2.53' }), /disabled_reason/);
  assert.match(await api.fault('PUT', `/v2.1/os-services/${svc.id}`, admin, {}, 400, { version: '2.53' }), /No updates were requested/);
  await api.fault('PUT', `/v2.1/os-services/${svc.id}`, admin, { status: 'sleeping' }, 400, { version: '2.53' });
  assert.match(await api.fault('PUT', '/v2.1/os-services/not-a-uuid', admin, { status: 'enabled' }, 400, { version: '2.53' }), /Invalid uuid not-a-uuid/);
  await api.fault('PUT', '/v2.1/os-services/8e4c4e1f-6f4e-4b4e-9f4e-4e4e4e4e4e4e', admin, { status: 'enabled' }, 404, { version: '2.53' });
});

test('hypervisors: list and detail per microversion (cpu_info object from 2.28, paging 2.33, uuids 2.53, 2.88 fields), show, statistics, uptime', async () => {
  await beat();
  const list = (await api.ok('GET', '/v2.1/os-hypervisors', admin)).hypervisors.filter((x: any) => x.hypervisor_hostname.startsWith(`hx${process.pid}-`));
  assert.deepEqual(list.map((x: any) => [x.hypervisor_hostname, x.state, x.status]), [[host('a'), 'up', 'enabled'], [host('b'), 'up', 'enabled']]);
  assert.ok(list.every((x: any) => typeof x.id === 'number'));
  const detail21 = (await api.ok('GET', `/v2.1/os-hypervisors/${list[0].id}`, admin)).hypervisor;
  assert.equal(typeof detail21.cpu_info, 'string');
  assert.equal(JSON.parse(detail21.cpu_info).arch, 'x86_64');
  assert.deepEqual([detail21.vcpus, detail21.memory_mb, detail21.local_gb, detail21.free_ram_mb, detail21.free_disk_gb, detail21.running_vms, detail21.host_ip],
    [4, 8192, 100, 7168, 90, 1, '198.51.100.7']);
  assert.equal(detail21.service.host, host('a'));
  const detail228 = (await api.ok('GET', `/v2.1/os-hypervisors/${list[0].id}`, admin, undefined, 200, { version: '2.28' })).hypervisor;
  assert.deepEqual(detail228.cpu_info.topology, { cells: 1, sockets: 1, cores: 4, threads: 1 });
  await api.fault('GET', '/v2.1/os-hypervisors/abc', admin, undefined, 404);
  await api.fault('GET', '/v2.1/os-hypervisors/999999', admin, undefined, 404);

  const page = await api.ok('GET', '/v2.1/os-hypervisors?limit=1', admin, undefined, 200, { version: '2.33' });
  assert.equal(page.hypervisors.length, 1);
  assert.equal(new URL(page.hypervisors_links[0].href).searchParams.get('marker'), String(page.hypervisors[0].id));

  const v253 = (await api.ok('GET', `/v2.1/os-hypervisors/detail?hypervisor_hostname_pattern=hx${process.pid}-a`, admin, undefined, 200, { version: '2.53' })).hypervisors;
  assert.equal(v253.length, 1);
  assert.match(v253[0].id, /^[0-9a-f-]{36}$/);
  assert.match(v253[0].service.id, /^[0-9a-f-]{36}$/);
  assert.match(await api.fault('GET', '/v2.1/os-hypervisors?hypervisor_hostname_pattern=zzz-nothing', admin, undefined, 404, { version: '2.53' }), /No hypervisor matching/);
  assert.match(await api.fault('GET', '/v2.1/os-hypervisors?hypervisor_hostname_pattern=hx&limit=1', admin, undefined, 400, { version: '2.53' }), /Paging over hypervisors/);
  await api.fault('GET', '/v2.1/os-hypervisors?colour=red', admin, undefined, 400, { version: '2.53' });
  assert.match(await api.fault('GET', `/v2.1/os-hypervisors/${list[0].id}`, admin, undefined, 400, { version: '2.53' }), /Invalid uuid/);
  serversOn.set(host('a'), [{ uuid: '0b3c4b1e-1d5e-4b8e-9a9e-111111111111', name: 'web-1' }]);
  const withServers = (await api.ok('GET', `/v2.1/os-hypervisors/${v253[0].id}?with_servers=true`, admin, undefined, 200, { version: '2.53' })).hypervisor;
  assert.deepEqual(withServers.servers, [{ name: 'web-1', uuid: '0b3c4b1e-1d5e-4b8e-9a9e-111111111111' }]);
  const emptyB = (await api.ok('GET', `/v2.1/os-hypervisors?with_servers=1&hypervisor_hostname_pattern=hx${process.pid}-b`, admin, undefined, 200, { version: '2.75' })).hypervisors[0];
  assert.deepEqual(emptyB.servers, [], 'from 2.75 servers is always there when asked for');
  const v288 = (await api.ok('GET', `/v2.1/os-hypervisors/${v253[0].id}`, admin, undefined, 200, { version: '2.88' })).hypervisor;
  assert.equal('vcpus' in v288, false);
  assert.equal('cpu_info' in v288, false);
  assert.match(v288.uptime, /up 1 day/);

  const stats = (await api.ok('GET', '/v2.1/os-hypervisors/statistics', admin)).hypervisor_statistics;
  assert.ok(stats.count >= 2 && stats.vcpus >= 8 && stats.memory_mb >= 16384);
  await api.fault('GET', '/v2.1/os-hypervisors/statistics', admin, undefined, 404, { version: '2.88' });
  const uptime = (await api.ok('GET', `/v2.1/os-hypervisors/${list[0].id}/uptime`, admin)).hypervisor;
  assert.match(uptime.uptime, /load average/);
  const search = (await api.ok('GET', `/v2.1/os-hypervisors/hx${process.pid}-/search`, admin)).hypervisors;
  assert.equal(search.length, 2);
  const servers = (await api.ok('GET', `/v2.1/os-hypervisors/hx${process.pid}-a/servers`, admin)).hypervisors;
  assert.deepEqual(servers[0].servers, [{ name: 'web-1', uuid: '0b3c4b1e-1d5e-4b8e-9a9e-111111111111' }]);
  await api.fault('GET', `/v2.1/os-hypervisors/hx${process.pid}-/search`, admin, undefined, 404, { version: '2.53' });
  await api.fault('GET', '/v2.1/os-hypervisors', demo, undefined, 403);
  serversOn.delete(host('a'));

  // A disabled compute service drops out of the statistics.
  const before = stats.count;
  await api.ok('PUT', '/v2.1/os-services/disable', admin, { host: host('b'), binary: 'nova-compute' });
  assert.equal((await api.ok('GET', '/v2.1/os-hypervisors/statistics', admin)).hypervisor_statistics.count, before - 1);
  await api.ok('PUT', '/v2.1/os-services/enable', admin, { host: host('b'), binary: 'nova-compute' });
});

test('aggregates: CRUD, hosts, metadata and Nova\'s availability zone rules; zones follow the aggregates', async () => {
  await beat();
  const created = (await api.ok('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'agg-z1', availability_zone: 'z1' } })).aggregate;
  assert.deepEqual(Object.keys(created).sort(), ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'id', 'name', 'updated_at']);
  assert.equal(created.availability_zone, 'z1');
  const id = created.id;
  assert.match((await api.ok('GET', `/v2.1/os-aggregates/${id}`, admin, undefined, 200, { version: '2.41' })).aggregate.uuid, /^[0-9a-f-]{36}$/);
  assert.match(await api.fault('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'agg-z1' } }, 409), /Aggregate agg-z1 already exists/);
  await api.fault('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'x', availability_zone: 'a:b' } }, 400);
  await api.fault('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: '' } }, 400);
  await api.fault('POST', '/v2.1/os-aggregates', demo, { aggregate: { name: 'mine' } }, 403);
  assert.match(await api.fault('GET', '/v2.1/os-aggregates/abc', admin, undefined, 400), /id must be an integer/);
  await api.fault('GET', '/v2.1/os-aggregates/99999', admin, undefined, 404);

  const act = (aggId: number, body: unknown, status = 200) => api.ok('POST', `/v2.1/os-aggregates/${aggId}/action`, admin, body, status);
  const added = (await act(id, { add_host: { host: host('a') } })).aggregate;
  assert.deepEqual(added.hosts, [host('a')]);
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${id}/action`, admin, { add_host: { host: host('a') } }, 409), /already has host/);
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${id}/action`, admin, { add_host: { host: 'no-such-host' } }, 404), /Compute host no-such-host could not be found/);
  // The host is now in zone z1: services, zone list and detail say so.
  assert.equal(mine((await api.ok('GET', `/v2.1/os-services?host=${host('a')}`, admin)).services)[0].zone, 'z1');
  const zones = (await api.ok('GET', '/v2.1/os-availability-zone', demo)).availabilityZoneInfo;
  assert.ok(zones.some((z: any) => z.zoneName === 'z1' && z.zoneState.available && z.hosts === null));
  assert.ok(!zones.some((z: any) => z.zoneName === 'internal'), 'the internal zone is hidden from the summary');
  await beat();
  const detail = (await api.ok('GET', '/v2.1/os-availability-zone/detail', admin)).availabilityZoneInfo;
  assert.deepEqual(Object.keys(detail.find((z: any) => z.zoneName === 'z1').hosts[host('a')]), ['nova-compute']);
  assert.ok(detail.find((z: any) => z.zoneName === 'internal').hosts[host('ctl')]['nova-scheduler'].available);
  await api.fault('GET', '/v2.1/os-availability-zone/detail', demo, undefined, 403);

  // A host cannot be in two zones; metadata changes are checked the same way.
  const other = (await api.ok('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'agg-z2', availability_zone: 'z2' } })).aggregate;
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${other.id}/action`, admin, { add_host: { host: host('a') } }, 409), /already in availability zone\(s\) \['z1'\]/);
  await act(other.id, { add_host: { host: host('b') } });
  const plain = (await api.ok('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'agg-plain' } })).aggregate;
  await act(plain.id, { add_host: { host: host('a') } });
  await act(plain.id, { add_host: { host: host('b') } });
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${plain.id}/action`, admin, { set_metadata: { metadata: { availability_zone: 'z3' } } }, 400), /already in availability zone/);
  const meta = (await act(plain.id, { set_metadata: { metadata: { ssd: 'true', gpu: 'no' } } })).aggregate;
  assert.deepEqual(meta.metadata, { ssd: 'true', gpu: 'no' });
  assert.ok(meta.updated_at);
  assert.deepEqual((await act(plain.id, { set_metadata: { metadata: { gpu: null, absent: null } } })).aggregate.metadata, { ssd: 'true' });
  await api.fault('POST', `/v2.1/os-aggregates/${plain.id}/action`, admin, { set_metadata: { metadata: { 'bad/key': 'v' } } }, 400);
  await api.fault('POST', `/v2.1/os-aggregates/${plain.id}/action`, admin, { set_metadata: { metadata: { k: 7 } } }, 400);

  // Update: rename, zone change, no empty zone name.
  assert.equal((await api.ok('PUT', `/v2.1/os-aggregates/${id}`, admin, { aggregate: { name: 'agg-z1-renamed' } })).aggregate.name, 'agg-z1-renamed');
  assert.match(await api.fault('PUT', `/v2.1/os-aggregates/${id}`, admin, { aggregate: { availability_zone: null } }, 400), /does not support empty named availability zone/);
  await api.fault('PUT', `/v2.1/os-aggregates/${id}`, admin, { aggregate: {} }, 400);
  assert.match(await api.fault('PUT', `/v2.1/os-aggregates/${id}`, admin, { aggregate: { name: 'agg-z2' } }, 409), /already exists/);
  // Hosts with servers keep their zone.
  serversOn.set(host('a'), [{ uuid: '0b3c4b1e-1d5e-4b8e-9a9e-222222222222', name: 'db-1' }]);
  assert.match(await api.fault('PUT', `/v2.1/os-aggregates/${id}`, admin, { aggregate: { availability_zone: 'z9' } }, 400), /contain instances/);
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${id}/action`, admin, { remove_host: { host: host('a') } }, 409), /availability zone of the host would change from 'z1' to 'None'/);
  serversOn.delete(host('a'));
  assert.equal((await api.ok('PUT', `/v2.1/os-aggregates/${id}`, admin, { aggregate: { availability_zone: 'z9' } })).aggregate.availability_zone, 'z9');

  assert.match(await api.fault('DELETE', `/v2.1/os-aggregates/${id}`, admin, undefined, 400), /Host aggregate is not empty/);
  for (const [agg, hostName] of [[id, 'a'], [plain.id, 'a'], [plain.id, 'b'], [other.id, 'b']] as const) {
    assert.deepEqual((await act(agg, { remove_host: { host: host(hostName) } })).aggregate.hosts.includes(host(hostName)), false);
  }
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${id}/action`, admin, { remove_host: { host: host('a') } }, 404), /Cannot remove host/);
  assert.match(await api.fault('POST', `/v2.1/os-aggregates/${id}/action`, admin, { add_host: { host: host('a') }, remove_host: { host: host('a') } }, 400), /Malformed request body/);
  const listed = (await api.ok('GET', '/v2.1/os-aggregates', admin)).aggregates.map((a: any) => a.name).sort();
  assert.deepEqual(listed, ['agg-plain', 'agg-z1-renamed', 'agg-z2']);
  for (const a of [id, plain.id, other.id]) await api.ok('DELETE', `/v2.1/os-aggregates/${a}`, admin, undefined, 200);
  assert.deepEqual((await api.ok('GET', '/v2.1/os-aggregates', admin)).aggregates, []);
  assert.equal(mine((await api.ok('GET', `/v2.1/os-services?host=${host('a')}`, admin)).services)[0].zone, 'nova');
});

test('deleting a compute service: refused while it hosts servers, then removes its hypervisor and aggregate membership', async () => {
  await h.cloud.compute.heartbeat(host('gone'), 'nova-compute');
  await report('gone');
  const agg = (await api.ok('POST', '/v2.1/os-aggregates', admin, { aggregate: { name: 'agg-gone' } })).aggregate;
  await api.ok('POST', `/v2.1/os-aggregates/${agg.id}/action`, admin, { add_host: { host: host('gone') } });
  const svc = mine((await api.ok('GET', `/v2.1/os-services?host=${host('gone')}`, admin, undefined, 200, { version: '2.53' })).services)[0];
  serversOn.set(host('gone'), [{ uuid: '0b3c4b1e-1d5e-4b8e-9a9e-333333333333', name: 'still-here' }]);
  assert.match(await api.fault('DELETE', `/v2.1/os-services/${svc.id}`, admin, undefined, 409, { version: '2.53' }), /hosting instances/);
  serversOn.delete(host('gone'));
  assert.match(await api.fault('DELETE', '/v2.1/os-services/not-a-uuid', admin, undefined, 400, { version: '2.53' }), /Invalid uuid/);
  await api.fault('DELETE', '/v2.1/os-services/abc', admin, undefined, 400);
  await api.fault('DELETE', '/v2.1/os-services/99999', admin, undefined, 404);
  await api.fault('DELETE', `/v2.1/os-services/${svc.id}`, demo, undefined, 403, { version: '2.53' });
  await api.ok('DELETE', `/v2.1/os-services/${svc.id}`, admin, undefined, 204, { version: '2.53' });
  assert.deepEqual(mine((await api.ok('GET', `/v2.1/os-services?host=${host('gone')}`, admin)).services), []);
  assert.ok(!(await api.ok('GET', '/v2.1/os-hypervisors', admin)).hypervisors.some((x: any) => x.hypervisor_hostname === host('gone')));
  assert.deepEqual((await api.ok('GET', `/v2.1/os-aggregates/${agg.id}`, admin)).aggregate.hosts, []);
  await api.ok('DELETE', `/v2.1/os-aggregates/${agg.id}`, admin, undefined, 200);
});
