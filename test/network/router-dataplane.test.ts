// Routers with real packets: a fake VM on a tenant network reaches the public side through the
// router's SNAT, is reached from the public side through its floating IP, and loses both when the
// router forgets them. Namespaces are named nephos-t<pid>r… (and the public side nephos-t<pid>rpub)
// and removed at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DesiredHostState, DesiredNetwork, DesiredPort, DesiredRouter } from '../../src/network/agent/desired.js';
import { convergeL2 } from '../../src/network/agent/l2.js';
import { convergeRouters } from '../../src/network/agent/router.js';
import { convergePublic } from '../../src/network/agent/public.js';
import { netnsDelete, netnsList, routeReplace } from '../../src/network/host/ip.js';
import { hostNamespace, routerNamespace, tapName } from '../../src/network/host/names.js';
import { exec } from '../../src/platform/host/exec.js';
import { pings, plugFakeVm } from '../lib/fake-vm.js';

const host = `t${process.pid}r`;
const hostNs = hostNamespace(host);
const publicNs = `nephos-t${process.pid}rpub`;
const vmNs = `${hostNs}-vm`;
const mine = (n: string): boolean => n.startsWith(hostNs) || n === publicNs;

const network = (o: Partial<DesiredNetwork>): DesiredNetwork => ({ id: randomUUID(), type: 'flat', segmentationId: null, physicalNetwork: null, mtu: 1450, adminStateUp: true, ...o });
let macs = 0;
const port = (networkId: string, ip: string, subnetId: string, owner: string): DesiredPort => ({
  id: randomUUID(), networkId, macAddress: `fa:16:3e:01:${(process.pid % 256).toString(16).padStart(2, '0')}:${(++macs).toString(16).padStart(2, '0')}`,
  fixedIps: [{ subnetId, ipAddress: ip }], allowedAddressPairs: [], adminStateUp: true, portSecurity: false, securityGroupIds: [], deviceOwner: owner,
});

const tenant = network({ type: 'vxlan', segmentationId: 3000 + (process.pid % 1000) });
const ext = network({ physicalNetwork: 'public', mtu: 1500 });
const vmPort = port(tenant.id, '10.0.0.5', 's1', 'compute:nova');
const qr = port(tenant.id, '10.0.0.1', 's1', 'network:router_interface');
const qg = port(ext.id, '203.0.113.10', 's2', 'network:router_gateway');
const routerId = randomUUID();

function desired(fips: DesiredRouter['floatingIps'], snat = true): DesiredHostState {
  return {
    host, networks: [tenant, ext], ports: [vmPort], securityGroups: {}, groupMembers: {}, dhcp: [], vtepPeers: {},
    routers: [{
      id: routerId, adminStateUp: true, routes: [], floatingIps: fips,
      interfaces: [{ port: qr, cidrs: ['10.0.0.1/24'] }],
      gateway: { port: qg, cidrs: ['203.0.113.10/24'], gatewayIp: '203.0.113.1', enableSnat: snat },
    }],
  };
}

async function converge(d: DesiredHostState): Promise<string[]> {
  const changes: string[] = [];
  const errors: unknown[] = [];
  for (const step of [() => convergeL2(d), () => convergeRouters(d), () => convergePublic(d, { namespace: publicNs, physicalNetwork: 'public' }), () => convergeL2(d)]) {
    const r = await step();
    changes.push(...r.changes);
    errors.push(...r.errors);
  }
  assert.deepEqual(errors, []);
  return changes;
}

after(async () => {
  for (const ns of (await netnsList()).filter(mine)) await netnsDelete(ns);
});

test('SNAT to the public side, floating IP from it, idempotent, and removal', { timeout: 90_000 }, async () => {
  // The host namespace must exist for the fake VM's veth; the VM plugs in before L2 would make a TAP.
  await exec('ip', ['netns', 'add', hostNs]);
  await plugFakeVm({ ns: vmNs, hostNs, hostLink: tapName(vmPort.id), mac: vmPort.macAddress, mtu: 1450, cidr: '10.0.0.5/24' });
  await routeReplace(vmNs, { dst: 'default', via: '10.0.0.1' });
  await converge(desired([]));
  assert.ok(await pings(vmNs, '10.0.0.1'), 'the VM reaches its router');
  // The public side has no route to 10.0.0.0/24: a reply comes back only if SNAT rewrote the source.
  assert.ok(await pings(vmNs, '203.0.113.1'), 'the VM reaches the public side through SNAT');
  assert.equal(await pings(publicNs, '203.0.113.20', { count: 2 }), false, 'no floating IP yet');

  await converge(desired([{ id: 'f1', floatingIp: '203.0.113.20', fixedIp: '10.0.0.5' }]));
  assert.ok(await pings(publicNs, '203.0.113.20'), 'the public side reaches the VM by its floating IP');
  // The VM's own traffic now leaves as its floating IP: the public side sees that source.
  const conntrack = await exec('nft', ['list', 'table', 'ip', 'nephos-router'], { netns: routerNamespace(host, routerId) });
  assert.match(conntrack.stdout, /dnat to 10\.0\.0\.5/);

  const again = await converge(desired([{ id: 'f1', floatingIp: '203.0.113.20', fixedIp: '10.0.0.5' }]));
  assert.deepEqual(again, [], 'a converged host changes nothing');

  await converge(desired([], false));
  assert.equal(await pings(publicNs, '203.0.113.20', { count: 2 }), false, 'floating IP gone');
  assert.equal(await pings(vmNs, '203.0.113.1', { count: 2 }), false, 'no SNAT when disabled');

  const gone: DesiredHostState = { ...desired([]), routers: [] };
  await convergeRouters(gone);
  assert.equal((await netnsList()).includes(routerNamespace(host, routerId)), false, 'router namespace removed');
});
