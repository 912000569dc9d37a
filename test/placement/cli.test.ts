// End to end: Debian's unmodified `openstack` CLI with its placement plugin (python3-osc-placement)
// against the catalog's placement endpoint: providers, inventories, traits, aggregates, resource
// classes, allocations, usages and allocation candidates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;
const ok = (r: CliResult, what: string): any => { assert.equal(r.code, 0, `${what} failed: ${r.stderr}`); return r.json; };
const cli = (...args: string[]) => openstack(admin, ...args, '-f', 'json');
const cliAt = (version: string, ...args: string[]) => openstack(admin, '--os-placement-api-version', version, ...args, '-f', 'json');

before(async () => {
  assert.ok(existsSync('/usr/lib/python3/dist-packages/osc_placement'), 'python3-osc-placement is not installed (scripts/setup.sh installs it for the tests)');
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
});
after(async () => { await h?.close(); });

test('resource providers, inventories, traits, aggregates and classes with the CLI', async () => {
  const name = `cli-host-${randomUUID().slice(0, 8)}`;
  const rp = ok(await cli('resource', 'provider', 'create', name), 'provider create');
  assert.equal(rp.name, name);
  assert.equal(rp.generation, 0);
  const listed = ok(await cli('resource', 'provider', 'list'), 'provider list');
  assert.ok(listed.some((p: any) => p.uuid === rp.uuid && p.name === name));
  const child = ok(await cliAt('1.14', 'resource', 'provider', 'create', `${name}-numa0`, '--parent-provider', rp.uuid), 'child create');
  assert.equal(child.root_provider_uuid, rp.uuid);
  const tree = ok(await cliAt('1.14', 'resource', 'provider', 'list', '--in-tree', child.uuid), 'list --in-tree');
  assert.deepEqual(tree.map((p: any) => p.uuid).sort(), [rp.uuid, child.uuid].sort());

  const inv = ok(await cli('resource', 'provider', 'inventory', 'set', rp.uuid, '--resource', 'VCPU=16', '--resource', 'VCPU:allocation_ratio=2.0',
    '--resource', 'MEMORY_MB=8192', '--resource', 'MEMORY_MB:reserved=512', '--resource', 'DISK_GB=100'), 'inventory set');
  const vcpu = inv.find((i: any) => i.resource_class === 'VCPU');
  assert.equal(vcpu.total, 16);
  assert.equal(vcpu.allocation_ratio, 2);
  assert.equal(inv.find((i: any) => i.resource_class === 'MEMORY_MB').reserved, 512);
  const one = ok(await cli('resource', 'provider', 'inventory', 'show', rp.uuid, 'DISK_GB'), 'inventory show');
  assert.equal(one.total, 100);
  ok(await cli('resource', 'provider', 'inventory', 'class', 'set', rp.uuid, 'DISK_GB', '--total', '200'), 'inventory class set');
  assert.equal(ok(await cli('resource', 'provider', 'inventory', 'show', rp.uuid, 'DISK_GB'), 'inventory show').total, 200);

  const created = await openstack(admin, '--os-placement-api-version', '1.7', 'resource', 'class', 'create', 'CUSTOM_CLI_GOLD');
  assert.equal(created.code, 0, created.stderr);
  const classes = ok(await cliAt('1.2', 'resource', 'class', 'list'), 'class list');
  assert.ok(classes.some((c: any) => c.name === 'CUSTOM_CLI_GOLD') && classes.some((c: any) => c.name === 'VCPU'));
  const trait = await openstack(admin, '--os-placement-api-version', '1.6', 'trait', 'create', 'CUSTOM_CLI_FAST');
  assert.equal(trait.code, 0, trait.stderr);
  const traits = ok(await cliAt('1.6', 'resource', 'provider', 'trait', 'set', rp.uuid, '--trait', 'CUSTOM_CLI_FAST', '--trait', 'HW_CPU_X86_AVX2'), 'provider trait set');
  assert.deepEqual(traits.map((t: any) => t.name).sort(), ['CUSTOM_CLI_FAST', 'HW_CPU_X86_AVX2']);
  const allTraits = ok(await cliAt('1.6', 'trait', 'list'), 'trait list');
  assert.ok(allTraits.length > 300, 'the standard traits are listed');
  const agg = randomUUID();
  const aggs = ok(await cliAt('1.19', 'resource', 'provider', 'aggregate', 'set', rp.uuid, '--aggregate', agg, '--generation', String(ok(await cli('resource', 'provider', 'show', rp.uuid), 'show').generation)), 'aggregate set');
  assert.deepEqual(aggs.map((a: any) => a.uuid), [agg]);

  // A member of a project is refused (placement is admin/service only).
  const refused = await openstack(demo, 'resource', 'provider', 'list');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /403|Forbidden|not allow/i);
});

test('allocation candidates, allocations and usages with the CLI', async () => {
  const name = `cli-cand-${randomUUID().slice(0, 8)}`;
  const rp = ok(await cli('resource', 'provider', 'create', name), 'provider create');
  ok(await cli('resource', 'provider', 'inventory', 'set', rp.uuid, '--resource', 'VCPU=4', '--resource', 'MEMORY_MB=2048'), 'inventory set');
  ok(await cliAt('1.6', 'resource', 'provider', 'trait', 'set', rp.uuid, '--trait', 'HW_CPU_X86_SSE42'), 'trait set');

  const cands = ok(await cliAt('1.10', 'allocation', 'candidate', 'list', '--resource', 'VCPU=1'), 'candidate list');
  const mine = cands.find((c: any) => c['resource provider'] === rp.uuid);
  assert.ok(mine, JSON.stringify(cands));
  assert.equal(mine.allocation, 'VCPU=1');
  assert.equal(mine['inventory used/capacity'], 'VCPU=0/4');
  const withTrait = ok(await cliAt('1.17', 'allocation', 'candidate', 'list', '--resource', 'VCPU=1', '--required', 'HW_CPU_X86_SSE42'), 'candidate list --required');
  assert.deepEqual(withTrait.map((c: any) => c['resource provider']), [rp.uuid]);
  const forbidden = ok(await cliAt('1.22', 'allocation', 'candidate', 'list', '--resource', 'VCPU=1', '--forbidden', 'HW_CPU_X86_SSE42'), 'candidate list --forbidden');
  assert.ok(!forbidden.some((c: any) => c['resource provider'] === rp.uuid));
  assert.equal(ok(await cliAt('1.10', 'allocation', 'candidate', 'list', '--resource', 'VCPU=5'), 'too big').filter((c: any) => c['resource provider'] === rp.uuid).length, 0);

  const consumer = randomUUID();
  const project = randomUUID();
  const user = randomUUID();
  const set = ok(await cliAt('1.12', 'resource', 'provider', 'allocation', 'set', consumer, '--allocation', `rp=${rp.uuid},VCPU=2,MEMORY_MB=512`,
    '--project-id', project, '--user-id', user), 'allocation set');
  assert.equal(set[0].resource_provider, rp.uuid);
  const shown = ok(await cliAt('1.12', 'resource', 'provider', 'allocation', 'show', consumer), 'allocation show');
  assert.deepEqual(shown[0].resources, { VCPU: 2, MEMORY_MB: 512 });
  const usage = ok(await cli('resource', 'provider', 'usage', 'show', rp.uuid), 'usage show');
  assert.equal(usage.find((u: any) => u.resource_class === 'VCPU').usage, 2);
  const total = ok(await cliAt('1.9', 'resource', 'usage', 'show', project), 'resource usage show');
  assert.deepEqual(total.map((u: any) => `${u.resource_class}=${u.usage}`).sort(), ['MEMORY_MB=512', 'VCPU=2']);
  assert.equal(ok(await cliAt('1.10', 'allocation', 'candidate', 'list', '--resource', 'VCPU=3'), 'after').filter((c: any) => c['resource provider'] === rp.uuid).length, 0);

  const del = await openstack(admin, 'resource', 'provider', 'allocation', 'delete', consumer);
  assert.equal(del.code, 0, del.stderr);
  const inUse = await openstack(admin, 'resource', 'provider', 'delete', rp.uuid);
  assert.equal(inUse.code, 0, inUse.stderr);
  const gone = await openstack(admin, 'resource', 'provider', 'show', rp.uuid);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /404|No resource provider/);
});
