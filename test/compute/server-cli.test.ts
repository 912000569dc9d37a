// End to end with real QEMU (TCG): Debian's unmodified `openstack` CLI boots the Nephos guest on
// the `private` network through the whole cloud — compute API, scheduler on placement, conductor,
// network agent (TAP, DHCP, metadata proxy, router, floating IP), the compute agent with the qemu
// driver, and the metadata service — then logs in by SSH through a floating IP from the public
// namespace, and drives the lifecycle (stop/start, reboot, pause, suspend, delete). Every host
// object is removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startComputeCloud, until, type ComputeCloud } from '../lib/compute-cloud.js';
import { exec } from '../../src/platform/host/exec.js';
import { hostNamespace } from '../../src/network/host/names.js';
import { netnsList } from '../../src/network/host/ip.js';

let c: ComputeCloud;
before(async () => { c = await startComputeCloud('c'); });
after(async () => { await c?.close(); });

test('server create --wait boots the guest on private: console shows its boot line with the network MTU and its hostname; SSH through a floating IP', { timeout: 300_000 }, async () => {
  await c.run(c.demo, 'keypair', 'create', '--public-key', join(c.dir, 'key.pub'), 'k');
  const userData = join(c.dir, 'user-data.sh');
  await writeFile(userData, '#!/bin/sh\necho user-data-ran > /tmp/user-data-marker\n');
  const t0 = Date.now();
  const s = await c.json(c.demo, 'server', 'create', '--image', 'nephos-guest', '--flavor', 'm1.tiny', '--network', 'private', '--key-name', 'k',
    '--user-data', userData, '--wait', 'vm1');
  console.log(`# server create --wait: ACTIVE in ${Date.now() - t0} ms`);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.name, 'vm1');
  assert.ok([1, 'Running'].includes(s['OS-EXT-STS:power_state']), String(s['OS-EXT-STS:power_state']));
  const line = await c.bootLine('vm1');
  console.log(`# boot-complete ${Date.now() - t0} ms after the create call: ${line[0]}`);
  assert.equal(line[3], 'vm1', 'hostname from metadata');
  assert.equal(line[5], '1450', 'the VXLAN network\'s MTU by DHCP');
  assert.match(line[6]!, /169\.254\.169\.254|http/, 'metadata from the metadata service');
  const addr = (await c.json(c.demo, 'server', 'show', 'vm1')).addresses as Record<string, string[]>;
  assert.equal(line[4]!.split('/')[0], addr.private?.[0], 'the address Neutron gave its port');

  // A floating IP and the rules to reach it.
  const fip = (await c.json(c.demo, 'floating', 'ip', 'create', 'public')).floating_ip_address as string;
  await c.run(c.demo, 'server', 'add', 'floating', 'ip', 'vm1', fip);
  await c.run(c.demo, 'security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', 'default');
  await c.run(c.demo, 'security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default');
  const shown = await c.json(c.demo, 'server', 'show', 'vm1');
  assert.ok(JSON.stringify(shown.addresses).includes(fip), `the floating IP is listed: ${JSON.stringify(shown.addresses)}`);
  const r = await until('SSH through the floating IP', async () => c.ssh(fip, 'hostname; cat /tmp/user-data-marker; cat /sys/class/net/eth0/mtu').catch(() => undefined), 60_000);
  assert.equal(r.stdout, 'vm1\nuser-data-ran\n1450\n');
});

test('stop/start, reboot, pause/unpause, suspend/resume through the CLI; the console shows each new boot', { timeout: 300_000 }, async () => {
  await c.run(c.demo, 'server', 'stop', 'vm1');
  await c.waitStatus('vm1', 'SHUTOFF');
  assert.ok([4, 'Shutdown'].includes((await c.json(c.demo, 'server', 'show', 'vm1'))['OS-EXT-STS:power_state']));
  await c.run(c.demo, 'server', 'start', 'vm1');
  await c.waitStatus('vm1', 'ACTIVE');
  await c.bootLine('vm1', 2);
  await c.run(c.demo, 'server', 'reboot', '--hard', '--wait', 'vm1');
  await c.bootLine('vm1', 3);
  await c.run(c.demo, 'server', 'pause', 'vm1');
  await c.waitStatus('vm1', 'PAUSED');
  await c.run(c.demo, 'server', 'unpause', 'vm1');
  await c.waitStatus('vm1', 'ACTIVE');
  await c.run(c.demo, 'server', 'suspend', 'vm1');
  await c.waitStatus('vm1', 'SUSPENDED');
  await c.run(c.demo, 'server', 'resume', 'vm1');
  await c.waitStatus('vm1', 'ACTIVE');
  const actions = (await c.json(c.demo, 'server', 'event', 'list', 'vm1')).map((a: any) => a.Action);
  for (const a of ['create', 'stop', 'start', 'reboot', 'pause', 'unpause', 'suspend', 'resume']) assert.ok(actions.includes(a), `${a} in ${actions}`);
});

test('the agent restarted mid-life leaves the VM running and adopts it; delete removes the VM, its port and its TAP', { timeout: 300_000 }, async () => {
  const before = (await c.agent.driver.getInstance((await c.json(c.demo, 'server', 'show', 'vm1')).id))!;
  assert.equal(before.state, 'running');
  await c.agent.stop();
  // A new agent (as after a restart) finds the same QEMU process.
  c.agent = await c.servers.startAgent({ host: c.host, periodMs: 2000 });
  const adopted = (await c.agent.driver.listInstances()).find((i) => i.instanceId === before.instanceId);
  assert.equal(adopted?.pid, before.pid, 'the same QEMU');
  assert.equal(adopted?.state, 'running');
  assert.equal(await c.status('vm1'), 'ACTIVE');
  const id = before.instanceId;
  const portIds = (await c.json(c.admin, 'port', 'list', '--device-id', id)).map((p: any) => p.ID);
  assert.equal(portIds.length, 1);
  await c.run(c.demo, 'server', 'delete', '--wait', 'vm1');
  assert.equal(await c.agent.driver.getInstance(id), null, 'the hypervisor forgot it');
  assert.deepEqual((await c.json(c.admin, 'port', 'list', '--device-id', id)), [], 'its port is gone');
  const links = (await exec('ip', ['-n', hostNamespace(c.host), '-o', 'link', 'show'])).stdout;
  assert.ok(!links.includes(`tap${portIds[0].slice(0, 11)}`), 'its TAP is gone');
  assert.ok((await netnsList()).includes(hostNamespace(c.host)));
});
