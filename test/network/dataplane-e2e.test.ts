// The whole network service with real packets, driven through its API and its agent, as a VM will
// use it (a namespace stands in for the VM until compute lands): DHCP gives the port's address and
// the network's MTU, the router is reached, the public side is reached through SNAT, a floating IP
// reaches the VM, security groups block and then allow on live traffic within a second, and a
// spoofed source is dropped. Host objects carry this run's host name and are all removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { startInProcessAgent } from '../../src/network/agent/in-process.js';
import { removeAllDhcp, defaultDhcpDir } from '../../src/network/agent/dhcp.js';
import { addrAdd, addrFlush, linkDelete, linkSet, netnsAdd, netnsDelete, netnsList, routeReplace } from '../../src/network/host/ip.js';
import { hostNamespace, tapName } from '../../src/network/host/names.js';
import { VM_DEV, dhcpLease, pings, plugFakeVm, tcpConnects, tcpServer } from '../lib/fake-vm.js';

const host = `t${process.pid}e`;
const hostNs = hostNamespace(host);
const publicNs = `nephos-t${process.pid}epub`;
const vm1 = `${hostNs}-vm1`;
const vm2 = `${hostNs}-vm2`;
let h: IdentityHarness;
let agent: Awaited<ReturnType<typeof startInProcessAgent>>;
let admin: string;
let demo: string;
let dir: string;

async function api(method: string, path: string, token: string, body?: unknown): Promise<any> {
  const res = await fetch(`${h.networkUrl}${path}`, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * A port on `private` for a fake VM: bound to this host as Nova binds it, so the agent makes its
 * TAP; the fake VM then takes the TAP's place (a veth of the same name, which L2 adopts).
 */
async function vmPort(vmNs: string): Promise<any> {
  const priv = (await api('GET', '/v2.0/networks?name=private', demo)).networks[0];
  const port = (await api('POST', '/v2.0/ports', demo, { port: { network_id: priv.id, name: vmNs } })).port;
  await api('PUT', `/v2.0/ports/${port.id}`, admin, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: randomUUID() } });
  await agent.agent.converge();
  assert.ok(await linkDelete(hostNs, tapName(port.id)), 'the agent made the port\'s TAP');
  await plugFakeVm({ ns: vmNs, hostNs, hostLink: tapName(port.id), mac: port.mac_address, mtu: 1500 });
  return port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nephos-test-dataplane-'));
  h = await startIdentity({ overrides: { network: { create_defaults: true, public_namespace: publicNs } } });
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  await netnsAdd(hostNs);
  agent = await startInProcessAgent(h.cloud.network.ctx, { host });
});

after(async () => {
  await agent?.stop();
  await removeAllDhcp(host, { dir: defaultDhcpDir(host) }).catch(() => undefined);
  rmSync(`/run/nephos/${host}`, { recursive: true, force: true });
  for (const ns of (await netnsList()).filter((n) => n.startsWith(hostNs) || n === publicNs)) await netnsDelete(ns);
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a VM port gets its address and MTU by DHCP, reaches its router and the public side, and is reached by its floating IP', { timeout: 120_000 }, async () => {
  const port = await vmPort(vm1);
  await agent.agent.converge();
  const lease = await dhcpLease(vm1, dir);
  assert.ok(lease, 'a DHCP lease');
  assert.equal(lease.ip, port.fixed_ips[0].ip_address);
  assert.equal(lease.mtu, '1450', 'the VXLAN network\'s MTU');
  assert.equal(lease.router, '10.0.0.1');
  await addrAdd(vm1, VM_DEV, `${lease.ip}/24`);
  await linkSet(vm1, VM_DEV, { mtu: Number(lease.mtu) });
  await routeReplace(vm1, { dst: 'default', via: lease.router! });
  const shown = (await api('GET', `/v2.0/ports/${port.id}`, demo)).port;
  assert.equal(shown.status, 'ACTIVE', 'the agent reported the port plugged');
  assert.ok(await pings(vm1, '10.0.0.1'), 'the router');
  assert.ok(await pings(vm1, '203.0.113.1'), 'the public side, through SNAT');

  const pub = (await api('GET', '/v2.0/networks?name=public', demo)).networks[0];
  const fip = (await api('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: pub.id, port_id: port.id } })).floatingip;
  const fipStatus = async (): Promise<string> => (await api('GET', `/v2.0/floatingips/${fip.id}`, demo)).floatingip.status;
  assert.equal(fip.status, 'DOWN', 'DOWN until the agent translates it');
  await agent.agent.converge();
  assert.equal(await fipStatus(), 'ACTIVE', 'ACTIVE once its router translates it');
  // Ingress is closed by the default group: ICMP from the public side is refused until a rule allows it.
  const rule = (await api('POST', '/v2.0/security-group-rules', demo, { security_group_rule: { security_group_id: shown.security_groups[0], direction: 'ingress', protocol: 'icmp' } })).security_group_rule;
  await agent.agent.converge();
  assert.ok(await pings(publicNs, fip.floating_ip_address), 'the floating IP reaches the VM');
  // One ping flow running across the rule's removal: its conntrack entry goes with the rule, so
  // it stops being answered (without the flush, "established" would keep it alive forever).
  const flow = spawn('ip', ['netns', 'exec', publicNs, 'ping', '-n', '-i', '0.2', '-c', '30', '-W', '1', fip.floating_ip_address], { stdio: ['ignore', 'pipe', 'ignore'] });
  const replies: number[] = [];
  flow.stdout.on('data', (b: Buffer) => { for (const l of b.toString().split('\n')) if (/bytes from/.test(l)) replies.push(Date.now()); });
  try {
    for (let i = 0; i < 50 && replies.length < 5; i++) await sleep(100);
    assert.ok(replies.length >= 5, 'the flow is answered while the rule exists');
    await api('DELETE', `/v2.0/security-group-rules/${rule.id}`, demo);
    await agent.agent.converge();
    const removedAt = Date.now();
    await sleep(1500);
    assert.equal(replies.filter((t) => t > removedAt + 300).length, 0, 'the running flow stopped with its rule');
  } finally {
    flow.kill('SIGKILL');
  }
  assert.equal(await pings(publicNs, fip.floating_ip_address, { count: 2 }), false, 'closed again');

  // Without a port: DOWN at once (the API) and after a pass (the agent); associated again: ACTIVE.
  assert.equal((await api('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: null } })).floatingip.status, 'DOWN');
  await agent.agent.converge();
  assert.equal(await fipStatus(), 'DOWN');
  assert.equal((await api('PUT', `/v2.0/floatingips/${fip.id}`, demo, { floatingip: { port_id: port.id } })).floatingip.status, 'DOWN');
  await agent.agent.converge();
  assert.equal(await fipStatus(), 'ACTIVE');
});

test('security groups on live traffic: blocked, allowed within a second of the rule, and no spoofing', { timeout: 120_000 }, async () => {
  const port = (await api('GET', `/v2.0/ports?name=${vm1}`, demo)).ports[0];
  const fip = (await api('GET', `/v2.0/floatingips?port_id=${port.id}`, demo)).floatingips[0];
  const server = await tcpServer(vm1, 2222);
  try {
    assert.equal(await tcpConnects(publicNs, fip.floating_ip_address, 2222), false, 'no rule opens 2222');
    const t0 = Date.now();
    await api('POST', '/v2.0/security-group-rules', demo, { security_group_rule: { security_group_id: port.security_groups[0], direction: 'ingress', protocol: 'tcp', port_range_min: 2222, port_range_max: 2222 } });
    let open = false;
    // The time is a figure (the 1 s target is the network bench's: a loaded CI machine is no measure); the bound only ends the wait.
    while (!open && Date.now() - t0 < 15_000) open = await tcpConnects(publicNs, fip.floating_ip_address, 2222, 300);
    const ms = Date.now() - t0;
    assert.ok(open, 'the rule opened the port');
    console.log(`# security group rule enforced ${ms} ms after the API call`);
  } finally {
    server.stop();
  }
  // A second VM on the same network may only send from its own address.
  const p2 = await vmPort(vm2);
  await agent.agent.converge();
  const lease = await dhcpLease(vm2, dir);
  assert.equal(lease?.ip, p2.fixed_ips[0].ip_address);
  await addrAdd(vm2, VM_DEV, `${lease!.ip}/24`);
  assert.ok(await pings(vm2, '10.0.0.1'), 'its own address works');
  await addrFlush(vm2, VM_DEV, 4);
  await addrAdd(vm2, VM_DEV, '10.0.0.250/24');
  assert.equal(await pings(vm2, '10.0.0.1', { count: 2 }), false, 'a spoofed source is dropped');
});
