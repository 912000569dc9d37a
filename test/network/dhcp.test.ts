// DHCP and metadata of the network agent with real packets: a host namespace and bridge from
// convergeL2, the DHCP namespace, dnsmasq and the metadata haproxy from convergeDhcp, fake VMs
// asking busybox udhcpc for leases and fetching metadata with busybox wget through the metadata
// proxy to a fake compute metadata server on loopback. Namespaces are named nephos-t<pid>d…,
// daemons are stopped by pid, files live in a temp directory; the last test proves nothing is left.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { chmod, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { DesiredDhcp, DesiredHostState, DesiredNetwork, DesiredPort, DesiredSubnet } from '../../src/network/agent/desired.js';
import { convergeL2 } from '../../src/network/agent/l2.js';
import { convergeDhcp, removeAllDhcp, type DhcpOptions } from '../../src/network/agent/dhcp.js';
import { ensureHostNamespace, removeHostNamespace } from '../../src/network/agent/host-namespace.js';
import {
  instanceSignature, loadOrCreateProxyKey, startMetadataProxy, type MetadataProxy,
} from '../../src/network/agent/metadata-proxy.js';
import { processAlive, stopDaemon } from '../../src/platform/host/daemon.js';
import { exec, HostCommandError } from '../../src/platform/host/exec.js';
import { addrAdd, addrList, linkGet, netnsDelete, netnsList, routeAdd } from '../../src/network/host/ip.js';
import { bridgeName, dhcpInterfaceName, dhcpNamespace, hostNamespace, tapName } from '../../src/network/host/names.js';
import { VM_DEV, dhcpLease, plugFakeVm } from '../lib/fake-vm.js';

const T = { timeout: 90_000 };
const HOST = `t${process.pid}d`;
const HOST_NS = hostNamespace(HOST);
const PREFIX = new RegExp(`^nephos-t${process.pid}d`);
const SECRET = 'test-shared-secret';
const BUSYBOX = '/bin/busybox';

const net: DesiredNetwork = { id: randomUUID(), type: 'flat', segmentationId: null, physicalNetwork: null, mtu: 1450, adminStateUp: true };
const subnet: DesiredSubnet = {
  id: randomUUID(), networkId: net.id, ipVersion: 4, cidr: '10.93.0.0/24', gatewayIp: '10.93.0.1', enableDhcp: true,
  dnsNameservers: [], hostRoutes: [{ destination: '10.200.0.0/16', nexthop: '10.93.0.254' }],
};
let macs = 0;
const port = (ip: string, o: Partial<DesiredPort> = {}): DesiredPort => ({
  id: randomUUID(), networkId: net.id, macAddress: `fa:16:3e:93:${(process.pid % 256).toString(16).padStart(2, '0')}:${(++macs).toString(16).padStart(2, '0')}`,
  fixedIps: [{ subnetId: subnet.id, ipAddress: ip }], allowedAddressPairs: [], adminStateUp: true, portSecurity: false,
  securityGroupIds: [], deviceOwner: 'compute:nova', ...o,
});
const dhcpPort = port('10.93.0.2', { deviceOwner: 'network:dhcp' });
const vm1 = port('10.93.0.11');
const vm2 = port('10.93.0.12');
const vm3 = port('10.93.0.99');
const hostEntry = (p: DesiredPort) => ({ macAddress: p.macAddress, ipAddress: p.fixedIps[0]!.ipAddress, hostname: `host-${p.fixedIps[0]!.ipAddress.replaceAll('.', '-')}` });
const instances = new Map([[vm1.fixedIps[0]!.ipAddress, { instanceId: `inst-${vm1.id}`, projectId: 'proj-1' }],
  [vm2.fixedIps[0]!.ipAddress, { instanceId: `inst-${vm2.id}`, projectId: 'proj-2' }]]);

const state = (dhcpHosts: DesiredPort[] | null): DesiredHostState => {
  const dhcp: DesiredDhcp[] = dhcpHosts ? [{ networkId: net.id, port: dhcpPort, subnets: [subnet], hosts: dhcpHosts.map(hostEntry), dnsDomain: 'openstacklocal.' }] : [];
  return { host: HOST, networks: [net], ports: [vm1, vm2, vm3], securityGroups: {}, groupMembers: {}, dhcp, routers: [], vtepPeers: {} };
};

const DHCP_NS = dhcpNamespace(HOST, net.id);
const vmNs = (n: number): string => `${HOST_NS}-vm${n}`;

let dir: string;
let opts: DhcpOptions;
let proxy: MetadataProxy | null = null;
let proxyKey: string;
let upstream: Server;
let upstreamUrl: string;
const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];
const daemons = new Map<number, string>();

async function startProxy(): Promise<MetadataProxy> {
  return startMetadataProxy({
    socketPath: join(dir, 'metadata.sock'), upstreamUrl, sharedSecret: SECRET, proxyKey,
    resolve: (networkId, ip) => (networkId === net.id ? instances.get(ip) ?? null : null),
  });
}

async function converge(dhcpHosts: DesiredPort[] | null): Promise<{ l2: string[]; dhcp: string[]; pids: { dnsmasq: number; haproxy: number | null } | undefined }> {
  const l2 = await convergeL2(state(dhcpHosts));
  assert.deepEqual(l2.errors, []);
  const d = await convergeDhcp(state(dhcpHosts), opts);
  assert.deepEqual(d.errors, []);
  const pids = d.pids[net.id];
  if (pids) {
    daemons.set(pids.dnsmasq, 'dnsmasq');
    if (pids.haproxy) daemons.set(pids.haproxy, 'haproxy');
  }
  return { l2: [...l2.changes], dhcp: [...d.changes], pids };
}

/** Runs busybox udhcpc in a fake VM; the options of the lease it got, or null when it got none. */
const udhcpc = (vm: number): Promise<Record<string, string> | null> => dhcpLease(vmNs(vm), dir, 3);

/** busybox wget of a metadata URL from a fake VM: the body, or the error's stderr. */
async function wget(vm: number, path: string): Promise<{ ok: boolean; text: string }> {
  try {
    // busybox's static wget crashes with -T (MACHINE.md): the exec timeout bounds it instead.
    const r = await exec(BUSYBOX, ['wget', '-q', '-O', '-', `http://169.254.169.254${path}`], { netns: vmNs(vm), timeoutMs: 15_000 });
    return { ok: true, text: r.stdout };
  } catch (err) {
    if (err instanceof HostCommandError) return { ok: false, text: err.stderr };
    throw err;
  }
}

/** Applies a lease the way a guest does: address, and the classless routes (121) it was given. */
async function configureFromLease(vm: number, lease: Record<string, string>): Promise<void> {
  await addrAdd(vmNs(vm), VM_DEV, `${lease.ip}/24`);
  const r = (lease.staticroutes ?? '').split(' ');
  for (let i = 0; i + 1 < r.length; i += 2) {
    if (r[i] === '0.0.0.0/0') continue; // no default route in a test namespace: nothing to reach
    await routeAdd(vmNs(vm), { dst: r[i]!, via: r[i + 1]!, dev: VM_DEV, onlink: true });
  }
}

const uidOf = async (pid: number): Promise<string> => /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nephos-dhcp-test-'));
  await chmod(dir, 0o755); // dnsmasq and haproxy run as nobody and must get through
  opts = { dir: join(dir, 'dhcp'), metadata: null };
  proxyKey = await loadOrCreateProxyKey(join(dir, 'proxy.key'));
  opts = { dir: join(dir, 'dhcp'), metadata: { socketPath: join(dir, 'metadata.sock'), proxyKey } };
  upstream = createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ uuid: req.headers['x-instance-id'], hostname: 'vm' }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxy = await startProxy();
});

after(async () => {
  await removeAllDhcp(HOST, opts).catch(() => undefined);
  for (const [pid, program] of daemons) {
    if (await processAlive(pid)) await stopDaemon(pid, program, []).catch(() => undefined);
  }
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
  for (const ns of (await netnsList()).filter((n) => PREFIX.test(n))) await netnsDelete(ns);
  await rm(dir, { recursive: true, force: true });
});

describe('DHCP of one network', () => {
  let firstPids: { dnsmasq: number; haproxy: number | null };
  let lease1: Record<string, string>;

  test('one pass builds the namespace, the DHCP port wired on the bridge, dnsmasq and haproxy as nobody', T, async () => {
    // The fake VMs' veth ends take their ports' TAP names before L2 would create TAPs of those names.
    await ensureHostNamespace(HOST);
    for (const [n, p] of [[1, vm1], [2, vm2], [3, vm3]] as const) {
      await plugFakeVm({ ns: vmNs(n), hostNs: HOST_NS, hostLink: tapName(p.id), mac: p.macAddress, mtu: 1450 });
    }
    const r = await converge([vm1]);
    assert.ok(r.dhcp.includes(`created namespace ${DHCP_NS}`), r.dhcp.join('\n'));
    firstPids = r.pids!;
    assert.ok(firstPids.haproxy);
    const inner = await linkGet(DHCP_NS, dhcpInterfaceName(dhcpPort.id));
    assert.deepEqual([inner?.kind, inner?.mac, inner?.mtu, inner?.up], ['veth', dhcpPort.macAddress, 1450, true]);
    const addrs = (await addrList(DHCP_NS, dhcpInterfaceName(dhcpPort.id))).filter((a) => a.scope !== 'link').map((a) => a.cidr).sort();
    assert.deepEqual(addrs, ['10.93.0.2/24', '169.254.169.254/32']);
    const outer = await linkGet(HOST_NS, tapName(dhcpPort.id));
    assert.deepEqual([outer?.kind, outer?.master, outer?.mtu, outer?.up], ['veth', bridgeName(net.id), 1450, true]);
    assert.equal(await uidOf(firstPids.dnsmasq), '65534');
    assert.equal(await uidOf(firstPids.haproxy!), '65534');
    const files = (await readdir(join(opts.dir, net.id))).sort();
    for (const f of ['addn_hosts', 'dnsmasq.conf', 'dnsmasq.pid', 'haproxy.cfg', 'haproxy.pid', 'host', 'opts']) assert.ok(files.includes(f), files.join(' '));
    assert.equal((await stat(join(opts.dir, net.id, 'haproxy.cfg'))).mode & 0o777, 0o600, 'the haproxy config holds the token');
    // L2 finds the DHCP port already wired: nothing to do.
    const again = await convergeL2(state([vm1]));
    assert.deepEqual(again.changes, []);
    assert.ok(again.plugged.includes(dhcpPort.id));
  });

  test('a VM with a known MAC gets its fixed IP, the MTU (26), router, DNS, domain and classless routes (121)', T, async () => {
    const lease = await udhcpc(1);
    assert.ok(lease, 'no lease');
    lease1 = lease;
    assert.equal(lease.ip, '10.93.0.11');
    assert.equal(lease.subnet, '255.255.255.0');
    assert.equal(lease.mtu, '1450');
    assert.equal(lease.router, '10.93.0.1');
    assert.equal(lease.dns?.trim(), '10.93.0.2');
    assert.equal(lease.domain, 'openstacklocal');
    assert.equal(lease.hostname, 'host-10-93-0-11');
    assert.equal(lease.lease, '86400');
    assert.equal(lease.staticroutes, '10.200.0.0/16 10.93.0.254 169.254.169.254/32 10.93.0.2 0.0.0.0/0 10.93.0.1');
  });

  test('a VM whose MAC is in no host entry gets nothing', T, async () => {
    assert.equal(await udhcpc(2), null);
  });

  test('a new port is picked up by SIGHUP: same dnsmasq pid, the VM gets its lease', T, async () => {
    const r = await converge([vm1, vm2]);
    assert.deepEqual(r.dhcp, [`dnsmasq of ${net.id} reloaded (pid ${firstPids.dnsmasq})`]);
    assert.deepEqual(r.pids, firstPids);
    const lease = await udhcpc(2);
    assert.equal(lease?.ip, '10.93.0.12');
    assert.equal(lease?.hostname, 'host-10-93-0-12');
  });

  test('converging again changes nothing: no commands, same daemons', T, async () => {
    const r = await converge([vm1, vm2]);
    assert.deepEqual([r.l2, r.dhcp], [[], []]);
    assert.deepEqual(r.pids, firstPids);
  });

  test('an address freed by a deleted port goes to the next port at once: its old lease is released', T, async () => {
    // vm1's port is gone and a new port (another MAC) got its address: the fake VM takes the new MAC.
    const successor = port('10.93.0.11');
    const setMac = (mac: string) => exec('ip', ['link', 'set', 'dev', VM_DEV, 'address', mac], { netns: vmNs(1) });
    await setMac(successor.macAddress);
    try {
      const r = await converge([successor, vm2]);
      assert.deepEqual(r.pids, firstPids, 'a reload, not a restart');
      const leases = await readFile(join(opts.dir, net.id, 'leases'), 'utf8');
      assert.ok(!leases.includes(vm1.macAddress), `vm1's lease is released: ${leases}`);
      assert.equal((await udhcpc(1))?.ip, '10.93.0.11');
    } finally {
      await setMac(vm1.macAddress);
    }
    await converge([vm1, vm2]);
    assert.equal((await udhcpc(1))?.ip, '10.93.0.11', 'and back to the first port');
  });

  test('instance names resolve through dnsmasq', T, async () => {
    await configureFromLease(1, lease1);
    const r = await exec(BUSYBOX, ['nslookup', 'host-10-93-0-12.openstacklocal', '10.93.0.2'], { netns: vmNs(1), timeoutMs: 10_000 });
    assert.match(r.stdout, /Address:\s+10\.93\.0\.12/);
  });

  test('metadata: the VM reaches the upstream as itself, with a valid signature', T, async () => {
    seen.length = 0;
    const r = await wget(1, '/openstack/latest/meta_data.json');
    assert.ok(r.ok, r.text);
    assert.deepEqual(JSON.parse(r.text), { uuid: `inst-${vm1.id}`, hostname: 'vm' });
    assert.equal(seen.length, 1);
    const h = seen[0]!.headers;
    assert.equal(seen[0]!.url, '/openstack/latest/meta_data.json');
    assert.equal(h['x-instance-id'], `inst-${vm1.id}`);
    assert.equal(h['x-tenant-id'], 'proj-1');
    assert.equal(h['x-instance-id-signature'], instanceSignature(SECRET, `inst-${vm1.id}`));
    assert.equal(h['x-forwarded-for'], '10.93.0.11');
  });

  test('metadata: an address with no instance gets 404 and the upstream hears nothing', T, async () => {
    seen.length = 0;
    await addrAdd(vmNs(3), VM_DEV, '10.93.0.99/24');
    await routeAdd(vmNs(3), { dst: '169.254.169.254/32', via: '10.93.0.2', dev: VM_DEV });
    const r = await wget(3, '/openstack/latest/meta_data.json');
    assert.equal(r.ok, false);
    assert.match(r.text, /404/);
    assert.equal(seen.length, 0);
  });

  test('an agent restart (new proxy process, fresh converge) keeps the daemons and metadata works again', T, async () => {
    await proxy?.close();
    proxy = await startProxy();
    const r = await converge([vm1, vm2]);
    assert.deepEqual(r.dhcp, []);
    assert.deepEqual(r.pids, firstPids);
    assert.ok((await wget(1, '/latest/meta-data/')).ok);
  });

  test('a dnsmasq that died is started again', T, async () => {
    process.kill(firstPids.dnsmasq, 'SIGKILL');
    const r = await converge([vm1, vm2]);
    assert.equal(r.dhcp.length, 1);
    assert.match(r.dhcp[0]!, new RegExp(`dnsmasq of ${net.id} started \\(pid \\d+\\)`));
    assert.notEqual(r.pids?.dnsmasq, firstPids.dnsmasq);
    assert.equal(r.pids?.haproxy, firstPids.haproxy);
    assert.equal((await udhcpc(1))?.ip, '10.93.0.11');
  });

  test('a namespace deleted under running daemons is re-made with a new veth, dnsmasq and haproxy', T, async () => {
    const old = (await converge([vm1, vm2])).pids!;
    await netnsDelete(DHCP_NS); // the daemons keep the old namespace (and the veth) alive
    const r = await converge([vm1, vm2]);
    assert.ok(r.dhcp.includes(`created namespace ${DHCP_NS}`), r.dhcp.join('\n'));
    assert.ok(r.dhcp.includes(`deleted stray ${tapName(dhcpPort.id)}`), r.dhcp.join('\n'));
    assert.ok(r.dhcp.some((c) => c.startsWith(`dnsmasq of ${net.id} restarted`)), r.dhcp.join('\n'));
    assert.ok(r.dhcp.some((c) => c.startsWith(`metadata haproxy of ${net.id} restarted`)), r.dhcp.join('\n'));
    assert.equal(await processAlive(old.dnsmasq), false);
    assert.equal(await processAlive(old.haproxy!), false);
    assert.equal((await udhcpc(2))?.ip, '10.93.0.12');
    assert.ok((await wget(1, '/latest/meta-data/')).ok);
  });

  test('metadata switched off: haproxy stops, the address and the 121 route go (SIGHUP only); back on restores them', T, async () => {
    const on = (await converge([vm1, vm2])).pids!;
    const withMetadata = opts;
    opts = { ...opts, metadata: null };
    try {
      const r = await converge([vm1, vm2]);
      assert.deepEqual(r.dhcp.sort(), [
        `dnsmasq of ${net.id} reloaded (pid ${on.dnsmasq})`, `metadata haproxy of ${net.id} stopped`,
        `removed 169.254.169.254/32 from ${dhcpInterfaceName(dhcpPort.id)}`,
      ].sort());
      assert.equal(await processAlive(on.haproxy!), false);
      assert.equal((await udhcpc(2))?.staticroutes, '10.200.0.0/16 10.93.0.254 0.0.0.0/0 10.93.0.1');
    } finally {
      opts = withMetadata;
    }
    const back = await converge([vm1, vm2]);
    assert.equal(back.pids?.dnsmasq, on.dnsmasq);
    assert.ok((await wget(1, '/latest/meta-data/')).ok);
  });

  test('removing the network removes its namespace, processes and files', T, async () => {
    const before = (await converge([vm1, vm2])).pids!;
    const r = await converge(null);
    assert.ok(r.dhcp.includes(`deleted namespace ${DHCP_NS}`), r.dhcp.join('\n'));
    assert.ok(!(await netnsList()).includes(DHCP_NS));
    assert.equal(await processAlive(before.dnsmasq), false);
    assert.equal(await processAlive(before.haproxy!), false);
    await assert.rejects(stat(join(opts.dir, net.id)), { code: 'ENOENT' });
    assert.equal(await linkGet(HOST_NS, tapName(dhcpPort.id)), null);
    assert.deepEqual((await converge(null)).dhcp, []);
  });
});

test('nothing is left behind: no namespace with the test prefix, no daemon of ours', T, async () => {
  await removeAllDhcp(HOST, opts);
  for (const n of [1, 2, 3]) await netnsDelete(vmNs(n));
  await removeHostNamespace(HOST);
  assert.deepEqual((await netnsList()).filter((n) => PREFIX.test(n)), []);
  for (const pid of daemons.keys()) assert.equal(await processAlive(pid), false, `pid ${pid} still runs`);
  assert.deepEqual(await readdir(opts.dir), []);
});
