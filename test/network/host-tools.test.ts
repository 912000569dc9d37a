// The host-tool wrappers against the real ip/bridge/nft/sysctl, in a scratch namespace: reads parse,
// repeated writes are harmless (the reconciler's contract), failures carry the tool's stderr.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HostCommandError } from '../../src/platform/host/exec.js';
import {
  addrAdd, addrDelete, addrFlush, addrList, fdbAppend, fdbDelete, fdbList, linkAddBridge, linkAddTap, linkAddVeth,
  linkAddVxlan, linkDelete, linkGet, linkSet, neighDelete, neighList, neighReplace, netnsAdd, netnsDelete, netnsList,
  routeAdd, routeDelete, routeList, routeReplace, sysctlGet, sysctlSet,
} from '../../src/network/host/ip.js';
import { nftApplyTable, nftDeleteTable, nftListTables, nftShowTable } from '../../src/network/host/nft.js';

const ns = `nephos-t${process.pid}h`;
const T = { timeout: 30_000 };

after(async () => { await netnsDelete(ns); });

test('namespaces: add and delete are idempotent', T, async () => {
  assert.equal(await netnsAdd(ns), true);
  assert.equal(await netnsAdd(ns), false);
  assert.ok((await netnsList()).includes(ns));
  const other = `${ns}x`;
  assert.equal(await netnsAdd(other), true);
  assert.equal(await netnsDelete(other), true);
  assert.equal(await netnsDelete(other), false);
  assert.ok(!(await netnsList()).includes(other));
});

test('links: create once, read back, change, delete once', T, async () => {
  assert.equal(await linkAddBridge(ns, 'br0', { mtu: 1400, mcastSnooping: false }), true);
  assert.equal(await linkAddBridge(ns, 'br0'), false);
  // `a` alone would parse as ip's `address` keyword: names are always passed with `name`/`dev`.
  assert.equal(await linkAddVeth(ns, 'a', { name: 'b', mac: '02:00:00:00:00:0b' }, { mtu: 1400 }), true);
  assert.equal(await linkAddTap(ns, 'tap0', { mtu: 1300, mac: '02:00:00:00:00:01' }), true);
  assert.equal(await linkAddTap(ns, 'tap0'), false);
  assert.equal(await linkAddTap(ns, 'a'), false, 'a link of the name exists, whatever its kind');
  await linkSet(ns, 'a', { master: 'br0', up: true });
  const [br, a, b, tap] = await Promise.all(['br0', 'a', 'b', 'tap0'].map((n) => linkGet(ns, n)));
  assert.deepEqual([br?.kind, br?.mtu, br?.info.mcast_snooping], ['bridge', 1400, 0]);
  assert.deepEqual([a?.kind, a?.mtu, a?.master, a?.up], ['veth', 1400, 'br0', true]);
  assert.equal(b?.mac, '02:00:00:00:00:0b');
  assert.deepEqual([tap?.kind, tap?.info.type, tap?.mtu, tap?.mac, tap?.up], ['tun', 'tap', 1300, '02:00:00:00:00:01', false]);
  await linkSet(ns, 'a', { master: null });
  assert.equal((await linkGet(ns, 'a'))?.master, null);
  assert.equal(await linkDelete(ns, 'a'), true);
  assert.equal(await linkDelete(ns, 'a'), false);
  assert.equal(await linkGet(ns, 'b'), null, 'a veth takes its peer with it');
  await assert.rejects(linkSet(ns, 'nosuch', { up: true }), (e: unknown) => e instanceof HostCommandError && /nosuch/.test(e.stderr));
});

test('addresses, routes and neighbours: repeated writes are harmless', T, async () => {
  await linkAddVeth(ns, 'v0', { name: 'v1' });
  await linkSet(ns, 'v0', { up: true });
  await linkSet(ns, 'v1', { up: true });
  assert.equal(await addrAdd(ns, 'v0', '198.51.100.10/24'), true);
  assert.equal(await addrAdd(ns, 'v0', '198.51.100.10/24'), false);
  assert.equal(await addrAdd(ns, 'v0', 'fd00:5::1/64'), true);
  const addrs = await addrList(ns, 'v0');
  assert.deepEqual(addrs.filter((x) => x.scope !== 'link').map((x) => [x.family, x.cidr]), [[4, '198.51.100.10/24'], [6, 'fd00:5::1/64']]);

  assert.equal(await routeAdd(ns, { dst: '10.77.0.0/16', via: '198.51.100.1' }), true);
  assert.equal(await routeAdd(ns, { dst: '10.77.0.0/16', via: '198.51.100.1' }), false);
  await routeReplace(ns, { dst: '10.77.0.0/16', via: '198.51.100.2' });
  await routeReplace(ns, { dst: 'default', via: '198.51.100.1', table: 100 });
  const main = await routeList(ns);
  assert.deepEqual(main.filter((r) => r.dst === '10.77.0.0/16').map((r) => r.gateway), ['198.51.100.2']);
  assert.deepEqual((await routeList(ns, { table: 100 })).map((r) => [r.dst, r.gateway]), [['default', '198.51.100.1']]);
  assert.equal(await routeDelete(ns, { dst: '10.77.0.0/16' }), true);
  assert.equal(await routeDelete(ns, { dst: '10.77.0.0/16' }), false);

  await neighReplace(ns, { dst: '198.51.100.20', mac: '02:00:00:00:00:20', dev: 'v0' });
  await neighReplace(ns, { dst: '198.51.100.20', mac: '02:00:00:00:00:21', dev: 'v0' });
  assert.deepEqual((await neighList(ns, 'v0')).map((n) => [n.dst, n.mac, n.state]), [['198.51.100.20', '02:00:00:00:00:21', ['PERMANENT']]]);
  assert.equal(await neighDelete(ns, '198.51.100.20', 'v0'), true);
  assert.equal(await neighDelete(ns, '198.51.100.20', 'v0'), false);

  assert.equal(await addrDelete(ns, 'v0', '198.51.100.10/24'), true);
  assert.equal(await addrDelete(ns, 'v0', '198.51.100.10/24'), false);
  await addrFlush(ns, 'v0');
  assert.deepEqual(await addrList(ns, 'v0'), []);
});

test('VXLAN flood entries: append twice is one entry; delete is idempotent', T, async () => {
  assert.equal(await linkAddVxlan(ns, 'vxlan-9', { vni: 9, dstport: 4789, local: '198.51.100.10', mtu: 1450 }), true);
  const vx = await linkGet(ns, 'vxlan-9');
  assert.deepEqual([vx?.info.id, vx?.info.local, vx?.info.port, vx?.mtu], [9, '198.51.100.10', 4789, 1450]);
  await fdbAppend(ns, 'vxlan-9', '00:00:00:00:00:00', '198.51.100.30');
  await fdbAppend(ns, 'vxlan-9', '00:00:00:00:00:00', '198.51.100.30');
  await fdbAppend(ns, 'vxlan-9', '00:00:00:00:00:00', '198.51.100.31');
  const dsts = async () => (await fdbList(ns, 'vxlan-9')).filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst).sort();
  assert.deepEqual(await dsts(), ['198.51.100.30', '198.51.100.31']);
  await fdbDelete(ns, 'vxlan-9', '00:00:00:00:00:00', '198.51.100.30');
  assert.deepEqual(await dsts(), ['198.51.100.31']);
  await fdbDelete(ns, 'vxlan-9', '00:00:00:00:00:00', '198.51.100.31');
  assert.equal(await fdbDelete(ns, 'vxlan-9', '00:00:00:00:00:00', '198.51.100.31'), false);
  assert.deepEqual(await dsts(), []);
});

test('sysctl inside the namespace only', T, async () => {
  await sysctlSet(ns, { 'net.ipv4.ip_forward': 1 });
  assert.deepEqual(await sysctlGet(ns, ['net.ipv4.ip_forward', 'net.nosuch.key']), { 'net.ipv4.ip_forward': '1' });
});

test('nft: a table is replaced whole; a bad one leaves the old in place; delete is idempotent', T, async () => {
  const t = { family: 'inet', name: 'nephos-test' } as const;
  const chain = (policy: string) => `chain input { type filter hook input priority 0; policy ${policy}; }`;
  await nftApplyTable(ns, t, chain('accept'));
  await nftApplyTable(ns, t, `${chain('accept')}\nchain extra { }`);
  assert.match((await nftShowTable(ns, t))!, /chain extra/);
  await nftApplyTable(ns, t, chain('accept'));
  assert.doesNotMatch((await nftShowTable(ns, t))!, /chain extra/, 'replaced, not merged');
  await assert.rejects(nftApplyTable(ns, t, chain('acept')), HostCommandError);
  assert.match((await nftShowTable(ns, t))!, /policy accept/);
  assert.deepEqual(await nftListTables(ns), [t]);
  await nftDeleteTable(ns, t);
  await nftDeleteTable(ns, t);
  assert.deepEqual(await nftListTables(ns), []);
  assert.equal(await nftShowTable(ns, t), null);
  await assert.rejects(nftApplyTable(ns, { family: 'inet', name: 'x; flush ruleset' }, ''), /invalid nftables table name/);
});
