// Two hosts carrying one VXLAN network, as multi-node runs them: one cloud in this process with
// the agent of host A beside it, and the agent of host B talking to it only over RabbitMQ (its own
// AMQP connection, in a vhost this test makes and deletes) — desired state, port status and
// heartbeats are bus calls, and the server's `changed` fanout pokes it. The hosts are namespaces
// joined by an underlay veth pair on 198.51.100.0/24; each agent's VTEP is its underlay address.
// Host A runs DHCP and the router; a fake VM on host B gets its lease from A's dnsmasq across the
// tunnel, pings the VM on A, and the 1450-byte path MTU holds for DF packets; given DHCP for the
// network too, host B's metadata proxy resolves its VM's address over the bus. Everything is removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';
import { assertNoLeaks } from '../lib/host-leaks.js';
import { VM_DEV, dhcpLease, pings, plugFakeVm } from '../lib/fake-vm.js';
import { startInProcessAgent } from '../../src/network/agent/in-process.js';
import { startBusAgent, type BusAgent } from '../../src/network/agent/bus-client.js';
import { cleanupHost } from '../../src/network/agent/cleanup.js';
import { exec } from '../../src/platform/host/exec.js';
import { FLOOD_MAC, addrAdd, routeAdd, fdbList, linkAddVeth, linkDelete, linkGet, linkSet, netnsAdd, netnsDelete, netnsList } from '../../src/network/host/ip.js';
import { hostNamespace, tapName, vxlanName } from '../../src/network/host/names.js';
import { createBus, type Bus } from '../../src/platform/bus/index.js';
import { silentLogger } from '../../src/platform/log.js';
import { persistentSecret } from '../../src/platform/secrets.js';
import { instanceSignature } from '../../src/network/agent/metadata-proxy.js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const RABBIT = process.env.NEPHOS_TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const vhost = `nephos-test-multihost-${process.pid}`;
const hostA = `t${process.pid}a`;
const hostB = `t${process.pid}b`;
const nsA = hostNamespace(hostA);
const nsB = hostNamespace(hostB);
const publicNs = `nephos-t${process.pid}mpub`;
const vmA = `${nsA}-vm`;
const vmB = `${nsB}-vm`;
const UNDERLAY = 'ul0';
const underlayA = { device: UNDERLAY, address: '198.51.100.1', mtu: 1500 };
const underlayB = { device: UNDERLAY, address: '198.51.100.2', mtu: 1500 };
const T = { timeout: 120_000 };

let h: IdentityHarness;
let api: NetworkApi;
let agentA: Awaited<ReturnType<typeof startInProcessAgent>> | undefined;
let busB: Bus | undefined;
let agentB: BusAgent | undefined;
let vhostMade = false;
let admin: string;
let demo: string;
let dir: string;
let vni: number;
const ports: Record<'a' | 'b', any> = { a: null, b: null };
let upstream: Server | undefined;
const upstreamHeard: IncomingHttpHeaders[] = [];

const rabbitmqctl = (...args: string[]) => exec('rabbitmqctl', args, { timeoutMs: 60_000 });

/** Waits (bounded) until `check` holds; returns how long it took. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const t0 = Date.now();
  for (let i = 0; i < 1000; i++) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > ms) break;
    await sleep(50);
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}

/** Agents of a host as the API shows them. */
const agentsOf = async (host: string): Promise<any[]> => (await api.ok('GET', `/v2.0/agents?host=${host}`, admin)).agents;

/** A port on `private` bound to `host` as Nova binds it. */
async function boundPort(name: string, host: string): Promise<any> {
  const priv = (await api.ok('GET', '/v2.0/networks?name=private', demo)).networks[0];
  const port = (await api.ok('POST', '/v2.0/ports', demo, { port: { network_id: priv.id, name } })).port;
  await api.ok('PUT', `/v2.0/ports/${port.id}`, admin, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: randomUUID() } });
  return port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nephos-test-multihost-'));
  await rabbitmqctl('add_vhost', vhost);
  vhostMade = true;
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  const url = `${RABBIT}/${encodeURIComponent(vhost)}`;
  upstream = createServer((req, res) => {
    upstreamHeard.push(req.headers);
    res.end(`metadata of ${String(req.headers['x-instance-id'])}`);
  });
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
  const metadataUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  h = await startIdentity({ overrides: { network: { create_defaults: true, public_namespace: publicNs, metadata_upstream_url: metadataUrl }, bus: { url } } });
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });

  // The two hosts and the wire between them.
  await netnsAdd(nsA);
  await netnsAdd(nsB);
  await linkAddVeth(nsA, UNDERLAY, { name: UNDERLAY, netns: nsB });
  await addrAdd(nsA, UNDERLAY, `${underlayA.address}/24`);
  await addrAdd(nsB, UNDERLAY, `${underlayB.address}/24`);
  await linkSet(nsA, UNDERLAY, { up: true });
  await linkSet(nsB, UNDERLAY, { up: true });

  // Host A first, so its DHCP agent takes `private` and its L3 agent (first by name) the router.
  agentA = await startInProcessAgent(h.cloud.network.ctx, { host: hostA, underlay: underlayA });
  await until('host A\'s agents', async () => (await agentsOf(hostA)).length === 4);
  // Host B: its own connection to the broker, like another machine's process.
  busB = await createBus(url, { logger: silentLogger(), connectionName: `agent-${hostB}` });
  agentB = await startBusAgent(busB, { host: hostB, config: h.config, log: silentLogger(), underlay: underlayB });
  await until('host B\'s agents', async () => (await agentsOf(hostB)).length === 4);
  const net = (await api.ok('GET', '/v2.0/networks?name=private', admin)).networks[0];
  vni = net['provider:segmentation_id'];
});

after(async () => {
  await agentB?.stop();
  await busB?.close();
  await agentA?.stop();
  for (const ns of [vmA, vmB]) await netnsDelete(ns);
  const a = await cleanupHost(hostA, { publicNamespace: publicNs });
  const b = await cleanupHost(hostB);
  await h?.close();
  if (vhostMade) await rabbitmqctl('delete_vhost', vhost);
  upstream?.closeAllConnections();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual([...a.problems, ...b.problems], [], 'cleanup left nothing behind');
  await assertNoLeaks(hostA, { publicNamespace: publicNs });
  await assertNoLeaks(hostB);
});

test('each agent reports its underlay address as its VTEP; host B registered over the bus', T, async () => {
  const l2 = async (host: string) => (await agentsOf(host)).find((a) => a.agent_type === 'Linux bridge agent');
  assert.equal((await l2(hostA))?.configurations.tunneling_ip, underlayA.address);
  assert.equal((await l2(hostB))?.configurations.tunneling_ip, underlayB.address);
  assert.ok((await agentsOf(hostB)).every((a) => a.alive === true), 'host B\'s heartbeats arrived');
});

test('a port bound to host B appears there promptly through the change fanout, is reported ACTIVE, and each host floods to the other', T, async () => {
  ports.a = await boundPort(vmA, hostA);
  await agentA!.agent.converge();
  // No converge call for B: the API's change reaches it as a `changed` fanout (its resync is 30 s away).
  ports.b = await boundPort(vmB, hostB);
  const ms = await until('host B\'s TAP', async () => (await linkGet(nsB, tapName(ports.b.id))) !== null, 5000);
  console.log(`# host B plugged its port ${ms} ms after the API call`);
  await until('port B ACTIVE', async () => (await api.ok('GET', `/v2.0/ports/${ports.b.id}`, demo)).port.status === 'ACTIVE', 5000);
  await agentA!.agent.converge();
  await agentB!.agent.converge();

  const flood = async (ns: string) => (await fdbList(ns, vxlanName(vni))).filter((e) => e.mac === FLOOD_MAC).map((e) => e.dst);
  assert.deepEqual(await flood(nsA), [underlayB.address], 'host A floods to host B');
  assert.deepEqual(await flood(nsB), [underlayA.address], 'host B floods to host A');
  for (const [ns, u] of [[nsA, underlayA], [nsB, underlayB]] as const) {
    const vx = await linkGet(ns, vxlanName(vni));
    assert.deepEqual([vx?.info.local, vx?.info.link, vx?.mtu], [u.address, UNDERLAY, 1450], `${ns}: the VXLAN device rides the underlay`);
  }
  // DHCP and the router run on host A only.
  const namespaces = await netnsList();
  assert.ok(namespaces.some((n) => n.startsWith(`${nsA}-dhcp-`)), 'DHCP on host A');
  assert.ok(namespaces.some((n) => n.startsWith(`${nsA}-router-`)), 'the router on host A');
  assert.ok(!namespaces.some((n) => n.startsWith(`${nsB}-dhcp-`) || n.startsWith(`${nsB}-router-`)), 'neither on host B');
});

test('the VM on host B gets its lease from host A\'s dnsmasq across VXLAN and pings the VM on host A; the path MTU is 1450', T, async () => {
  // The fake VMs take the TAPs' places (veths of the same names, which the agents adopt).
  for (const [vm, ns, port, agent] of [[vmA, nsA, ports.a, agentA!.agent], [vmB, nsB, ports.b, agentB!.agent]] as const) {
    assert.ok(await linkDelete(ns, tapName(port.id)), `the agent made ${vm}'s TAP`);
    await plugFakeVm({ ns: vm, hostNs: ns, hostLink: tapName(port.id), mac: port.mac_address, mtu: 1500 });
    await agent.converge();
  }
  const leases: Record<string, Record<string, string>> = {};
  for (const [vm, port] of [[vmB, ports.b], [vmA, ports.a]] as const) {
    const lease = await dhcpLease(vm, dir);
    assert.ok(lease, `${vm}: a DHCP lease`);
    assert.equal(lease.ip, port.fixed_ips[0].ip_address);
    assert.equal(lease.mtu, '1450', 'the VXLAN network\'s MTU');
    await addrAdd(vm, VM_DEV, `${lease.ip}/24`);
    await linkSet(vm, VM_DEV, { mtu: Number(lease.mtu) });
    leases[vm] = lease;
  }
  const ipB = leases[vmB]!.ip!;
  assert.ok(await pings(vmA, ipB), 'VM A reaches VM B across the tunnel');
  assert.ok(await pings(vmB, '10.0.0.1'), 'VM B reaches its router on host A');
  assert.ok(await pings(vmA, ipB, { size: 1422, dontFragment: true }), '1422 + 28 = 1450 crosses');
  assert.equal(await pings(vmA, ipB, { size: 1423, dontFragment: true, count: 2 }), false, '1451 does not');
  // A guest ignoring the network's MTU still cannot push more than 1450 through the tunnel.
  await linkSet(vmA, VM_DEV, { mtu: 1500 });
  try {
    assert.equal(await pings(vmA, ipB, { size: 1423, dontFragment: true, count: 2 }), false, '1451 from a 1500-MTU guest is dropped');
    assert.ok(await pings(vmA, ipB, { size: 1422, dontFragment: true }));
  } finally {
    await linkSet(vmA, VM_DEV, { mtu: 1450 });
  }
});

test('DHCP moved to host B serves metadata too: its proxy asks the servers over the bus who owns the address', T, async () => {
  const net = (await api.ok('GET', '/v2.0/networks?name=private', admin)).networks[0];
  const dhcpOf = async (host: string) => (await agentsOf(host)).find((a) => a.agent_type === 'DHCP agent');
  const [dhcpA, dhcpB] = [await dhcpOf(hostA), await dhcpOf(hostB)];
  // One DHCP server per network (one DHCP port): a second agent is refused, moving it works.
  const refused = await api.fault('POST', `/v2.0/agents/${dhcpB.id}/dhcp-networks`, admin, { network_id: net.id }, 409);
  assert.match(refused, /one DHCP agent/);
  await api.ok('DELETE', `/v2.0/agents/${dhcpA.id}/dhcp-networks/${net.id}`, admin);
  await api.ok('POST', `/v2.0/agents/${dhcpB.id}/dhcp-networks`, admin, { network_id: net.id });
  try {
    await agentA!.agent.converge();
    await agentB!.agent.converge();
    assert.ok((await netnsList()).some((n) => n.startsWith(`${nsB}-dhcp-`)), 'DHCP now on host B');
    const dhcpPort = (await api.ok('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`, admin)).ports[0];
    await routeAdd(vmB, { dst: '169.254.169.254/32', via: dhcpPort.fixed_ips[0].ip_address, dev: VM_DEV });
    const r = await exec('/bin/busybox', ['wget', '-q', '-O', '-', 'http://169.254.169.254/openstack/latest/meta_data.json'], { netns: vmB, timeoutMs: 15_000 });
    const seen = upstreamHeard.at(-1);
    const portB = (await api.ok('GET', `/v2.0/ports/${ports.b.id}`, admin)).port;
    assert.ok(portB.device_id);
    assert.equal(r.stdout, `metadata of ${portB.device_id}`);
    assert.equal(seen?.['x-instance-id'], portB.device_id, 'the instance of VM B\'s address, as the servers resolved it');
    assert.equal(seen?.['x-tenant-id'], portB.project_id);
    assert.equal(seen?.['x-instance-id-signature'], instanceSignature(persistentSecret(h.config.platform.state_dir, 'metadata-proxy-secret', null), portB.device_id));
  } finally {
    await api.call('DELETE', `/v2.0/agents/${dhcpB.id}/dhcp-networks/${net.id}`, admin);
    await api.call('POST', `/v2.0/agents/${dhcpA.id}/dhcp-networks`, admin, { network_id: net.id });
    await agentB!.agent.converge();
    await agentA!.agent.converge();
  }
});

test('deleting host B\'s port removes its link, bridge and VXLAN device there; host A stops flooding only when B carries nothing', T, async () => {
  await api.ok('DELETE', `/v2.0/ports/${ports.b.id}`, demo);
  await until('host B emptied', async () => (await linkGet(nsB, vxlanName(vni))) === null && (await linkGet(nsB, tapName(ports.b.id))) === null, 5000);
  await agentA!.agent.converge();
  // Host A still sends floods to B (every L2 agent is a peer) — harmless, and ready for B's next port.
  assert.ok(await pings(vmA, '10.0.0.1'), 'host A unaffected');
});
