// L2 of the network agent with real packets: bridges, TAPs and VXLAN across two hosts made of
// namespaces, converged by convergeL2 from the desired state, pinged through by fake VMs. Every
// namespace is named nephos-t<pid><letter>… and removed at the end (the last test proves it).
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DesiredHostState, DesiredNetwork, DesiredPort } from '../../src/network/agent/desired.js';
import { convergeL2, networkMtu } from '../../src/network/agent/l2.js';
import { ensureHostNamespace, removeHostNamespace } from '../../src/network/agent/host-namespace.js';
import {
  FLOOD_MAC, addrAdd, fdbList, linkAddBridge, linkAddVeth, linkGet, linkList, linkSet, netnsDelete, netnsList, sysctlGet,
} from '../../src/network/host/ip.js';
import { bridgeName, hostNamespace, tapName, vxlanName } from '../../src/network/host/names.js';
import { VM_DEV, pings, plugFakeVm } from '../lib/fake-vm.js';

const PREFIX = new RegExp(`^nephos-t${process.pid}[a-z]`);
const T = { timeout: 60_000 };

/** Every id the tests use, so the last test can look for any link named after one. */
const ids: string[] = [];
const newId = (): string => {
  const id = randomUUID();
  ids.push(id);
  return id;
};

const network = (o: Partial<DesiredNetwork> = {}): DesiredNetwork => ({
  id: newId(), type: 'flat', segmentationId: null, physicalNetwork: null, mtu: 1500, adminStateUp: true, ...o,
});

let macs = 0;
const port = (networkId: string, o: Partial<DesiredPort> = {}): DesiredPort => ({
  id: newId(), networkId, macAddress: `fa:16:3e:00:${(process.pid % 256).toString(16).padStart(2, '0')}:${(++macs).toString(16).padStart(2, '0')}`,
  fixedIps: [], allowedAddressPairs: [], adminStateUp: true, portSecurity: true, securityGroupIds: [], deviceOwner: 'compute:nova', ...o,
});

const state = (host: string, networks: DesiredNetwork[], ports: DesiredPort[], vtepPeers: Record<string, string[]> = {}): DesiredHostState => ({
  host, networks, ports, securityGroups: {}, groupMembers: {}, dhcp: [], routers: [], vtepPeers,
});

async function ourNamespaces(): Promise<string[]> {
  return (await netnsList()).filter((n) => PREFIX.test(n));
}

async function indexes(ns: string): Promise<Record<string, number>> {
  return Object.fromEntries((await linkList(ns)).map((l) => [l.name, l.index]));
}

after(async () => {
  for (const ns of await ourNamespaces()) await netnsDelete(ns);
});

describe('one host: bridge and TAPs', () => {
  const host = `t${process.pid}a`;
  const ns = hostNamespace(host);
  const net = network({ mtu: 1450 });
  const p1 = port(net.id);
  const p2 = port(net.id);
  const vm1 = `${ns}-vm1`;
  const vm2 = `${ns}-vm2`;

  test('builds the host namespace and the bridge; fake VMs on their TAP names ping each other', T, async () => {
    const first = await convergeL2(state(host, [net], []));
    assert.deepEqual(first.errors, []);
    assert.ok(first.changes.includes(`created namespace ${ns}`), first.changes.join('\n'));
    const sysctls = await sysctlGet(ns, ['net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.default.disable_ipv6']);
    assert.deepEqual(sysctls, { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' });
    assert.equal((await linkGet(ns, 'lo'))?.up, true);

    await plugFakeVm({ ns: vm1, hostNs: ns, hostLink: tapName(p1.id), mac: p1.macAddress, mtu: 1450, cidr: '10.91.0.11/24' });
    await plugFakeVm({ ns: vm2, hostNs: ns, hostLink: tapName(p2.id), mac: p2.macAddress, mtu: 1450, cidr: '10.91.0.12/24' });
    assert.equal(await pings(vm1, '10.91.0.12', { count: 1 }), false, 'unplugged veths must not reach each other');

    const r = await convergeL2(state(host, [net], [p1, p2]));
    assert.deepEqual(r.errors, []);
    assert.deepEqual([...r.plugged].sort(), [p1.id, p2.id].sort());
    const bridge = await linkGet(ns, bridgeName(net.id));
    assert.equal(bridge?.kind, 'bridge');
    assert.equal(bridge?.mtu, 1450);
    assert.equal(bridge?.info.mcast_snooping, 0);
    for (const p of [p1, p2]) {
      const tap = await linkGet(ns, tapName(p.id));
      assert.equal(tap?.kind, 'veth', 'an existing link of the TAP name is used, not replaced');
      assert.equal(tap?.master, bridgeName(net.id));
      assert.equal(tap?.mtu, 1450);
      assert.equal(tap?.up, true);
    }
    assert.ok(await pings(vm1, '10.91.0.12'));
    assert.ok(await pings(vm2, '10.91.0.11'));
  });

  test('converging again changes nothing: no commands, same ifindexes', T, async () => {
    const before = await indexes(ns);
    const r = await convergeL2(state(host, [net], [p1, p2]));
    assert.deepEqual(r.changes, []);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(await indexes(ns), before);
    assert.ok(await pings(vm1, '10.91.0.12', { count: 1 }));
  });

  test('admin_state_up false takes the port link down; true brings it back', T, async () => {
    await convergeL2(state(host, [net], [{ ...p2, adminStateUp: false }, p1]));
    assert.equal((await linkGet(ns, tapName(p2.id)))?.up, false);
    assert.equal(await pings(vm1, '10.91.0.12', { count: 2 }), false);
    const r = await convergeL2(state(host, [net], [p1, p2]));
    assert.deepEqual(r.changes, [`set ${tapName(p2.id)} {"up":true}`]);
    assert.ok(await pings(vm1, '10.91.0.12'));
  });

  test('a port without a link gets a TAP device; a port removed from the desired state loses its link', T, async () => {
    const p3 = port(net.id);
    const r = await convergeL2(state(host, [net], [p1, p3]));
    assert.deepEqual(r.errors, []);
    assert.equal(await linkGet(ns, tapName(p2.id)), null);
    const tap = await linkGet(ns, tapName(p3.id));
    assert.equal(tap?.kind, 'tun');
    assert.equal(tap?.info.type, 'tap');
    assert.equal(tap?.mac, `fe${p3.macAddress.slice(2)}`);
    assert.equal(tap?.master, bridgeName(net.id));
    assert.equal(tap?.mtu, 1450);
    assert.equal(tap?.up, true);
    assert.equal(await linkGet(vm2, VM_DEV), null, 'the fake VM lost its veth end with the TAP');
    assert.ok(await pings(vm1, '10.91.0.11', { count: 1 }), 'the other port is undisturbed');
  });

  test('DHCP and router ports are wired when their veth exists, never created as TAPs', T, async () => {
    const dhcpPort = port(net.id, { deviceOwner: 'network:dhcp' });
    const routerPort = port(net.id, { deviceOwner: 'network:router_interface' });
    const withInfra = (): DesiredHostState => ({
      ...state(host, [net], [p1, routerPort]),
      dhcp: [{ networkId: net.id, port: dhcpPort, subnets: [], hosts: [], dnsDomain: 'openstacklocal.' }],
    });
    const r = await convergeL2(withInfra());
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.plugged, [p1.id]);
    assert.equal(await linkGet(ns, tapName(dhcpPort.id)), null);
    assert.equal(await linkGet(ns, tapName(routerPort.id)), null);

    await linkAddVeth(ns, tapName(dhcpPort.id), { name: 'dhcpend0' });
    const again = await convergeL2(withInfra());
    assert.deepEqual(again.errors, []);
    assert.deepEqual([...again.plugged].sort(), [p1.id, dhcpPort.id].sort());
    const end = await linkGet(ns, tapName(dhcpPort.id));
    assert.deepEqual([end?.master, end?.mtu, end?.up], [bridgeName(net.id), 1450, true]);
    await convergeL2(state(host, [net], [p1]));
    assert.equal(await linkGet(ns, 'dhcpend0'), null, 'gone with its host end once the DHCP port left the state');
  });

  test('a link that drifted is put right; links nobody wants go, other links stay', T, async () => {
    await linkSet(ns, tapName(p1.id), { mtu: 1400, master: null });
    const stray = bridgeName(newId());
    await linkAddBridge(ns, stray);
    await linkAddVeth(ns, 'keepme0', { name: 'keepme1' });
    const r = await convergeL2(state(host, [net], [p1]));
    assert.deepEqual(r.errors, []);
    assert.ok(r.changes.includes(`deleted ${stray}`), r.changes.join('\n'));
    const tap = await linkGet(ns, tapName(p1.id));
    assert.equal(tap?.mtu, 1450);
    assert.equal(tap?.master, bridgeName(net.id));
    const names = (await linkList(ns)).map((l) => l.name).sort();
    assert.deepEqual(names, [bridgeName(net.id), 'keepme0', 'keepme1', 'lo', tapName(p1.id)].sort());

    const empty = await convergeL2(state(host, [], []));
    assert.deepEqual(empty.errors, []);
    assert.deepEqual((await linkList(ns)).map((l) => l.name).sort(), ['keepme0', 'keepme1', 'lo']);
  });
});

describe('two hosts: one VXLAN network over a 1500-MTU underlay', () => {
  const hostA = `t${process.pid}b`;
  const hostB = `t${process.pid}c`;
  const nsA = hostNamespace(hostA);
  const nsB = hostNamespace(hostB);
  const underlayA = { device: 'ul0', address: '198.51.100.1', mtu: 1500 };
  const underlayB = { device: 'ul0', address: '198.51.100.2', mtu: 1500 };
  const net = network({ type: 'vxlan', segmentationId: 4242, mtu: networkMtu(1500, 'vxlan') });
  const pa = port(net.id);
  const pb = port(net.id);
  const vmA = `${nsA}-vm`;
  const vmB = `${nsB}-vm`;
  const stateA = () => state(hostA, [net], [pa], { [net.id]: [underlayB.address] });
  const stateB = () => state(hostB, [net], [pb], { [net.id]: [underlayA.address] });

  test('VMs on two hosts reach each other across VXLAN', T, async () => {
    assert.equal(net.mtu, 1450);
    for (const h of [hostA, hostB]) await ensureHostNamespace(h);
    await linkAddVeth(nsA, 'ul0', { name: 'ul0', netns: nsB });
    await addrAdd(nsA, 'ul0', '198.51.100.1/24');
    await addrAdd(nsB, 'ul0', '198.51.100.2/24');
    await linkSet(nsA, 'ul0', { up: true });
    await linkSet(nsB, 'ul0', { up: true });
    await plugFakeVm({ ns: vmA, hostNs: nsA, hostLink: tapName(pa.id), mac: pa.macAddress, mtu: net.mtu, cidr: '10.92.0.1/24' });
    await plugFakeVm({ ns: vmB, hostNs: nsB, hostLink: tapName(pb.id), mac: pb.macAddress, mtu: net.mtu, cidr: '10.92.0.2/24' });

    const ra = await convergeL2(stateA(), { underlay: underlayA });
    const rb = await convergeL2(stateB(), { underlay: underlayB });
    assert.deepEqual([ra.errors, rb.errors], [[], []]);
    const vx = await linkGet(nsA, vxlanName(4242));
    assert.equal(vx?.kind, 'vxlan');
    assert.deepEqual([vx?.info.id, vx?.info.local, vx?.info.link, vx?.info.port, vx?.mtu, vx?.master], [4242, '198.51.100.1', 'ul0', 4789, 1450, bridgeName(net.id)]);
    const flood = (await fdbList(nsA, vxlanName(4242))).filter((e) => e.mac === FLOOD_MAC).map((e) => e.dst);
    assert.deepEqual(flood, ['198.51.100.2']);
    assert.ok(await pings(vmA, '10.92.0.2'));
  });

  test('a 1450-byte DF packet crosses; 1451 is refused', T, async () => {
    assert.ok(await pings(vmA, '10.92.0.2', { size: 1422, dontFragment: true }), '1422 + 28 = 1450 must pass');
    assert.equal(await pings(vmA, '10.92.0.2', { size: 1423, dontFragment: true, count: 2 }), false);
    // Even a guest that ignores the network MTU cannot push 1451 bytes through: the bridge drops what the tunnel cannot carry.
    await linkSet(vmA, VM_DEV, { mtu: 1500 });
    try {
      assert.equal(await pings(vmA, '10.92.0.2', { size: 1423, dontFragment: true, count: 2 }), false);
      assert.ok(await pings(vmA, '10.92.0.2', { size: 1422, dontFragment: true }));
    } finally {
      await linkSet(vmA, VM_DEV, { mtu: 1450 });
    }
  });

  test('converging again changes nothing; a VTEP peer removed from the state loses its flood entry', T, async () => {
    const before = await indexes(nsA);
    assert.deepEqual((await convergeL2(stateA(), { underlay: underlayA })).changes, []);
    assert.deepEqual(await indexes(nsA), before);
    const r = await convergeL2({ ...stateA(), vtepPeers: {} }, { underlay: underlayA });
    assert.deepEqual(r.changes, [`fdb ${vxlanName(4242)} flood ✗ 198.51.100.2`]);
    assert.deepEqual((await fdbList(nsA, vxlanName(4242))).filter((e) => e.mac === FLOOD_MAC), []);
    await convergeL2(stateA(), { underlay: underlayA });
    assert.ok(await pings(vmA, '10.92.0.2', { count: 1 }));
  });

  test('a VXLAN device whose underlay changed is recreated, then carries traffic again', T, async () => {
    const single = await convergeL2(stateA());
    assert.ok(single.changes.includes(`deleted ${vxlanName(4242)} (parameters changed)`), single.changes.join('\n'));
    assert.equal((await linkGet(nsA, vxlanName(4242)))?.info.local, undefined);
    const back = await convergeL2(stateA(), { underlay: underlayA });
    assert.deepEqual(back.errors, []);
    assert.equal((await linkGet(nsA, vxlanName(4242)))?.info.local, '198.51.100.1');
    assert.ok(await pings(vmA, '10.92.0.2'));
  });

  test('a network MTU the underlay cannot carry is reported', T, async () => {
    const r = await convergeL2(stateA(), { underlay: { ...underlayA, mtu: 1400 } });
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.error, /MTU 1450 exceeds/);
  });
});

test('nothing is left behind: no namespace with the test prefix, no link of ours in the default namespace', T, async () => {
  for (const h of ['a', 'b', 'c']) await removeHostNamespace(`t${process.pid}${h}`);
  for (const ns of await ourNamespaces()) await netnsDelete(ns);
  assert.deepEqual(await ourNamespaces(), []);
  const ours = new Set([...ids.flatMap((id) => [tapName(id), bridgeName(id)]), vxlanName(4242), 'keepme0', 'keepme1', 'dhcpend0']);
  assert.deepEqual((await linkList(null)).filter((l) => ours.has(l.name)), []);
});
