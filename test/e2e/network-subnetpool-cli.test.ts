// End to end: Debian's unmodified `openstack` CLI against subnet pools (Neutron's
// subnet_allocation and default-subnetpools): pool create/show/list/set/unset/delete, subnets
// carved from a pool by prefix length and by range, the shared default pool, IPv6 pools, and
// Neutron's refusals as the CLI reports them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
const fails = (r: CliResult, what: string, stderr: RegExp) => {
  assert.notEqual(r.code, 0, `${what} should fail: ${r.stdout}`);
  assert.match(r.stderr, stderr, what);
};

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;

before(async () => {
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
});
after(async () => { await h?.close(); });

test('subnet pool create/show/list/set/unset; subnets by prefix length and by range; delete refused while in use', async () => {
  const p = await openstack(demo, 'subnet', 'pool', 'create', '--pool-prefix', '10.200.0.0/16', '--pool-prefix', '10.201.0.0/16',
    '--default-prefix-length', '24', '--min-prefix-length', '20', '--max-prefix-length', '28', '--description', 'e2e pool', '--tag', 'red', '--no-share', 'pool1', '-f', 'json');
  ok(p, 'subnet pool create');
  assert.deepEqual(p.json.prefixes, ['10.200.0.0/15'], 'adjacent prefixes merged');
  assert.equal(p.json.ip_version, 4);
  assert.equal(Number(p.json.default_prefixlen), 24);
  assert.equal(Number(p.json.min_prefixlen), 20);
  assert.equal(Number(p.json.max_prefixlen), 28);
  assert.equal(p.json.shared, false);
  assert.deepEqual(p.json.tags, ['red']);

  ok(await openstack(demo, 'network', 'create', 'sp-net1'), 'network create');
  const s1 = await openstack(demo, 'subnet', 'create', '--network', 'sp-net1', '--subnet-pool', 'pool1', '--prefix-length', '26', 'sp-sub1', '-f', 'json');
  ok(s1, 'subnet create --prefix-length');
  assert.equal(s1.json.cidr, '10.200.0.0/26');
  assert.equal(s1.json.subnetpool_id, p.json.id);
  assert.equal(s1.json.gateway_ip, '10.200.0.1');
  const s2 = await openstack(demo, 'subnet', 'create', '--network', 'sp-net1', '--subnet-pool', 'pool1', 'sp-sub2', '-f', 'json');
  ok(s2, 'subnet create with the default prefix length');
  assert.equal(s2.json.cidr, '10.200.1.0/24');
  const s3 = await openstack(demo, 'subnet', 'create', '--network', 'sp-net1', '--subnet-pool', 'pool1', '--subnet-range', '10.201.7.0/24', 'sp-sub3', '-f', 'json');
  ok(s3, 'subnet create --subnet-range inside the pool');
  assert.equal(s3.json.cidr, '10.201.7.0/24');
  fails(await openstack(demo, 'subnet', 'create', '--network', 'sp-net1', '--subnet-pool', 'pool1', '--subnet-range', '10.200.0.0/24', 'sp-bad'),
    'a range overlapping an allocation', /Cannot allocate requested subnet/);
  fails(await openstack(demo, 'subnet', 'create', '--network', 'sp-net1', '--subnet-pool', 'pool1', '--prefix-length', '30', 'sp-bad'),
    'a prefix length above the maximum', /maximum allowed prefix is 28/);
  const bypool = await openstack(demo, 'subnet', 'list', '--subnet-pool', 'pool1', '-f', 'json');
  ok(bypool, 'subnet list --subnet-pool');
  assert.deepEqual(bypool.json.map((s: any) => s.Name).sort(), ['sp-sub1', 'sp-sub2', 'sp-sub3']);

  // set: the CLI adds the existing prefixes to the new ones (prefixes only grow).
  ok(await openstack(demo, 'subnet', 'pool', 'set', '--name', 'pool1b', '--pool-prefix', '10.210.0.0/16', '--default-prefix-length', '25', '--tag', 'blue', 'pool1'), 'subnet pool set');
  const shown = await openstack(demo, 'subnet', 'pool', 'show', 'pool1b', '-f', 'json');
  ok(shown, 'subnet pool show');
  assert.deepEqual([...shown.json.prefixes].sort(), ['10.200.0.0/15', '10.210.0.0/16']);
  assert.equal(Number(shown.json.default_prefixlen), 25);
  assert.deepEqual([...shown.json.tags].sort(), ['blue', 'red']);
  ok(await openstack(demo, 'subnet', 'pool', 'unset', '--tag', 'red', 'pool1b'), 'subnet pool unset --tag');
  const list = await openstack(demo, 'subnet', 'pool', 'list', '--long', '-f', 'json');
  ok(list, 'subnet pool list --long');
  const row = list.json.find((r: any) => r.Name === 'pool1b');
  assert.ok(row, list.stdout);
  assert.deepEqual(row.Tags, ['blue']);
  assert.equal(Number(row['Default Prefix Length']), 25);

  fails(await openstack(demo, 'subnet', 'pool', 'delete', 'pool1b'), 'delete of a pool in use', /existing allocations/);
  for (const s of ['sp-sub1', 'sp-sub2', 'sp-sub3']) ok(await openstack(demo, 'subnet', 'delete', s), `subnet delete ${s}`);
  ok(await openstack(demo, 'subnet', 'pool', 'delete', 'pool1b'), 'subnet pool delete');
  fails(await openstack(demo, 'subnet', 'pool', 'show', 'pool1b'), 'show after delete', /No SubnetPool found|Could not find|not found/i);
  ok(await openstack(demo, 'network', 'delete', 'sp-net1'), 'network delete');
});

test('the shared default pool (admin) serves --use-default-subnet-pool; IPv6 pools give /64s', async () => {
  fails(await openstack(demo, 'subnet', 'pool', 'create', '--share', '--pool-prefix', '10.220.0.0/16', 'mine'), 'a member sharing a pool', /disallowed by policy|Forbidden|403/);
  const d = await openstack(admin, 'subnet', 'pool', 'create', '--share', '--default', '--pool-prefix', '10.220.0.0/16', '--default-prefix-length', '24', 'default-v4', '-f', 'json');
  ok(d, 'subnet pool create --share --default');
  assert.equal(d.json.is_default, true);
  assert.equal(d.json.shared, true);
  fails(await openstack(admin, 'subnet', 'pool', 'create', '--default', '--pool-prefix', '10.221.0.0/16', 'default-v4b'), 'a second IPv4 default', /Only one default may exist per IP family/);
  const defaults = await openstack(demo, 'subnet', 'pool', 'list', '--default', '-f', 'json');
  ok(defaults, 'subnet pool list --default');
  assert.deepEqual(defaults.json.map((r: any) => r.Name), ['default-v4']);

  ok(await openstack(demo, 'network', 'create', 'sp-net2'), 'network create');
  const s = await openstack(demo, 'subnet', 'create', '--network', 'sp-net2', '--use-default-subnet-pool', 'sp-default', '-f', 'json');
  ok(s, 'subnet create --use-default-subnet-pool');
  assert.equal(s.json.cidr, '10.220.0.0/24');
  assert.equal(s.json.subnetpool_id, d.json.id);

  const p6 = await openstack(demo, 'subnet', 'pool', 'create', '--pool-prefix', '2001:db8:500::/48', 'pool6', '-f', 'json');
  ok(p6, 'IPv6 subnet pool create');
  assert.equal(p6.json.ip_version, 6);
  const s6 = await openstack(demo, 'subnet', 'create', '--ip-version', '6', '--network', 'sp-net2', '--subnet-pool', 'pool6', 'sp-v6', '-f', 'json');
  ok(s6, 'IPv6 subnet create from a pool');
  assert.equal(s6.json.cidr, '2001:db8:500::/64');

  ok(await openstack(admin, 'subnet', 'pool', 'set', '--no-default', 'default-v4'), 'subnet pool set --no-default');
  const after = await openstack(admin, 'subnet', 'pool', 'show', 'default-v4', '-f', 'json');
  assert.equal(after.json.is_default, false);
  ok(await openstack(demo, 'network', 'delete', 'sp-net2'), 'network delete (its subnets go with it)');
  ok(await openstack(demo, 'subnet', 'pool', 'delete', 'pool6'), 'subnet pool delete pool6');
  ok(await openstack(admin, 'subnet', 'pool', 'delete', 'default-v4'), 'subnet pool delete default-v4');
});
