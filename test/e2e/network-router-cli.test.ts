// End to end: Debian's unmodified `openstack` CLI against the network service's routers and
// floating IPs: router create, gateway set/unset, subnet and port interfaces, static routes
// (set and the atomic add/remove), floating IP create/set --port/unset/show/list/delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;

async function json(auth: CliAuth, ...cmd: string[]): Promise<any> {
  const r = await openstack(auth, ...cmd, '-f', 'json');
  ok(r, cmd.join(' '));
  return r.json;
}
async function run(auth: CliAuth, ...cmd: string[]): Promise<CliResult> {
  const r = await openstack(auth, ...cmd);
  ok(r, cmd.join(' '));
  return r;
}

before(async () => {
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
  await run(admin, 'network', 'create', '--external', 'cli-public');
  await run(admin, 'subnet', 'create', '--network', 'cli-public', '--subnet-range', '203.0.113.0/24', '--gateway', '203.0.113.1', '--no-dhcp', 'cli-public-v4');
  await run(demo, 'network', 'create', 'cli-private');
  await run(demo, 'subnet', 'create', '--network', 'cli-private', '--subnet-range', '10.0.0.0/24', 'cli-private-v4');
});
after(async () => { await h?.close(); });

test('router: create, external gateway, subnet interface, routes, show, remove, delete', async () => {
  const r = await json(demo, 'router', 'create', 'cli-r1');
  assert.equal(r.name, 'cli-r1');
  assert.equal(r.status, 'ACTIVE');
  await run(demo, 'router', 'set', '--external-gateway', 'cli-public', 'cli-r1');
  let shown = await json(demo, 'router', 'show', 'cli-r1');
  const publicId = (await json(demo, 'network', 'show', 'cli-public')).id;
  assert.equal(shown.external_gateway_info.network_id, publicId);
  assert.equal(shown.external_gateway_info.enable_snat, true);
  assert.match(shown.external_gateway_info.external_fixed_ips[0].ip_address, /^203\.0\.113\./);
  // enable_snat is an admin's choice (Neutron policy); the admin may turn it off.
  const denied = await openstack(demo, 'router', 'set', '--external-gateway', 'cli-public', '--disable-snat', 'cli-r1');
  assert.notEqual(denied.code, 0);
  await run(admin, 'router', 'set', '--external-gateway', 'cli-public', '--disable-snat', r.id);
  assert.equal((await json(demo, 'router', 'show', 'cli-r1')).external_gateway_info.enable_snat, false);

  await run(demo, 'router', 'add', 'subnet', 'cli-r1', 'cli-private-v4');
  shown = await json(demo, 'router', 'show', 'cli-r1');
  const subnetId = (await json(demo, 'subnet', 'show', 'cli-private-v4')).id;
  assert.deepEqual(shown.interfaces_info.map((i: any) => [i.subnet_id, i.ip_address]), [[subnetId, '10.0.0.1']]);
  const ifPorts = await json(demo, 'port', 'list', '--router', 'cli-r1', '--long');
  assert.equal(ifPorts.length, 1);
  assert.equal(ifPorts[0]['Device Owner'], 'network:router_interface');

  // Static routes: the atomic add/remove actions, and set/--no-route.
  await run(demo, 'router', 'add', 'route', '--route', 'destination=172.16.0.0/16,gateway=10.0.0.10', 'cli-r1');
  await run(demo, 'router', 'add', 'route', '--route', 'destination=172.17.0.0/16,gateway=10.0.0.11', '--route', 'destination=172.16.0.0/16,gateway=10.0.0.10', 'cli-r1');
  shown = await json(demo, 'router', 'show', 'cli-r1');
  assert.deepEqual(shown.routes.map((x: any) => `${x.destination} ${x.nexthop}`).sort(), ['172.16.0.0/16 10.0.0.10', '172.17.0.0/16 10.0.0.11']);
  const bad = await openstack(demo, 'router', 'add', 'route', '--route', 'destination=172.18.0.0/16,gateway=192.168.77.1', 'cli-r1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /nexthop is not connected/);
  // The interface carries the routes' next hops: it cannot go first.
  const busy = await openstack(demo, 'router', 'remove', 'subnet', 'cli-r1', 'cli-private-v4');
  assert.notEqual(busy.code, 0);
  await run(demo, 'router', 'remove', 'route', '--route', 'destination=172.16.0.0/16,gateway=10.0.0.10', 'cli-r1');
  assert.deepEqual((await json(demo, 'router', 'show', 'cli-r1')).routes, [{ destination: '172.17.0.0/16', nexthop: '10.0.0.11' }]);
  await run(demo, 'router', 'set', '--no-route', 'cli-r1');
  assert.deepEqual((await json(demo, 'router', 'show', 'cli-r1')).routes, []);

  const inUse = await openstack(demo, 'router', 'delete', 'cli-r1');
  assert.notEqual(inUse.code, 0, 'a router with an interface cannot be deleted');
  await run(demo, 'router', 'remove', 'subnet', 'cli-r1', 'cli-private-v4');
  await run(demo, 'router', 'unset', '--external-gateway', 'cli-r1');
  shown = await json(demo, 'router', 'show', 'cli-r1');
  assert.ok(shown.external_gateway_info == null || Object.keys(shown.external_gateway_info).length === 0, JSON.stringify(shown.external_gateway_info));
  await run(demo, 'router', 'delete', 'cli-r1');
  assert.equal((await json(demo, 'router', 'list')).length, 0);
});

test('router add/remove port; floating ip create, set --port, show, unset, list, delete', async () => {
  await run(demo, 'router', 'create', 'cli-r2');
  await run(demo, 'router', 'set', '--external-gateway', 'cli-public', 'cli-r2');
  const ifPort = await json(demo, 'port', 'create', '--network', 'cli-private', 'cli-r2-if');
  await run(demo, 'router', 'add', 'port', 'cli-r2', 'cli-r2-if');
  assert.equal((await json(demo, 'port', 'show', ifPort.id)).device_owner, 'network:router_interface');
  const vm = await json(demo, 'port', 'create', '--network', 'cli-private', 'cli-vm');

  const fip = await json(demo, 'floating', 'ip', 'create', 'cli-public');
  assert.match(fip.floating_ip_address, /^203\.0\.113\./);
  assert.equal(fip.port_id, null);
  await run(demo, 'floating', 'ip', 'set', '--port', 'cli-vm', fip.floating_ip_address);
  let shown = await json(demo, 'floating', 'ip', 'show', fip.id);
  const routerId = (await json(demo, 'router', 'show', 'cli-r2')).id;
  assert.equal(shown.port_id, vm.id);
  assert.equal(shown.fixed_ip_address, vm.fixed_ips[0].ip_address);
  assert.equal(shown.router_id, routerId);
  // The CLI prints port_details flattened: name='cli-vm', status='DOWN', …
  assert.match(String(shown.port_details), /name='cli-vm'/);
  const listed = await json(demo, 'floating', 'ip', 'list', '--port', 'cli-vm');
  assert.deepEqual(listed.map((f: any) => f.ID), [fip.id]);
  // The interface is needed by the floating IP.
  const busy = await openstack(demo, 'router', 'remove', 'port', 'cli-r2', 'cli-r2-if');
  assert.notEqual(busy.code, 0);
  await run(demo, 'floating', 'ip', 'unset', '--port', fip.id);
  shown = await json(demo, 'floating', 'ip', 'show', fip.floating_ip_address);
  assert.equal(shown.port_id, null);
  assert.equal(shown.router_id, null);
  await run(demo, 'floating', 'ip', 'delete', fip.floating_ip_address);
  assert.equal((await json(demo, 'floating', 'ip', 'list')).length, 0);

  await run(demo, 'router', 'remove', 'port', 'cli-r2', 'cli-r2-if');
  assert.notEqual((await openstack(demo, 'port', 'show', ifPort.id)).code, 0, 'removing by port deletes the port');
  await run(demo, 'port', 'delete', 'cli-vm');
  await run(demo, 'router', 'delete', 'cli-r2');
});
