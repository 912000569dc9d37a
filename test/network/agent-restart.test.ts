// Reconciliation on one host: restarting the network agent (a new NetworkAgent for the same host)
// while a VM is pinged through its floating IP and holds an open TCP connection across its router
// loses at most one ping and never stalls the connection, and recreates nothing — every link keeps
// its ifindex, dnsmasq and haproxy keep their pids. Then deleting the port, the router interface,
// the router and the network through the API removes every host object they made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';
import { assertNoLeaks, hostLeaks } from '../lib/host-leaks.js';
import { VM_DEV, dhcpLease, pings, plugFakeVm } from '../lib/fake-vm.js';
import { startInProcessAgent } from '../../src/network/agent/in-process.js';
import { cleanupHost } from '../../src/network/agent/cleanup.js';
import { defaultDhcpDir, metadataHaproxyFiles } from '../../src/network/agent/dhcp.js';
import { dnsmasqPid } from '../../src/network/host/dnsmasq.js';
import { haproxyPid } from '../../src/network/host/haproxy.js';
import { addrAdd, linkDelete, linkList, linkSet, netnsAdd, netnsDelete, netnsList, routeReplace } from '../../src/network/host/ip.js';
import { dhcpNamespace, hostNamespace, tapName } from '../../src/network/host/names.js';

const host = `t${process.pid}r`;
const hostNs = hostNamespace(host);
const publicNs = `nephos-t${process.pid}rpub`;
const vm = `${hostNs}-vm`;
const ECHO_PORT = 7000;
const T = { timeout: 180_000 };

let h: IdentityHarness;
let api: NetworkApi;
let agent: Awaited<ReturnType<typeof startInProcessAgent>> | undefined;
let admin: string;
let demo: string;
let dir: string;
let port: any;
let fip: any;
const stops: (() => void)[] = [];

/** A child process in a namespace; resolves with its stdout when it exits (any code). */
function runIn(ns: string, argv: readonly string[]): { done: Promise<{ code: number | null; out: string }>; out(): string; kill(): void } {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, out })));
  return { done, out: () => out, kill: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}

/** A TCP echo server in the VM (stopped by pid at the end). */
async function echoServer(): Promise<void> {
  const code = `require('net').createServer((s)=>{s.on('data',(b)=>s.write(b));s.on('error',()=>{})}).listen(${ECHO_PORT},()=>console.log('up'))`;
  const p = runIn(vm, [process.execPath, '-e', code]);
  stops.push(p.kill);
  for (let i = 0; i < 100 && !p.out().includes('up'); i++) await sleep(100);
  assert.ok(p.out().includes('up'), 'the echo server listens');
}

/**
 * One TCP connection from the public side to the VM's floating IP, writing a numbered line every
 * 100 ms for `ms` and counting the echoes; prints {sent, echoed, maxGapMs, error}.
 */
function echoClient(host: string, ms: number): ReturnType<typeof runIn> {
  const code = `const s=require('net').connect(${ECHO_PORT},${JSON.stringify(host)});let sent=0,got='',last=Date.now(),maxGap=0,error=null;`
    + `s.on('connect',()=>{const t=setInterval(()=>{s.write(sent+++'\\n')},100);setTimeout(()=>{clearInterval(t);setTimeout(()=>{`
    + `console.log(JSON.stringify({sent,echoed:got.split('\\n').length-1,maxGapMs:maxGap,error}));process.exit(0)},500)},${ms})});`
    + `s.on('data',(b)=>{const now=Date.now();maxGap=Math.max(maxGap,now-last);last=now;got+=b});`
    + `s.on('error',(e)=>{error=String(e)});s.on('close',()=>{error=error||'closed'})`;
  return runIn(publicNs, [process.execPath, '-e', code]);
}

/** Every link's ifindex per namespace of this host (and the public one), and the daemons' pids. */
async function snapshot(): Promise<Record<string, unknown>> {
  const namespaces = (await netnsList()).filter((n) => n === hostNs || n.startsWith(`${hostNs}-dhcp-`) || n.startsWith(`${hostNs}-router-`) || n === publicNs).sort();
  const links: Record<string, Record<string, number>> = {};
  for (const ns of namespaces) links[ns] = Object.fromEntries((await linkList(ns)).map((l) => [l.name, l.index]));
  const netId = port.network_id as string;
  const netDir = join(defaultDhcpDir(host), netId);
  const dhcpNs = dhcpNamespace(host, netId);
  return { links, dnsmasq: await dnsmasqPid(dhcpNs, netDir), haproxy: await haproxyPid(dhcpNs, metadataHaproxyFiles(netDir)) };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nephos-test-restart-'));
  h = await startIdentity({ overrides: { network: { create_defaults: true, public_namespace: publicNs } } });
  api = networkApi(h.networkUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  await netnsAdd(hostNs);
  agent = await startInProcessAgent(h.cloud.network.ctx, { host });
});

after(async () => {
  for (const stop of stops) stop();
  await agent?.stop();
  await netnsDelete(vm);
  const r = await cleanupHost(host, { publicNamespace: publicNs });
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(r.problems, []);
  await assertNoLeaks(host, { publicNamespace: publicNs });
});

test('restarting the agent interrupts neither pings to a floating IP nor an open TCP connection, and recreates nothing', T, async () => {
  const priv = (await api.ok('GET', '/v2.0/networks?name=private', demo)).networks[0];
  port = (await api.ok('POST', '/v2.0/ports', demo, { port: { network_id: priv.id, name: vm } })).port;
  await api.ok('PUT', `/v2.0/ports/${port.id}`, admin, { port: { 'binding:host_id': host, device_owner: 'compute:nova', device_id: randomUUID() } });
  await agent!.agent.converge();
  assert.ok(await linkDelete(hostNs, tapName(port.id)), 'the agent made the port\'s TAP');
  await plugFakeVm({ ns: vm, hostNs, hostLink: tapName(port.id), mac: port.mac_address, mtu: 1500 });
  await agent!.agent.converge();
  const lease = await dhcpLease(vm, dir);
  assert.equal(lease?.ip, port.fixed_ips[0].ip_address);
  await addrAdd(vm, VM_DEV, `${lease!.ip}/24`);
  await linkSet(vm, VM_DEV, { mtu: Number(lease!.mtu) });
  await routeReplace(vm, { dst: 'default', via: lease!.router! });

  const pub = (await api.ok('GET', '/v2.0/networks?name=public', demo)).networks[0];
  fip = (await api.ok('POST', '/v2.0/floatingips', demo, { floatingip: { floating_network_id: pub.id, port_id: port.id } })).floatingip;
  for (const rule of [{ protocol: 'icmp' }, { protocol: 'tcp', port_range_min: ECHO_PORT, port_range_max: ECHO_PORT }]) {
    await api.ok('POST', '/v2.0/security-group-rules', demo, { security_group_rule: { security_group_id: port.security_groups[0], direction: 'ingress', ...rule } });
  }
  await agent!.agent.converge();
  assert.ok(await pings(publicNs, fip.floating_ip_address), 'the floating IP answers');
  await echoServer();

  // Traffic for 8 s; the restart happens in its middle.
  const ping = runIn(publicNs, ['ping', '-n', '-q', '-i', '0.1', '-c', '80', '-W', '1', fip.floating_ip_address]);
  const tcp = echoClient(fip.floating_ip_address, 8000);
  stops.push(ping.kill, tcp.kill);
  await sleep(1500);
  const before = await snapshot();
  const t0 = Date.now();
  await agent!.stop();
  agent = await startInProcessAgent(h.cloud.network.ctx, { host });
  // The new agent's first pass (started by `start`): what it changed on a host that already matched.
  for (let i = 0; i < 400 && agent.agent.lastPass === null; i++) await sleep(50);
  const first = agent.agent.lastPass;
  console.log(`# agent restarted and converged in ${Date.now() - t0} ms`);
  assert.ok(first, 'the new agent completed a pass');
  console.log(`# the new agent's first pass: ${JSON.stringify(first.changes)}`);
  assert.deepEqual(first.errors, []);
  // The firewall step re-applies its (identical) ruleset once per process, atomically: conntrack
  // entries, and so the flows, survive it. Nothing else may change.
  assert.deepEqual(first.changes.filter((c) => !c.startsWith('firewall: applied')), [], 'nothing recreated');
  assert.deepEqual(await snapshot(), before, 'same links (ifindexes), same dnsmasq and haproxy');
  const indexes = Object.values(before.links as Record<string, Record<string, number>>);
  assert.ok(indexes.length >= 4, 'host, DHCP, router and public namespaces compared');
  assert.ok(indexes.every((l) => Object.keys(l).length >= 2 && Object.values(l).every((i) => Number.isInteger(i) && i > 0)), 'ifindexes read');
  assert.equal(typeof before.dnsmasq, 'number');
  assert.equal(typeof before.haproxy, 'number');

  const pinged = await ping.done;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(pinged.out);
  assert.ok(m, `ping summary: ${pinged.out}`);
  const lost = Number(m[1]) - Number(m[2]);
  console.log(`# ping every 100 ms across the restart: ${m[2]}/${m[1]} answered`);
  assert.ok(lost <= 1, `lost ${lost} of ${m[1]} pings`);
  const echoed = JSON.parse((await tcp.done).out) as { sent: number; echoed: number; maxGapMs: number; error: string | null };
  console.log(`# TCP across the restart: ${echoed.echoed}/${echoed.sent} echoed, longest gap ${echoed.maxGapMs} ms`);
  assert.equal(echoed.error, null, 'the connection stayed open');
  assert.ok(echoed.sent >= 70 && echoed.echoed === echoed.sent, `every line echoed: ${JSON.stringify(echoed)}`);
  assert.ok(echoed.maxGapMs < 1000, `no stall: ${JSON.stringify(echoed)}`);
});

test('deleting the port, router interface, router and network through the API removes every host object they made', T, async () => {
  const router = (await api.ok('GET', '/v2.0/routers?name=router1', demo)).routers[0];
  const subnetId = port.fixed_ips[0].subnet_id;
  await api.ok('DELETE', `/v2.0/floatingips/${fip.id}`, demo);
  await api.ok('DELETE', `/v2.0/ports/${port.id}`, demo);
  await api.ok('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, demo, { subnet_id: subnetId });
  await api.ok('DELETE', `/v2.0/routers/${router.id}`, demo);
  await api.ok('DELETE', `/v2.0/networks/${port.network_id}`, demo);
  await agent!.agent.converge();
  const pass = await agent!.agent.converge();
  assert.deepEqual(pass.errors, []);

  const namespaces = await netnsList();
  assert.deepEqual(namespaces.filter((n) => n.startsWith(`${hostNs}-dhcp-`) || n.startsWith(`${hostNs}-router-`)), [], 'no DHCP or router namespace');
  assert.deepEqual((await linkList(hostNs)).map((l) => l.name).filter((n) => n !== 'lo'), [], 'no TAP, veth, bridge or VXLAN device left in the host namespace');
  assert.deepEqual(readdirSync(defaultDhcpDir(host)), [], 'no files under the DHCP directory');
  // Only the host namespace itself (the agent's home, kept while the agent runs) and the runtime
  // directory remain; every daemon is gone.
  const leaks = await hostLeaks(host, { publicNamespace: publicNs });
  assert.deepEqual(leaks.filter((l) => !l.startsWith(`namespace ${hostNs}`) && !l.startsWith('directory ') && l !== `namespace ${publicNs}`), [], 'no dnsmasq or haproxy left');
});
