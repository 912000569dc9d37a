// A flat provider network on a real host interface (`physical_interface_mappings`). The "real"
// interface is one end of a veth pair this test makes in the machine's namespace (no address, no
// route: nothing of the machine is touched); its other end sits in a namespace standing for the
// physical LAN. The agent moves the mapped interface onto the network's bridge, a fake VM on that
// network is reached from the LAN, the agents report the mapping, and when the network goes the
// interface is given back to the machine's namespace, detached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';
import { pings, plugFakeVm } from '../lib/fake-vm.js';
import { startInProcessAgent } from '../../src/network/agent/in-process.js';
import { cleanupHost } from '../../src/network/agent/cleanup.js';
import { addrAdd, linkAddVeth, linkDelete, linkGet, linkSet, netnsAdd, netnsDelete } from '../../src/network/host/ip.js';
import { exec } from '../../src/platform/host/exec.js';
import { bridgeName, hostNamespace, tapName } from '../../src/network/host/names.js';

const host = `t${process.pid}p`;
const hostNs = hostNamespace(host);
const lanNs = `pm${process.pid}`;
const machineEnd = `pm${process.pid}a`;
const lanEnd = `pm${process.pid}b`;
const physnet = `lan${process.pid}`;
const vm = `${hostNs}-vm`;
const mappings = new Map([[physnet, machineEnd]]);

let h: IdentityHarness;
let api: NetworkApi;
let agent: Awaited<ReturnType<typeof startInProcessAgent>> | undefined;
let admin: string;

before(async () => {
  h = await startIdentity({ overrides: { network: { physical_interface_mappings: [`${physnet}:${machineEnd}`], flat_networks: ['public', physnet] } } });
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  // The LAN side, and the machine-side end created straight in the machine's namespace (pid 1's).
  await netnsAdd(lanNs);
  await linkAddVeth(lanNs, lanEnd, { name: machineEnd, netns: '1' });
  await linkSet(lanNs, lanEnd, { up: true });
  await addrAdd(lanNs, lanEnd, '203.0.113.1/24');
  agent = await startInProcessAgent(h.cloud.network.ctx, { host });
});

after(async () => {
  await agent?.stop();
  await cleanupHost(host, { physicalInterfaces: mappings }).catch(() => undefined);
  await netnsDelete(vm).catch(() => undefined);
  await netnsDelete(lanNs).catch(() => undefined); // takes its veth pair with it
  if (await linkGet(null, machineEnd).catch(() => null)) await exec('ip', ['link', 'delete', 'dev', machineEnd]).catch(() => undefined);
  rmSync(`/run/nephos/${host}`, { recursive: true, force: true });
  await h?.close();
});

test('a flat network mapped to a host interface carries a VM\'s traffic, and gives the interface back when deleted', { timeout: 120_000 }, async () => {
  const net = (await api.ok('POST', '/v2.0/networks', admin, {
    network: { name: `lan-${process.pid}`, 'provider:network_type': 'flat', 'provider:physical_network': physnet, port_security_enabled: false },
  })).network;
  assert.equal(net.mtu, 1500, 'a flat network gets global_physnet_mtu');
  await api.ok('POST', '/v2.0/subnets', admin, { subnet: { network_id: net.id, cidr: '203.0.113.0/24', ip_version: 4, gateway_ip: '203.0.113.1', enable_dhcp: false } });
  const port = (await api.ok('POST', '/v2.0/ports', admin, { port: { network_id: net.id, fixed_ips: [{ ip_address: '203.0.113.10' }] } })).port;
  await api.ok('PUT', `/v2.0/ports/${port.id}`, admin, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: randomUUID() } });
  await agent!.agent.converge();
  assert.ok(await linkDelete(hostNs, tapName(port.id)), 'the agent made the port\'s TAP');
  await plugFakeVm({ ns: vm, hostNs, hostLink: tapName(port.id), mac: port.mac_address, mtu: 1500, cidr: '203.0.113.10/24' });
  const pass = await agent!.agent.converge();
  assert.deepEqual(pass.errors, []);

  assert.equal(await linkGet(null, machineEnd), null, 'the interface left the machine\'s namespace');
  const moved = await linkGet(hostNs, machineEnd);
  assert.equal(moved?.master, bridgeName(net.id), 'it is a port of the network\'s bridge');
  assert.ok(moved?.up);
  assert.ok(await pings(lanNs, '203.0.113.10'), 'the LAN reaches the VM through the mapped interface');
  assert.ok(await pings(vm, '203.0.113.1'), 'and the VM reaches the LAN');

  const agents = (await api.ok('GET', `/v2.0/agents?host=${host}&agent_type=Linux%20bridge%20agent`, admin)).agents;
  assert.deepEqual(agents[0]?.configurations?.interface_mappings, { [physnet]: machineEnd }, 'the agent reports its mapping');

  await api.ok('DELETE', `/v2.0/ports/${port.id}`, admin);
  await api.ok('DELETE', `/v2.0/networks/${net.id}`, admin);
  assert.deepEqual((await agent!.agent.converge()).errors, []);
  assert.equal(await linkGet(hostNs, machineEnd), null);
  const back = await linkGet(null, machineEnd);
  assert.ok(back, 'the interface is back in the machine\'s namespace');
  assert.equal(back.master, null, 'detached from any bridge');
});
