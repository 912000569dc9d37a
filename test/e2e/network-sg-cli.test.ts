// End to end: Debian's unmodified `openstack` CLI against the network service's security groups
// (Neutron v2.0 API): group create/list/show/set/delete, rule create with protocol, ports, remote
// IP, remote group, ethertype and direction, rule list/show/delete, and refusals it shows readably.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;

before(async () => {
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
});
after(async () => { await h?.close(); });

async function json(auth: CliAuth, ...cmd: string[]): Promise<any> {
  const r = await openstack(auth, ...cmd, '-f', 'json');
  ok(r, cmd.join(' '));
  return r.json;
}

test('security group list shows the project default group; create, show, set, delete', async () => {
  const list = await json(demo, 'security', 'group', 'list');
  const defaults = list.filter((g: any) => g.Name === 'default');
  assert.equal(defaults.length, 1, 'the default group exists as soon as the project lists');
  const d = await json(demo, 'security', 'group', 'show', defaults[0].ID);
  assert.equal(d.name, 'default');
  assert.equal(d.rules.length, 4);

  const g = await json(demo, 'security', 'group', 'create', '--description', 'web servers', 'cli-web');
  assert.equal(g.name, 'cli-web');
  assert.equal(g.description, 'web servers');
  assert.equal(g.stateful, true);
  assert.equal(g.rules.length, 2, 'two egress rules');
  const shown = await json(demo, 'security', 'group', 'show', 'cli-web');
  assert.equal(shown.id, g.id);

  ok(await openstack(demo, 'security', 'group', 'set', '--name', 'cli-web-2', '--description', 'renamed', '--stateless', 'cli-web'), 'security group set');
  const after = await json(demo, 'security', 'group', 'show', g.id);
  assert.equal(after.name, 'cli-web-2');
  assert.equal(after.description, 'renamed');
  assert.equal(after.stateful, false);
  assert.ok((await json(demo, 'security', 'group', 'list')).some((x: any) => x.ID === g.id && x.Name === 'cli-web-2'));

  // Refusals reach the user readably.
  const dflt = await openstack(demo, 'security', 'group', 'create', 'default');
  assert.notEqual(dflt.code, 0);
  assert.match(dflt.stderr, /Default security group already exists/);
  const rename = await openstack(demo, 'security', 'group', 'set', '--name', 'mine', d.id);
  assert.notEqual(rename.code, 0);
  assert.match(rename.stderr, /Updating default security group not allowed/);
  const del = await openstack(demo, 'security', 'group', 'delete', d.id);
  assert.notEqual(del.code, 0);
  assert.match(del.stderr, /Insufficient rights for removing default security group/);

  ok(await openstack(demo, 'security', 'group', 'delete', 'cli-web-2'), 'security group delete');
  assert.ok(!(await json(demo, 'security', 'group', 'list')).some((x: any) => x.ID === g.id));
  assert.notEqual((await openstack(demo, 'security', 'group', 'show', g.id)).code, 0);
});

test('security group rule create with protocol, ports, remote IP/group, ethertype, direction; list, show, delete', async () => {
  const g = await json(demo, 'security', 'group', 'create', 'cli-app');
  const peers = await json(demo, 'security', 'group', 'create', 'cli-peers');

  const ssh = await json(demo, 'security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '10.20.0.0/16', '--ingress', 'cli-app');
  assert.equal(ssh.protocol, 'tcp');
  assert.equal(ssh.port_range_min, 22);
  assert.equal(ssh.port_range_max, 22);
  assert.equal(ssh.remote_ip_prefix, '10.20.0.0/16');
  assert.equal(ssh.direction, 'ingress');
  assert.equal(ssh.ether_type, 'IPv4');

  const range = await json(demo, 'security', 'group', 'rule', 'create', '--protocol', 'udp', '--dst-port', '5000:5010', '--remote-group', 'cli-peers', 'cli-app');
  assert.equal(range.port_range_min, 5000);
  assert.equal(range.port_range_max, 5010);
  assert.equal(range.remote_group_id, peers.id);
  assert.equal(range.remote_ip_prefix, null);

  const v6 = await json(demo, 'security', 'group', 'rule', 'create', '--ethertype', 'IPv6', '--protocol', 'ipv6-icmp', '--egress', '--remote-ip', '2001:db8::/64', 'cli-app');
  assert.equal(v6.ether_type, 'IPv6');
  assert.equal(v6.direction, 'egress');
  assert.equal(v6.protocol, 'ipv6-icmp');

  const icmp = await json(demo, 'security', 'group', 'rule', 'create', '--protocol', 'icmp', '--icmp-type', '8', '--icmp-code', '0', 'cli-app');
  assert.equal(icmp.port_range_min, 8);
  assert.equal(icmp.port_range_max, 0);

  const num = await json(demo, 'security', 'group', 'rule', 'create', '--protocol', '47', 'cli-app');
  assert.equal(num.protocol, '47');

  const rules = await json(demo, 'security', 'group', 'rule', 'list', 'cli-app');
  const ids = rules.map((r: any) => r.ID);
  for (const r of [ssh, range, v6, icmp, num]) assert.ok(ids.includes(r.id), `rule ${r.id} listed`);
  assert.equal(rules.length, 7, 'five rules plus the two egress rules of a new group');
  const egressOnly = await json(demo, 'security', 'group', 'rule', 'list', '--egress', 'cli-app');
  assert.ok(egressOnly.every((r: any) => r.Direction === 'egress'));
  assert.equal(egressOnly.length, 3);
  const tcpOnly = await json(demo, 'security', 'group', 'rule', 'list', '--protocol', 'tcp', 'cli-app');
  assert.deepEqual(tcpOnly.map((r: any) => r.ID), [ssh.id]);

  const shown = await json(demo, 'security', 'group', 'rule', 'show', ssh.id);
  assert.equal(shown.security_group_id, g.id);
  assert.equal(shown.remote_ip_prefix, '10.20.0.0/16');

  // A duplicate is refused with Neutron's message naming the existing rule.
  const dup = await openstack(demo, 'security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22:22', '--remote-ip', '10.20.0.0/16', 'cli-app');
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, new RegExp(`Security group rule already exists. Rule id is ${ssh.id}`));
  // Bad input is refused readably too.
  const badPorts = await openstack(demo, 'security', 'group', 'rule', 'create', '--protocol', 'gre', '--dst-port', '80', 'cli-app');
  assert.notEqual(badPorts.code, 0);
  assert.match(badPorts.stderr, /Ports cannot be specified for protocol 47/);
  const badIcmp = await openstack(demo, 'security', 'group', 'rule', 'create', '--protocol', 'icmp', '--icmp-type', '300', 'cli-app');
  assert.notEqual(badIcmp.code, 0);
  assert.match(badIcmp.stderr, /Invalid value for ICMP type \(port_range_min\) 300/);
  const badFamily = await openstack(demo, 'security', 'group', 'rule', 'create', '--ethertype', 'IPv6', '--protocol', 'tcp', '--dst-port', '80', '--remote-ip', '10.0.0.0/8', 'cli-app');
  assert.notEqual(badFamily.code, 0);
  assert.match(badFamily.stderr, /Conflicting value ethertype IPv6 for CIDR 10\.0\.0\.0\/8/);
  // Another project's group is not there for demo.
  await json(admin, 'security', 'group', 'create', 'cli-admin-only');
  const foreign = await openstack(demo, 'security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '80', 'cli-admin-only');
  assert.notEqual(foreign.code, 0);

  ok(await openstack(demo, 'security', 'group', 'rule', 'delete', ssh.id, icmp.id), 'security group rule delete');
  const left = (await json(demo, 'security', 'group', 'rule', 'list', 'cli-app')).map((r: any) => r.ID);
  assert.ok(!left.includes(ssh.id) && !left.includes(icmp.id));
  assert.notEqual((await openstack(demo, 'security', 'group', 'rule', 'show', ssh.id)).code, 0);

  // Deleting the peer group takes away the rule that named it as remote group.
  ok(await openstack(demo, 'security', 'group', 'delete', 'cli-peers'), 'delete the remote group');
  assert.notEqual((await openstack(demo, 'security', 'group', 'rule', 'show', range.id)).code, 0);
  ok(await openstack(demo, 'security', 'group', 'delete', 'cli-app'), 'security group delete');
  ok(await openstack(admin, 'security', 'group', 'delete', 'cli-admin-only'), 'admin group delete');
});
