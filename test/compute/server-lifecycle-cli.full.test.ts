// End to end with real QEMU (TCG): the server lifecycle actions through Debian's unmodified
// `openstack` CLI — createImage (a server booted from the snapshot), rebuild onto the
// direct-kernel guest, resize + confirm and resize + revert (placement allocations follow),
// shelve (offloaded at once) and unshelve (scheduled, ports bound again, booted), rescue and
// unrescue, and interfaces attached and detached (the guest sees the NIC over SSH) — plus the
// API's answers in Nova's terms (status codes, faults, microversions) over raw HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startComputeCloud, until, BOOT_LINE, type ComputeCloud } from '../lib/compute-cloud.js';
import { computeApi, type ComputeApi } from './client.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';
import { exec } from '../../src/platform/host/exec.js';
import { hostNamespace, tapName } from '../../src/network/host/names.js';

let c: ComputeCloud;
let api: ComputeApi;
let net: NetworkApi;
let token: string;
let adminToken: string;
let vm1: string;
let lcnet: string;
before(async () => {
  c = await startComputeCloud('lc');
  api = computeApi(c.h.computeUrl);
  net = networkApi(c.h.networkUrl);
  token = await c.h.tokenFor('demo', c.h.demoPassword, { project: 'demo' });
  adminToken = await c.h.adminToken();
});
after(async () => { await c?.close(); });

const t0 = Date.now();
const figures: Record<string, number> = {};
const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t = Date.now();
  try { return await fn(); } finally { figures[what] = Date.now() - t; }
};

/** The server as the demo user sees it over the API (cheaper than the CLI for polling). */
const server = async (id = vm1, version = '2.1') => (await api.ok('GET', `/v2.1/servers/${id}`, token, undefined, 200, { version })).server;
const waitStatus = async (want: string, id = vm1) => until(`${id} ${want}`, async () => {
  const s = await server(id);
  if (s.status === 'ERROR' && want !== 'ERROR') assert.fail(`${id} went to ERROR: ${JSON.stringify(s.fault)}`);
  return s.status === want && s['OS-EXT-STS:task_state'] === null;
}, 180_000);
/** Boot-complete lines on the server's console so far. */
const consoleText = async (id = vm1) => (await api.ok('POST', `/v2.1/servers/${id}/action`, token, { 'os-getConsoleOutput': {} })).output as string;
const boots = async (id = vm1) => [...(await consoleText(id)).matchAll(new RegExp(BOOT_LINE.source, 'g'))].length;
const bootLine = (nth: number, id = vm1) => until(`boot-complete line #${nth} of ${id}`, async () => {
  const all = [...(await consoleText(id)).matchAll(new RegExp(BOOT_LINE.source, 'g'))];
  return all.length >= nth ? all[nth - 1]! : undefined;
}, 180_000);
/** An image service request as the admin (images of every project). */
const imageApi = async (path: string) => {
  const r = await fetch(`${c.h.imageUrl}${path}`, { headers: { 'x-auth-token': adminToken } });
  assert.equal(r.status, 200, path);
  return r.json() as Promise<any>;
};
const images = async (name: string) => (await imageApi(`/v2/images?name=${encodeURIComponent(name)}`)).images as any[];
const imageId = async (name: string) => (await images(name))[0].id as string;
/** The instance's allocations in placement, summed over providers. */
const allocations = async (id: string) => {
  const r = await fetch(`${c.h.placementUrl}/allocations/${id}`, { headers: { 'x-auth-token': adminToken } });
  const body = await r.json() as { allocations: Record<string, { resources: Record<string, number> }> };
  return Object.values(body.allocations).reduce<Record<string, number>>((acc, a) => ({ ...acc, ...a.resources }), {});
};
const tapExists = async (portId: string) => (await exec('ip', ['-n', hostNamespace(c.host), '-o', 'link', 'show'])).stdout.includes(tapName(portId));
/** A port as the admin sees it in the network service. */
const port = async (id: string) => (await net.ok('GET', `/v2.0/ports/${id}`, adminToken)).port;
const portsOf = async (id = vm1) => (await net.ok('GET', `/v2.0/ports?device_id=${id}`, adminToken)).ports as any[];
const actionsOf = async (id = vm1) => (await api.ok('GET', `/v2.1/servers/${id}/os-instance-actions`, token)).instanceActions.map((a: { action: string }) => a.action) as string[];

test('server create, then the API\'s answers in Nova\'s terms: 409 for the wrong state, 400 for bad input, 403 by policy', { timeout: 180_000 }, async () => {
  await api.ok('POST', '/v2.1/os-keypairs', token, { keypair: { name: 'k', public_key: (await readFile(join(c.dir, 'key.pub'), 'utf8')).trim() } });
  const s = await c.json(c.demo, 'server', 'create', '--image', 'nephos-guest', '--flavor', 'm1.tiny', '--network', 'private', '--key-name', 'k', 'vm1');
  vm1 = s.id;
  await timed('create', () => waitStatus('ACTIVE'));
  // The network the interface test attaches, made now so the network agent sets it up meanwhile.
  lcnet = (await net.ok('POST', '/v2.0/networks', token, { network: { name: 'lcnet' } })).network.id as string;
  await net.ok('POST', '/v2.0/subnets', token, { subnet: { network_id: lcnet, cidr: '10.77.0.0/24', ip_version: 4, name: 'lcsub' } });
  const guest = await imageId('nephos-guest');
  const act = (body: unknown, version?: string, tok = token) => api.call('POST', `/v2.1/servers/${vm1}/action`, tok, body, version ? { version } : {});
  const fault = async (body: unknown, status: number, version?: string, tok = token) => {
    const r = await act(body, version, tok);
    assert.equal(r.status, status, r.text);
    const name = { 400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest' }[status]!;
    assert.equal(r.body[name].code, status, r.text);
    return r.body[name].message as string;
  };
  assert.equal(await fault({ confirmResize: null }, 409), `Cannot 'confirmResize' instance ${vm1} while it is in vm_state active`);
  assert.equal(await fault({ revertResize: null }, 409), `Cannot 'revertResize' instance ${vm1} while it is in vm_state active`);
  assert.equal(await fault({ unshelve: null }, 409), `Cannot 'unshelve' instance ${vm1} while it is in vm_state active`);
  assert.equal(await fault({ unrescue: null }, 409), `Cannot 'unrescue' instance ${vm1} while it is in vm_state active`);
  assert.equal(await fault({ shelveOffload: null }, 403), 'Policy doesn\'t allow os_compute_api:os-shelve:shelve_offload to be performed.');
  assert.equal(await fault({ shelveOffload: null }, 409, undefined, adminToken), `Cannot 'shelveOffload' instance ${vm1} while it is in vm_state active`);
  assert.equal(await fault({ resize: { flavorRef: '1' } }, 400), 'When resizing, instances must change flavor!');
  assert.equal(await fault({ resize: { flavorRef: 'nope' } }, 400), 'Flavor nope could not be found.');
  assert.equal(await fault({ resize: {} }, 400), "Invalid input for field/attribute resize. Value: {}. 'flavorRef' is a required property");
  // Growth beyond the project's quota: 403 with Nova's TooManyInstances wording (20 cores by default, 1 in use).
  const many = (await api.ok('POST', '/v2.1/flavors', adminToken, { flavor: { name: 'lc.many', vcpus: 21, ram: 512, disk: 1 } })).flavor.id as string;
  assert.equal(await fault({ resize: { flavorRef: many } }, 403), 'Quota exceeded for cores: Requested 20, but already used 1 of 20 cores');
  assert.match(await fault({ rebuild: { imageRef: 'not-a-uuid' } }, 400), /^Invalid input for field\/attribute imageRef\. Value: '?not-a-uuid'?\. 'not-a-uuid' is not a 'uuid'$/);
  assert.equal(await fault({ rebuild: { imageRef: '00000000-0000-4000-8000-000000000000' } }, 400), 'Cannot find image for rebuild');
  assert.match(await fault({ rebuild: { imageRef: guest, key_name: 'k' } }, 400), /Additional properties are not allowed \('key_name' was unexpected\)/, 'key_name needs 2.54');
  assert.equal(await fault({ rebuild: { imageRef: guest, key_name: 'nope' } }, 400, '2.54'), 'Invalid key_name provided.');
  assert.equal(await fault({ rebuild: { imageRef: guest, user_data: 'not base64!' } }, 400, '2.57'), 'User data needs to be valid base 64.');
  assert.equal(await fault({ rescue: { rescue_image_ref: '00000000-0000-4000-8000-000000000000' } }, 400), "Requested rescue image '00000000-0000-4000-8000-000000000000' is not supported");
  assert.equal(await fault({ createImage: {} }, 400), "Invalid input for field/attribute createImage. Value: {}. 'name' is a required property");
  assert.equal(await fault({ unshelve: {} }, 400, '2.77'), "Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property");
  assert.equal(await fault({ unshelve: { availability_zone: 'nova' } }, 409, '2.76'), `Cannot 'unshelve' instance ${vm1} while it is in vm_state active`, 'any body before 2.77');
  // A locked server takes no lifecycle action from its owner (Nova's check_instance_lock); createImage is not stopped by locks.
  assert.equal((await act({ lock: null })).status, 202);
  assert.equal(await fault({ resize: { flavorRef: '2' } }, 409), `Instance ${vm1} is locked`);
  assert.equal(await fault({ shelve: null }, 409), `Instance ${vm1} is locked`);
  assert.equal(await fault({ 'os-stop': null }, 409), `Instance ${vm1} is locked`);
  assert.equal(await api.fault('POST', `/v2.1/servers/${vm1}/os-interface`, token, {}, 409), `Instance ${vm1} is locked`);
  assert.equal((await act({ unlock: null })).status, 202);
  // os-interface: the boot port, with its tag (none) from 2.70.
  const list = await api.ok('GET', `/v2.1/servers/${vm1}/os-interface`, token, undefined, 200, { version: '2.70' });
  assert.equal(list.interfaceAttachments.length, 1);
  const a = list.interfaceAttachments[0];
  assert.deepEqual(Object.keys(a).sort(), ['fixed_ips', 'mac_addr', 'net_id', 'port_id', 'port_state', 'tag']);
  assert.equal(a.tag, null);
  assert.equal(a.port_state, 'ACTIVE');
  assert.ok(!('tag' in (await api.ok('GET', `/v2.1/servers/${vm1}/os-interface/${a.port_id}`, token)).interfaceAttachment), 'no tag before 2.70');
  await api.fault('GET', `/v2.1/servers/${vm1}/os-interface/00000000-0000-4000-8000-000000000000`, token, undefined, 404);
  await api.fault('DELETE', `/v2.1/servers/${vm1}/os-interface/00000000-0000-4000-8000-000000000000`, token, undefined, 404);
  assert.equal(await api.fault('POST', `/v2.1/servers/${vm1}/os-interface`, token, { interfaceAttachment: { net_id: a.net_id, port_id: a.port_id } }, 400), 'Must not input both network_id and port_id');
  assert.equal(await api.fault('POST', `/v2.1/servers/${vm1}/os-interface`, token, { interfaceAttachment: { port_id: a.port_id } }, 409), `Port ${a.port_id} is still in use.`);
  assert.equal(await api.fault('POST', `/v2.1/servers/${vm1}/os-interface`, token, { interfaceAttachment: { fixed_ips: [{ ip_address: '10.0.0.5' }] } }, 400), 'Must input network_id when request IP address');
  const now = await server();
  assert.deepEqual([now.status, now['OS-EXT-STS:task_state']], ['ACTIVE', null], 'none of this touched the server');
  await timed('first boot', () => bootLine(1));
});

test('createImage: a live snapshot becomes an active image of the project (2.1: Location; 2.45: image_id); a server boots from it', { timeout: 240_000 }, async () => {
  // Before 2.45 the image is in the Location header, the body empty.
  const r = await api.call('POST', `/v2.1/servers/${vm1}/action`, token, { createImage: { name: 'snap-old', metadata: { purpose: 'test' } } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  const location = r.headers.get('location')!;
  assert.match(location, /\/images\/[0-9a-f-]{36}$/);
  const oldId = location.split('/').pop()!;
  await until('snap-old active', async () => (await imageApi(`/v2/images/${oldId}`)).status === 'active');
  await waitStatus('ACTIVE');
  // 2.45+: the id in the body (the CLI negotiates it) and the CLI waits for the image.
  const img = await timed('image create --wait', () => c.json(c.demo, 'server', 'image', 'create', '--wait', '--name', 'snap1', 'vm1'));
  assert.equal(img.status, 'active');
  const shown = (await images('snap1'))[0];
  assert.equal(shown.image_type, 'snapshot');
  assert.equal(shown.instance_uuid, vm1);
  assert.equal(shown.base_image_ref, await imageId('nephos-guest'));
  assert.equal(shown.disk_format, 'qcow2');
  assert.equal(shown.container_format, 'bare');
  assert.equal(shown.visibility, 'private');
  assert.equal(shown.owner, (await server()).tenant_id, 'owned by the server\'s project');
  assert.equal(shown.min_disk, 1, 'the flavor\'s root disk');
  assert.equal((await imageApi(`/v2/images/${oldId}`)).purpose, 'test', 'createImage metadata is a property');
  assert.deepEqual((await readdir(join(c.dir, 'instances', '_snapshots')).catch(() => [])).filter((f) => f.endsWith('.qcow2')), [], 'the snapshot files were removed after upload');
  assert.equal((await actionsOf()).filter((x) => x === 'createImage').length, 2);
  // A server boots from the snapshot.
  const s2 = await c.json(c.demo, 'server', 'create', '--image', 'snap1', '--flavor', 'm1.tiny', '--network', 'private', 'vm2');
  await timed('create from snapshot', async () => { await waitStatus('ACTIVE', s2.id); await bootLine(1, s2.id); });
  assert.equal((await bootLine(1, s2.id))[3], 'vm2');
  // Rescue answers 200 with the admin password (Nova's enable_instance_password).
  const rescue = await api.call('POST', `/v2.1/servers/${s2.id}/action`, token, { rescue: { adminPass: 'rescue-pw' } });
  assert.equal(rescue.status, 200, rescue.text);
  assert.deepEqual(rescue.body, { adminPass: 'rescue-pw' });
  await waitStatus('RESCUE', s2.id);
  await c.run(c.demo, 'server', 'delete', '--wait', 'vm2');
  await c.run(c.demo, 'image', 'delete', 'snap-old');
});

test('rebuild onto nephos-guest-direct with the CLI: ACTIVE with the same addresses, booted by direct kernel; a stopped server rebuilt (2.90 response) stays stopped', { timeout: 240_000 }, async () => {
  const before = await server();
  const n = await boots();
  const direct = await imageId('nephos-guest-direct');
  await c.run(c.demo, 'server', 'rebuild', '--image', 'nephos-guest-direct', 'vm1');
  await timed('rebuild', async () => { await waitStatus('ACTIVE'); await bootLine(n + 1); });
  assert.equal((await bootLine(n + 1))[3], 'vm1');
  const after = await server();
  assert.deepEqual(after.addresses, before.addresses);
  assert.equal(after.image.id, direct);
  const info = (await c.agent.driver.getInstance(vm1))!;
  assert.equal(info.imageId, direct);
  assert.match(await readFile(`/proc/${info.pid}/cmdline`, 'utf8'), /-kernel\0/, 'direct kernel boot');
  // Stopped, rebuilt over the API: REBUILD at once with the whole server (2.75+), then SHUTOFF again.
  await api.ok('POST', `/v2.1/servers/${vm1}/action`, token, { 'os-stop': null }, 202);
  await waitStatus('SHUTOFF');
  const guest = await imageId('nephos-guest');
  const r = await api.call('POST', `/v2.1/servers/${vm1}/action`, token, { rebuild: { imageRef: guest, name: 'vm1', metadata: { rebuilt: 'yes' }, adminPass: 'pw-1' } }, { version: '2.90' });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.server.status, 'REBUILD');
  assert.equal(r.body.server.image.id, guest);
  assert.equal(r.body.server.adminPass, 'pw-1');
  assert.deepEqual(r.body.server.metadata, { rebuilt: 'yes' });
  assert.equal(r.body.server.user_data, null, '2.57+: user_data in the response');
  assert.ok('OS-EXT-STS:task_state' in r.body.server, '2.75+: the whole server');
  assert.match(r.headers.get('location') ?? '', new RegExp(`/servers/${vm1}$`));
  await waitStatus('SHUTOFF');
  const off = (await c.agent.driver.getInstance(vm1))!;
  assert.deepEqual([off.imageId, off.state], [guest, 'shutdown']);
});

test('resize a stopped server to m1.small + confirm (stays SHUTOFF, boots with the new size), then a running one to a custom flavor + revert: sizes and allocations follow', { timeout: 300_000 }, async () => {
  let n = await boots();
  assert.equal((await server()).status, 'SHUTOFF');
  await c.run(c.demo, 'server', 'resize', '--flavor', 'm1.small', 'vm1');
  await timed('resize', () => waitStatus('VERIFY_RESIZE'));
  assert.equal((await server(vm1, '2.47')).flavor.original_name, 'm1.small');
  let hv = (await c.agent.driver.getInstance(vm1))!;
  assert.deepEqual([hv.flavor.vcpus, hv.flavor.memoryMb, hv.flavor.rootGb, hv.state], [1, 2048, 20, 'shutdown']);
  assert.deepEqual(await allocations(vm1), { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 });
  await c.run(c.demo, 'server', 'resize', 'confirm', 'vm1');
  await waitStatus('SHUTOFF');
  await api.ok('POST', `/v2.1/servers/${vm1}/action`, token, { 'os-start': null }, 202);
  await waitStatus('ACTIVE');
  await bootLine(++n);
  assert.match(await readFile(`/proc/${(await c.agent.driver.getInstance(vm1))!.pid}/cmdline`, 'utf8'), /\0-m\0[^\0]*2048/, 'QEMU runs with the new memory');

  const flavor = await api.ok('POST', '/v2.1/flavors', adminToken, { flavor: { name: 'lc.two', vcpus: 2, ram: 1536, disk: 20 } });
  assert.ok(flavor.flavor.id);
  await c.run(c.demo, 'server', 'resize', '--flavor', 'lc.two', 'vm1');
  await timed('resize running', async () => { await waitStatus('VERIFY_RESIZE'); await bootLine(++n); });
  hv = (await c.agent.driver.getInstance(vm1))!;
  assert.deepEqual([hv.flavor.vcpus, hv.flavor.memoryMb, hv.state], [2, 1536, 'running']);
  assert.deepEqual(await allocations(vm1), { VCPU: 2, MEMORY_MB: 1536, DISK_GB: 20 });
  await c.run(c.demo, 'server', 'resize', 'revert', 'vm1');
  await timed('revert', async () => { await waitStatus('ACTIVE'); await bootLine(++n); });
  assert.equal((await server(vm1, '2.47')).flavor.original_name, 'm1.small');
  hv = (await c.agent.driver.getInstance(vm1))!;
  assert.deepEqual([hv.flavor.vcpus, hv.flavor.memoryMb, hv.flavor.rootGb], [1, 2048, 20]);
  assert.deepEqual(await allocations(vm1), { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 });
  // A flavor the host has no room for (within quota): placement refuses the claim, the server stays as it was.
  const huge = (await api.ok('POST', '/v2.1/flavors', adminToken, { flavor: { name: 'lc.huge', vcpus: 1, ram: 40960, disk: 20 } })).flavor.id as string;
  const req = await api.call('POST', `/v2.1/servers/${vm1}/action`, token, { resize: { flavorRef: huge } });
  assert.equal(req.status, 202, req.text);
  const rid = req.headers.get('x-openstack-request-id')!;
  const events = await until('the resize refused', async () => {
    const a = (await api.ok('GET', `/v2.1/servers/${vm1}/os-instance-actions/${rid}`, adminToken)).instanceAction;
    return a.message === 'Error' ? a.events as { event: string; result: string; traceback: string }[] : undefined;
  }, 60_000);
  assert.equal(events[0]!.event, 'conductor_migrate_server');
  assert.match(events[0]!.traceback, /No valid host was found/);
  await waitStatus('ACTIVE');
  assert.equal((await server(vm1, '2.47')).flavor.original_name, 'm1.small');
  assert.deepEqual(await allocations(vm1), { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 });
  assert.equal((await c.agent.driver.getInstance(vm1))!.flavor.memoryMb, 2048);
  const actions = await actionsOf();
  for (const a of ['resize', 'confirmResize', 'revertResize']) assert.ok(actions.includes(a), `${a} in ${actions}`);
});

test('shelve offloads at once (off the host, no allocations, ports unbound); unshelve schedules, binds and boots it again; the shelved image goes', { timeout: 300_000 }, async () => {
  const before = await server();
  const [portId] = (await portsOf()).map((p) => p.id as string);
  assert.ok(portId);
  const adminView = async () => (await api.ok('GET', `/v2.1/servers/${vm1}`, adminToken)).server;
  await c.run(c.demo, 'server', 'shelve', 'vm1');
  await timed('shelve', () => waitStatus('SHELVED_OFFLOADED'));
  const off = await adminView();
  assert.equal(off['OS-EXT-SRV-ATTR:host'], null);
  assert.equal(off['OS-EXT-STS:power_state'], 0);
  assert.equal(await c.agent.driver.getInstance(vm1), null, 'destroyed on the host');
  assert.deepEqual(await allocations(vm1), {}, 'no allocations');
  assert.equal((await port(portId!))['binding:host_id'], '', 'the port is unbound');
  assert.equal((await port(portId!)).device_id, vm1, 'and still the server\'s');
  await until('the TAP of the unbound port removed', async () => !(await tapExists(portId!)), 30_000);
  const shelved = await images('vm1-shelved');
  assert.equal(shelved.length, 1);
  assert.equal(shelved[0].status, 'active');
  await c.run(c.demo, 'server', 'unshelve', 'vm1');
  await timed('unshelve', async () => { await waitStatus('ACTIVE'); await bootLine(1); });
  assert.equal((await bootLine(1))[3], 'vm1');
  assert.equal((await adminView())['OS-EXT-SRV-ATTR:host'], c.host);
  assert.deepEqual((await server()).addresses, before.addresses, 'the same port, the same address');
  assert.equal((await port(portId!))['binding:host_id'], c.host);
  assert.deepEqual(await allocations(vm1), { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 });
  await until('the shelved image deleted', async () => (await images('vm1-shelved')).length === 0, 30_000);
  assert.equal((await server()).image.id, await imageId('nephos-guest'), 'the server keeps its own image');
  const actions = await actionsOf();
  for (const a of ['shelve', 'unshelve']) assert.ok(actions.includes(a), `${a} in ${actions}`);
});

test('server rescue --image nephos-guest-direct boots the rescue image with the server\'s disk second; server unrescue boots the server again', { timeout: 240_000 }, async () => {
  let n = await boots();
  await c.run(c.demo, 'server', 'rescue', '--image', 'nephos-guest-direct', 'vm1');
  await timed('rescue', async () => { await waitStatus('RESCUE'); await bootLine(++n); });
  const info = (await c.agent.driver.getInstance(vm1))!;
  assert.equal(info.rescued, true);
  assert.match(await readFile(`/proc/${info.pid}/cmdline`, 'utf8'), /-kernel\0[^\0]*kernel\.rescue/, 'booted from the rescue image\'s kernel');
  await c.run(c.demo, 'server', 'unrescue', 'vm1');
  await timed('unrescue', async () => { await waitStatus('ACTIVE'); await bootLine(++n); });
  assert.equal((await c.agent.driver.getInstance(vm1))!.rescued, false);
  const actions = await actionsOf();
  for (const a of ['rescue', 'unrescue']) assert.ok(actions.includes(a), `${a} in ${actions}`);
});

test('server add network / remove port / add port: bound to the host, plugged by the driver, seen by the guest, addresses follow', { timeout: 300_000 }, async () => {
  // SSH into the guest through a floating IP.
  const pub = (await net.ok('GET', '/v2.0/networks?name=public', token)).networks[0].id as string;
  const [boot] = await portsOf();
  const fip = (await net.ok('POST', '/v2.0/floatingips', token, { floatingip: { floating_network_id: pub, port_id: boot.id } })).floatingip.floating_ip_address as string;
  const sg = (await net.ok('GET', '/v2.0/security-groups?name=default', token)).security_groups[0].id as string;
  await net.ok('POST', '/v2.0/security-group-rules', token, { security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } });
  const macs = async () => (await until('SSH into vm1', async () => c.ssh(fip, 'cat /sys/class/net/eth*/address').catch(() => undefined), 60_000)).stdout.trim().split('\n').sort();
  assert.deepEqual(await macs(), [boot.mac_address]);

  await timed('add network', () => c.run(c.demo, 'server', 'add', 'network', 'vm1', 'lcnet'));
  const ports = await portsOf();
  assert.equal(ports.length, 2);
  const added = ports.find((p) => p.network_id === lcnet)!;
  assert.equal(added['binding:host_id'], c.host);
  assert.equal(added.device_owner, 'compute:nova');
  assert.deepEqual((await c.agent.driver.getInstance(vm1))!.nics.map((x) => x.portId).sort(), ports.map((p) => p.id).sort());
  const addr = (await server()).addresses as Record<string, { addr: string }[]>;
  assert.match(addr.lcnet?.[0]?.addr ?? '', /^10\.77\.0\./, JSON.stringify(addr));
  assert.equal((await api.ok('GET', `/v2.1/servers/${vm1}/os-interface`, token)).interfaceAttachments.length, 2);
  await timed('guest sees the NIC', () => until('the guest sees the new NIC', async () => (await macs()).includes(added.mac_address), 30_000));

  await c.run(c.demo, 'server', 'remove', 'port', 'vm1', added.id);
  await timed('remove port', () => until('the NIC unplugged and its port (made by compute) deleted', async () => {
    const nics = (await c.agent.driver.getInstance(vm1))!.nics;
    return nics.length === 1 && (await portsOf()).length === 1;
  }, 60_000));
  assert.equal((await net.call('GET', `/v2.0/ports/${added.id}`, adminToken)).status, 404);
  await until('the address cache forgets lcnet', async () => !('lcnet' in (await server()).addresses), 20_000);
  assert.deepEqual(await macs(), [boot.mac_address], 'the guest released it');

  // A user's own port: attached, then let go (not deleted).
  const own = (await net.ok('POST', '/v2.0/ports', token, { port: { network_id: lcnet, name: 'lcport' } })).port;
  await c.run(c.demo, 'server', 'add', 'port', 'vm1', 'lcport');
  assert.equal((await port(own.id)).device_id, vm1);
  assert.equal((await c.agent.driver.getInstance(vm1))!.nics.length, 2);
  await c.run(c.demo, 'server', 'remove', 'port', 'vm1', 'lcport');
  await until('the user\'s port let go', async () => (await port(own.id)).device_id === '', 60_000);
  assert.equal((await port(own.id))['binding:host_id'], '');
  assert.equal((await c.agent.driver.getInstance(vm1))!.nics.length, 1);
  const actions = await actionsOf();
  for (const a of ['attach_interface', 'detach_interface']) assert.ok(actions.includes(a), `${a} in ${actions}`);
  console.log(`# lifecycle figures (ms): ${JSON.stringify(figures)}; whole file ${Date.now() - t0} ms`);
});
