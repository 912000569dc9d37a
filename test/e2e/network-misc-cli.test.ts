// End to end: Debian's unmodified `openstack` CLI (and, where the CLI needs a compute endpoint,
// the openstacksdk beneath it) against the network API's smaller collections — quotas (show,
// set, list, details, enforcement), agents (list, show, set, DHCP placement, delete),
// availability zones, and IP availability.
import { test, before, after } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';
import { AGENT_TYPES, reportAgentState } from '../../src/network/agents.js';

const run = promisify(execFile);
const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
const host = `t${process.pid}e`;

let h: IdentityHarness;
let admin: CliAuth;
let demo: CliAuth;

before(async () => {
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  demo = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
  for (const kind of ['linuxbridge', 'dhcp', 'l3', 'metadata'] as const) {
    await reportAgentState(h.cloud.network.ctx, { ...AGENT_TYPES[kind], host, configurations: { kind }, start_flag: true });
  }
});
after(async () => { await h?.close(); });

/**
 * openstacksdk (the library under the CLI's network commands) as `admin`: runs `code` with a
 * connection `conn` and the JSON-decoded `args`, and returns what it prints as JSON.
 */
async function sdk(code: string, args: unknown): Promise<any> {
  const prelude = [
    'import json, sys, openstack',
    'a = json.loads(sys.argv[1])',
    "conn = openstack.connect(auth_url=a['auth_url'], username='admin', password=a['password'], project_name='admin', user_domain_name='Default', project_domain_name='Default', region_name='RegionOne', interface='public', identity_api_version='3')",
    'args = a["args"]',
  ].join('\n');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  const { stdout } = await run('/usr/bin/python3', ['-c', `${prelude}\n${code}`, JSON.stringify({ auth_url: `${h.url}/v3`, password: h.adminPassword, args })], { env, timeout: 60_000 });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

test('quotas: set/show (CLI when the cloud has compute, else the SDK beneath it), list --network, list --detail; the limit is enforced', async (t) => {
  const demoId = JSON.parse((await openstack(admin, 'project', 'show', 'demo', '-f', 'json')).stdout).id;
  // python-openstackclient 6.0's `quota set`/`quota show` create a compute client first, so on
  // a cloud without a compute endpoint they stop before reaching the network API.
  const probe = await openstack(admin, 'quota', 'show', 'demo', '-f', 'json');
  const cliUsable = probe.code === 0;
  if (!cliUsable) {
    assert.match(probe.stderr, /endpoint for compute service/);
    t.diagnostic('quota set/show via openstacksdk: the CLI needs a compute endpoint for these two commands');
  }
  const show = async (which: 'get_quota' | 'get_quota_default'): Promise<any> => {
    if (cliUsable) {
      const r = await openstack(admin, 'quota', 'show', ...(which === 'get_quota_default' ? ['--default'] : []), 'demo', '-f', 'json');
      ok(r, 'quota show');
      return { networks: r.json.networks, ports: r.json.ports, subnets: r.json.subnets, routers: r.json.routers, floating_ips: r.json['floating-ips'], security_groups: r.json.secgroups, security_group_rules: r.json['secgroup-rules'] };
    }
    return sdk(`q = getattr(conn.network, args[0])(args[1])\nprint(json.dumps({k: getattr(q, k) for k in ['networks', 'ports', 'subnets', 'routers', 'floating_ips', 'security_groups', 'security_group_rules']}))`, [which, demoId]);
  };
  const set = async (networks: number, ports: number): Promise<void> => {
    if (cliUsable) ok(await openstack(admin, 'quota', 'set', '--networks', String(networks), '--ports', String(ports), 'demo'), 'quota set');
    else await sdk('conn.network.update_quota(args[0], networks=args[1], ports=args[2])', [demoId, networks, ports]);
  };
  const defaults = { networks: 100, ports: 500, subnets: 100, routers: 10, floating_ips: 50, security_groups: 10, security_group_rules: 100 };
  assert.deepEqual(await show('get_quota'), defaults);
  await set(1, 7);
  assert.deepEqual(await show('get_quota'), { ...defaults, networks: 1, ports: 7 });
  assert.deepEqual(await show('get_quota_default'), defaults);

  const list = await openstack(admin, 'quota', 'list', '--network', '-f', 'json');
  ok(list, 'quota list --network');
  const row = list.json.find((r: any) => r['Project ID'] === demoId);
  assert.ok(row, `demo listed among non-default quotas: ${list.stdout}`);
  assert.equal(row.Networks, 1);
  assert.equal(row.Ports, 7);

  const existing = (await openstack(demo, 'network', 'list', '--project', demoId, '-f', 'json')).json?.length ?? 0;
  for (let i = existing; i < 1; i++) ok(await openstack(demo, 'network', 'create', `cli-q${i}`), 'network create within quota');
  const over = await openstack(demo, 'network', 'create', 'cli-over');
  assert.notEqual(over.code, 0);
  assert.match(over.stderr, /Quota exceeded for resources: \['network'\]/);

  const detail = await openstack(admin, 'quota', 'list', '--network', '--detail', '--project', 'demo', '-f', 'json');
  ok(detail, 'quota list --detail');
  const nets = detail.json.find((r: any) => r.Resource === 'networks');
  assert.ok(nets, detail.stdout);
  assert.deepEqual({ inUse: nets['In Use'], limit: nets.Limit, reserved: nets.Reserved }, { inUse: Math.max(existing, 1), limit: 1, reserved: 0 });

  await sdk('conn.network.delete_quota(args[0])', [demoId]);
  assert.deepEqual(await show('get_quota'), defaults);
});

test('network agent list/show/set, DHCP placement by hand, delete', async () => {
  const list = await openstack(admin, 'network', 'agent', 'list', '--host', host, '-f', 'json');
  ok(list, 'network agent list');
  assert.deepEqual(list.json.map((a: any) => a['Agent Type']).sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  const dhcp = list.json.find((a: any) => a['Agent Type'] === 'DHCP agent');
  assert.equal(dhcp.Alive, true);
  assert.equal(dhcp.State, true);
  assert.equal(dhcp.Binary, 'neutron-dhcp-agent');
  assert.equal(dhcp['Availability Zone'], 'nova');
  const byType = await openstack(admin, 'network', 'agent', 'list', '--agent-type', 'l3', '--host', host, '-f', 'json');
  ok(byType, 'network agent list --agent-type l3');
  assert.deepEqual(byType.json.map((a: any) => a.Binary), ['neutron-l3-agent']);
  assert.deepEqual((await openstack(demo, 'network', 'agent', 'list', '-f', 'json')).json, [], 'members see no agents');

  ok(await openstack(admin, 'network', 'agent', 'set', '--disable', '--description', 'drained', dhcp.ID), 'network agent set');
  const shown = await openstack(admin, 'network', 'agent', 'show', dhcp.ID, '-f', 'json');
  ok(shown, 'network agent show');
  assert.equal(shown.json.admin_state_up, false);
  assert.equal(shown.json.description, 'drained');
  assert.equal(shown.json.host, host);
  ok(await openstack(admin, 'network', 'agent', 'set', '--enable', dhcp.ID), 'network agent set --enable');

  ok(await openstack(admin, 'network', 'create', 'cli-dhcp'), 'network create');
  ok(await openstack(admin, 'network', 'agent', 'add', 'network', '--dhcp', dhcp.ID, 'cli-dhcp'), 'network agent add network');
  const hosting = await openstack(admin, 'network', 'agent', 'list', '--network', 'cli-dhcp', '-f', 'json');
  ok(hosting, 'network agent list --network');
  assert.deepEqual(hosting.json.map((a: any) => a.ID), [dhcp.ID]);
  ok(await openstack(admin, 'network', 'agent', 'remove', 'network', '--dhcp', dhcp.ID, 'cli-dhcp'), 'network agent remove network');
  assert.deepEqual((await openstack(admin, 'network', 'agent', 'list', '--network', 'cli-dhcp', '-f', 'json')).json, []);

  const meta = list.json.find((a: any) => a['Agent Type'] === 'Metadata agent');
  ok(await openstack(admin, 'network', 'agent', 'delete', meta.ID), 'network agent delete');
  assert.notEqual((await openstack(admin, 'network', 'agent', 'show', meta.ID)).code, 0);
});

test('availability zone list --network shows the zones of the DHCP and L3 agents', async () => {
  const r = await openstack(admin, 'availability', 'zone', 'list', '--network', '--long', '-f', 'json');
  ok(r, 'availability zone list --network');
  const zones = r.json.map((z: any) => `${z['Zone Name']}/${z['Zone Resource']}/${z['Zone Status']}`).sort();
  assert.ok(zones.includes('nova/network/available'), r.stdout);
  assert.ok(zones.includes('nova/router/available'), r.stdout);
});

test('ip availability list and show', async () => {
  ok(await openstack(admin, 'network', 'create', 'cli-ipa'), 'network create');
  ok(await openstack(admin, 'subnet', 'create', '--network', 'cli-ipa', '--subnet-range', '10.95.0.0/28', '--no-dhcp', 'cli-ipa-sub'), 'subnet create');
  ok(await openstack(admin, 'port', 'create', '--network', 'cli-ipa', 'cli-ipa-port'), 'port create');
  const list = await openstack(admin, 'ip', 'availability', 'list', '-f', 'json');
  ok(list, 'ip availability list');
  const row = list.json.find((x: any) => x['Network Name'] === 'cli-ipa');
  assert.deepEqual({ total: row['Total IPs'], used: row['Used IPs'] }, { total: 13, used: 1 });
  const v6 = await openstack(admin, 'ip', 'availability', 'list', '--ip-version', '6', '-f', 'json');
  ok(v6, 'ip availability list --ip-version 6');
  assert.equal(v6.json.some((x: any) => x['Network Name'] === 'cli-ipa'), false);
  const shown = await openstack(admin, 'ip', 'availability', 'show', 'cli-ipa', '-f', 'json');
  ok(shown, 'ip availability show');
  assert.equal(shown.json.network_name, 'cli-ipa');
  assert.equal(shown.json.total_ips, 13);
  assert.equal(shown.json.used_ips, 1);
  const subnets = typeof shown.json.subnet_ip_availability === 'string' ? shown.json.subnet_ip_availability : JSON.stringify(shown.json.subnet_ip_availability);
  assert.match(subnets, /10\.95\.0\.0\/28/);
});
