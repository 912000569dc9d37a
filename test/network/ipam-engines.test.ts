// IPAM and segment allocation without races on PostgreSQL and MariaDB, where transactions really
// run concurrently (SQLite serialises them): concurrent port creates never share an address and
// concurrent network creates never share a VNI.
import assert from 'node:assert/strict';
import type { IdentityHarness } from '../lib/identity-harness.js';
import { testOnSharedEngines } from '../lib/databases.js';

async function concurrentAllocation(h: IdentityHarness): Promise<void> {
  const token = await h.adminToken();
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${h.networkUrl}${url}`, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() as any };
  };
  const nets = await Promise.all(Array.from({ length: 6 }, (_, i) => call('POST', '/v2.0/networks', { network: { name: `race${i}` } })));
  assert.ok(nets.every((n) => n.status === 201), JSON.stringify(nets.map((n) => n.body)));
  const vnis = nets.map((n) => n.body.network['provider:segmentation_id']);
  assert.equal(new Set(vnis).size, vnis.length, `VNIs ${vnis}`);
  const net = nets[0]!.body.network;
  const sub = await call('POST', '/v2.0/subnets', { subnet: { network_id: net.id, cidr: '10.9.0.0/27', ip_version: 4 } });
  assert.equal(sub.status, 201);
  const ports = await Promise.all(Array.from({ length: 32 }, () => call('POST', '/v2.0/ports', { port: { network_id: net.id } })));
  const made = ports.filter((p) => p.status === 201).map((p) => p.body.port);
  const refused = ports.filter((p) => p.status !== 201);
  assert.ok(refused.every((r) => r.status === 409 && r.body.NeutronError.type === 'IpAddressGenerationFailure'), JSON.stringify(refused.map((r) => r.body)));
  assert.equal(made.length, 28, '29 usable addresses minus the DHCP port');
  const ips = made.map((p) => p.fixed_ips[0].ip_address);
  assert.equal(new Set(ips).size, ips.length, 'no address twice');
}

testOnSharedEngines((engine) => `IPAM and VNIs under concurrency on ${engine}`, concurrentAllocation);
