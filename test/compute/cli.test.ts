// End to end with Debian's unmodified `openstack` CLI (python-openstackclient + novaclient/SDK):
// flavors, access, extra specs, key pairs (generated and an ssh-keygen ed25519 key), quotas,
// limits, zones, compute services, hypervisors and aggregates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const run = promisify(execFile);
let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;
let dir: string;
const HOST = `hx${process.pid}`;

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr.slice(-800)}`);
}

before(async () => {
  h = await startIdentity({ overrides: { compute: { service_down_time: 3600 } } }); // the CLI steps take minutes on a loaded machine
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
  dir = mkdtempSync(join(tmpdir(), 'nephos-cli-kp-'));
  // What this host's compute agent reports when it starts.
  await h.cloud.compute.heartbeat(HOST, 'nova-compute');
  await h.cloud.compute.reportHypervisor(HOST, { hypervisor_type: 'QEMU', hypervisor_version: 7002000, vcpus: 2, memory_mb: 4096, local_gb: 40, cpu_info: { arch: 'x86_64' } });
});
after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('flavor create/list/show/set --property/unset/delete, and private flavors shared with set --project', async () => {
  const list = await openstack(demo, 'flavor', 'list', '-f', 'json');
  ok(list, 'flavor list');
  assert.deepEqual(list.json.map((f: any) => f.Name).sort(), ['m1.large', 'm1.medium', 'm1.micro', 'm1.nano', 'm1.small', 'm1.tiny', 'm1.xlarge']);
  const created = await openstack(admin, 'flavor', 'create', '--ram', '256', '--disk', '2', '--vcpus', '2', '--ephemeral', '1', '--swap', '128', '--property', 'hw:cpu_policy=shared', 'cli.small', '-f', 'json');
  ok(created, 'flavor create');
  assert.deepEqual([created.json.ram, created.json.disk, created.json.vcpus, created.json['OS-FLV-EXT-DATA:ephemeral'], created.json.swap], [256, 2, 2, 1, 128]);
  assert.deepEqual(created.json.properties, { 'hw:cpu_policy': 'shared' });
  ok(await openstack(admin, 'flavor', 'set', '--property', 'acme:tier=gold', '--property', 'hw:numa_nodes=1', 'cli.small'), 'flavor set --property');
  let shown = await openstack(demo, 'flavor', 'show', 'cli.small', '-f', 'json');
  ok(shown, 'flavor show');
  assert.deepEqual(shown.json.properties, { 'hw:cpu_policy': 'shared', 'acme:tier': 'gold', 'hw:numa_nodes': '1' });
  ok(await openstack(admin, 'flavor', 'unset', '--property', 'acme:tier', 'cli.small'), 'flavor unset');
  shown = await openstack(admin, 'flavor', 'show', 'cli.small', '-f', 'json');
  assert.deepEqual(shown.json.properties, { 'hw:cpu_policy': 'shared', 'hw:numa_nodes': '1' });
  const denied = await openstack(demo, 'flavor', 'create', '--ram', '64', '--disk', '0', 'no-way');
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /403|Policy doesn't allow/);

  ok(await openstack(admin, 'flavor', 'create', '--private', '--ram', '64', '--disk', '0', '--vcpus', '1', 'cli.private'), 'private flavor create');
  assert.notEqual((await openstack(demo, 'flavor', 'show', 'cli.private')).code, 0, 'private flavors are hidden');
  ok(await openstack(admin, 'flavor', 'set', '--project', 'demo', 'cli.private'), 'flavor set --project');
  const access = await openstack(admin, 'flavor', 'show', 'cli.private', '-f', 'json');
  assert.equal(access.json.access_project_ids.length, 1);
  ok(await openstack(demo, 'flavor', 'show', 'cli.private'), 'shared flavor visible to demo');
  ok(await openstack(admin, 'flavor', 'unset', '--project', 'demo', 'cli.private'), 'flavor unset --project');
  assert.notEqual((await openstack(demo, 'flavor', 'show', 'cli.private')).code, 0);
  ok(await openstack(admin, 'flavor', 'delete', 'cli.small', 'cli.private'), 'flavor delete');
  assert.ok(!(await openstack(admin, 'flavor', 'list', '--all', '-f', 'json')).json.some((f: any) => f.Name.startsWith('cli.')));
});

test('keypair create (generated) returns a private key; --public-key imports an ssh-keygen ed25519 key; list/show/delete', async () => {
  const gen = await openstack(demo, 'keypair', 'create', 'cli-gen');
  ok(gen, 'keypair create');
  assert.match(gen.stdout, /-----BEGIN RSA PRIVATE KEY-----/);
  createPrivateKey(gen.stdout.trim());

  const keyFile = join(dir, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cli@nephos', '-f', keyFile], { timeout: 30_000 });
  const { stdout: fp } = await run('ssh-keygen', ['-l', '-E', 'md5', '-f', `${keyFile}.pub`], { timeout: 30_000 });
  const imported = await openstack(demo, 'keypair', 'create', '--public-key', `${keyFile}.pub`, 'cli-ed', '-f', 'json');
  ok(imported, 'keypair create --public-key');
  assert.equal(`MD5:${imported.json.fingerprint}`, /MD5:[0-9a-f:]+/.exec(fp)![0]);

  const list = await openstack(demo, 'keypair', 'list', '-f', 'json');
  ok(list, 'keypair list');
  assert.deepEqual(list.json.map((k: any) => k.Name).sort(), ['cli-ed', 'cli-gen']);
  const shown = await openstack(demo, 'keypair', 'show', 'cli-ed', '-f', 'json');
  ok(shown, 'keypair show');
  assert.equal(shown.json.fingerprint, imported.json.fingerprint);
  const pub = await openstack(demo, 'keypair', 'show', '--public-key', 'cli-ed');
  ok(pub, 'keypair show --public-key');
  assert.equal(pub.stdout.trim(), readFileSync(`${keyFile}.pub`, 'utf8').trim());
  assert.equal((await openstack(admin, 'keypair', 'list', '-f', 'json')).json.length, 0, 'key pairs belong to their user');
  ok(await openstack(demo, 'keypair', 'delete', 'cli-gen', 'cli-ed'), 'keypair delete');
  assert.deepEqual((await openstack(demo, 'keypair', 'list', '-f', 'json')).json, []);
});

test('quota show/set and limits show --absolute', async () => {
  const q = await openstack(admin, 'quota', 'show', 'demo', '-f', 'json');
  ok(q, 'quota show');
  assert.equal(q.json.instances, 10);
  assert.equal(q.json.cores, 20);
  ok(await openstack(admin, 'quota', 'set', '--instances', '7', '--cores', '11', '--ram', '4096', '--key-pairs', '3', 'demo'), 'quota set');
  const after = await openstack(admin, 'quota', 'show', 'demo', '-f', 'json');
  assert.deepEqual([after.json.instances, after.json.cores, after.json.ram, after.json['key-pairs']], [7, 11, 4096, 3]);
  const limits = await openstack(demo, 'limits', 'show', '--absolute', '-f', 'json');
  ok(limits, 'limits show --absolute');
  const by = Object.fromEntries(limits.json.map((l: any) => [l.Name, l.Value]));
  assert.deepEqual([by.maxTotalInstances, by.maxTotalCores, by.maxTotalRAMSize, by.maxTotalKeypairs, by.totalInstancesUsed], [7, 11, 4096, 3, 0]);
  const denied = await openstack(demo, 'quota', 'set', '--instances', '99', 'demo');
  assert.notEqual(denied.code, 0);
});

test('availability zone list --long, compute service list/set --disable, hypervisor list/stats', async () => {
  // The agent's periodic heartbeat (the CLI steps above take longer than service_down_time).
  await h.cloud.compute.heartbeat(HOST, 'nova-compute');
  const zones = await openstack(admin, 'availability', 'zone', 'list', '--compute', '--long', '-f', 'json');
  ok(zones, 'availability zone list --long');
  const row = zones.json.find((z: any) => z['Host Name'] === HOST);
  assert.deepEqual([row['Zone Name'], row['Zone Status'], row['Service Name']], ['nova', 'available', 'nova-compute']);
  assert.match(row['Service Status'], /enabled :-\)/);

  const services = await openstack(admin, 'compute', 'service', 'list', '-f', 'json');
  ok(services, 'compute service list');
  assert.deepEqual(services.json.filter((s: any) => s.Host === HOST).map((s: any) => [s.Binary, s.Status, s.State]), [['nova-compute', 'enabled', 'up']]);
  ok(await openstack(admin, 'compute', 'service', 'set', '--disable', '--disable-reason', 'cli maintenance', HOST, 'nova-compute'), 'service set --disable');
  const disabled = await openstack(admin, 'compute', 'service', 'list', '--long', '-f', 'json');
  const mine = disabled.json.find((s: any) => s.Host === HOST);
  assert.deepEqual([mine.Status, mine['Disabled Reason']], ['disabled', 'cli maintenance']);
  ok(await openstack(admin, 'compute', 'service', 'set', '--enable', HOST, 'nova-compute'), 'service set --enable');

  const hv = await openstack(admin, 'hypervisor', 'list', '-f', 'json');
  ok(hv, 'hypervisor list');
  const node = hv.json.find((x: any) => x['Hypervisor Hostname'] === HOST);
  assert.deepEqual([node['Hypervisor Type'], node.State], ['QEMU', 'up']);
  const stats = await openstack(admin, 'hypervisor', 'stats', 'show', '-f', 'json');
  ok(stats, 'hypervisor stats show');
  assert.deepEqual([stats.json.count, stats.json.vcpus, stats.json.memory_mb, stats.json.local_gb], [1, 2, 4096, 40]);
  assert.notEqual((await openstack(demo, 'hypervisor', 'list')).code, 0, 'hypervisors are admin-only');
});

test('aggregate create/add host/set --property/remove host/delete, and the zone it makes', async () => {
  const agg = await openstack(admin, 'aggregate', 'create', '--zone', 'cli-zone', 'cli-agg', '-f', 'json');
  ok(agg, 'aggregate create');
  assert.equal(agg.json.availability_zone, 'cli-zone');
  ok(await openstack(admin, 'aggregate', 'add', 'host', 'cli-agg', HOST), 'aggregate add host');
  ok(await openstack(admin, 'aggregate', 'set', '--property', 'ssd=true', 'cli-agg'), 'aggregate set --property');
  const shown = await openstack(admin, 'aggregate', 'show', 'cli-agg', '-f', 'json');
  ok(shown, 'aggregate show');
  assert.deepEqual(shown.json.hosts, [HOST]);
  assert.deepEqual(shown.json.properties, { ssd: 'true' });
  const zones = await openstack(demo, 'availability', 'zone', 'list', '--compute', '-f', 'json');
  assert.ok(zones.json.some((z: any) => z['Zone Name'] === 'cli-zone' && z['Zone Status'] === 'available'));
  const bad = await openstack(admin, 'aggregate', 'add', 'host', 'cli-agg', 'no-such-host');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Compute host no-such-host could not be found/);
  ok(await openstack(admin, 'aggregate', 'remove', 'host', 'cli-agg', HOST), 'aggregate remove host');
  ok(await openstack(admin, 'aggregate', 'delete', 'cli-agg'), 'aggregate delete');
  assert.deepEqual((await openstack(admin, 'aggregate', 'list', '-f', 'json')).json, []);
});
