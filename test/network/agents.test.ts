// Agents over HTTP (Neutron's agent, dhcp_agent_scheduler and availability_zone extensions):
// registration and heartbeats by the agents' state reports, alive state, admin-only management,
// DHCP placement of networks (automatic and by hand), and the zones the agents make.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { networkApi, type NetworkApi } from '../lib/network-api.js';
import { AGENT_TYPES, reportAgentState, type AgentState } from '../../src/network/agents.js';
import { dhcpNetworksOfHost } from '../../src/network/dhcp-scheduler.js';
import type { NetworkContext } from '../../src/network/context.js';

let h: IdentityHarness;
let api: NetworkApi;
let ctx: NetworkContext;
let admin: string;
let demo: string;
const host = `t${process.pid}a`;
const STAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

const state = (kind: keyof typeof AGENT_TYPES, on = host, extra: Partial<AgentState> = {}): AgentState => ({ ...AGENT_TYPES[kind], host: on, configurations: { kind }, ...extra });

/** Makes an agent look dead: its last heartbeat long before agent_down_time. */
async function ageHeartbeat(id: string): Promise<void> {
  const row = await ctx.db.selectFrom('net_agent').select('body').where('id', '=', id).executeTakeFirstOrThrow();
  const body = JSON.parse(String(row.body));
  body.heartbeat_timestamp = '2001-01-01 00:00:00';
  await ctx.db.updateTable('net_agent').set({ body: JSON.stringify(body) }).where('id', '=', id).execute();
}

async function networkWithSubnet(token: string, cidr: string, enableDhcp = true): Promise<string> {
  const net = (await api.ok('POST', '/v2.0/networks', token, { network: { name: `dhcp-${cidr}` } })).network;
  await api.ok('POST', '/v2.0/subnets', token, { subnet: { network_id: net.id, ip_version: 4, cidr, enable_dhcp: enableDhcp } });
  return net.id;
}
const hostingAgents = async (net: string): Promise<string[]> => (await api.ok('GET', `/v2.0/networks/${net}/dhcp-agents`, admin)).agents.map((a: any) => a.id);
const hostedNetworks = async (agent: string): Promise<string[]> => (await api.ok('GET', `/v2.0/agents/${agent}/dhcp-networks`, admin)).networks.map((n: any) => n.id);

before(async () => {
  h = await startIdentity();
  api = networkApi(h.networkUrl);
  ctx = h.cloud.network.ctx;
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
});
after(async () => { await h?.close(); });

test('state reports register each agent once, then heartbeat it; the API shows them as Neutron does', async () => {
  const first = await reportAgentState(ctx, state('dhcp', host, { start_flag: true }));
  assert.equal(first.status, 'new');
  assert.equal(first.admin_state_up, true);
  for (const k of ['linuxbridge', 'l3', 'metadata'] as const) assert.equal((await reportAgentState(ctx, state(k))).status, 'new');
  const again = await reportAgentState(ctx, state('dhcp', host, { configurations: { networks: 3 } }));
  assert.deepEqual(again, { id: first.id, status: 'alive', admin_state_up: true });
  // Racing first reports of one agent still make one row.
  const racing = await Promise.all(Array.from({ length: 6 }, () => reportAgentState(ctx, state('dhcp', `${host}r`))));
  assert.equal(new Set(racing.map((r) => r.id)).size, 1);

  const agents = (await api.ok('GET', `/v2.0/agents?host=${host}`, admin)).agents;
  assert.deepEqual(agents.map((a: any) => a.agent_type).sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  const dhcp = agents.find((a: any) => a.agent_type === 'DHCP agent');
  assert.equal(dhcp.id, first.id);
  assert.equal(dhcp.binary, 'neutron-dhcp-agent');
  assert.equal(dhcp.topic, 'dhcp_agent');
  assert.equal(dhcp.alive, true);
  assert.equal(dhcp.admin_state_up, true);
  assert.deepEqual(dhcp.configurations, { networks: 3 });
  assert.equal(dhcp.availability_zone, 'nova');
  assert.equal(dhcp.description, null);
  for (const k of ['created_at', 'started_at', 'heartbeat_timestamp']) assert.match(dhcp[k], STAMP, k);
  assert.equal(agents.find((a: any) => a.agent_type === 'Linux bridge agent').availability_zone, null);
  assert.equal(agents.find((a: any) => a.agent_type === 'L3 agent').availability_zone, 'nova');

  const shown = (await api.ok('GET', `/v2.0/agents/${first.id}?fields=id&fields=alive`, admin)).agent;
  assert.deepEqual(shown, { id: first.id, alive: true });
  const byType = (await api.ok('GET', `/v2.0/agents?agent_type=DHCP%20agent&host=${host}&host=${host}r&sort_key=host&sort_dir=desc`, admin)).agents;
  assert.deepEqual(byType.map((a: any) => a.host), [`${host}r`, host]);
  const paged = await api.ok('GET', `/v2.0/agents?host=${host}&limit=2`, admin);
  assert.equal(paged.agents.length, 2);
  assert.ok(paged.agents_links.some((l: any) => l.rel === 'next'));
  assert.equal((await api.ok('GET', '/v2.0/extensions/agent', demo)).extension.alias, 'agent');
});

test('alive follows the heartbeat: a silent agent is dead, and its next report revives it', async () => {
  const a = await reportAgentState(ctx, state('metadata', `${host}d`));
  await ageHeartbeat(a.id);
  assert.equal((await api.ok('GET', `/v2.0/agents/${a.id}`, admin)).agent.alive, false);
  const dead = (await api.ok('GET', `/v2.0/agents?alive=False&host=${host}d`, admin)).agents;
  assert.deepEqual(dead.map((x: any) => x.id), [a.id]);
  assert.equal((await api.ok('GET', `/v2.0/agents?alive=True&host=${host}d`, admin)).agents.length, 0);
  assert.equal((await reportAgentState(ctx, state('metadata', `${host}d`))).status, 'revived');
  assert.equal((await api.ok('GET', `/v2.0/agents/${a.id}`, admin)).agent.alive, true);
});

test('only admins see and manage agents; updates take admin_state_up and description only', async () => {
  const a = await reportAgentState(ctx, state('linuxbridge', `${host}m`));
  assert.deepEqual((await api.ok('GET', '/v2.0/agents', demo)).agents, [], 'members list nothing (Neutron filters, does not refuse)');
  await api.fault('GET', `/v2.0/agents/${a.id}`, demo, undefined, 404, 'AgentNotFound');
  await api.fault('PUT', `/v2.0/agents/${a.id}`, demo, { agent: { admin_state_up: false } }, 404);
  await api.fault('DELETE', `/v2.0/agents/${a.id}`, demo, undefined, 404);

  const upd = (await api.ok('PUT', `/v2.0/agents/${a.id}`, admin, { agent: { admin_state_up: false, description: 'maintenance' } })).agent;
  assert.equal(upd.admin_state_up, false);
  assert.equal(upd.description, 'maintenance');
  // A heartbeat keeps what the admin set.
  assert.equal((await reportAgentState(ctx, state('linuxbridge', `${host}m`))).admin_state_up, false);
  assert.equal((await api.ok('GET', `/v2.0/agents/${a.id}`, admin)).agent.description, 'maintenance');
  for (const body of [{ agent: { alive: false } }, { agent: { host: 'x' } }, { agent: { admin_state_up: 'maybe' } }, { agent: { description: 7 } },
    { agent: { description: 'x'.repeat(256) } }, { agent: { bogus: 1 } }, { agent: [] }, {}, 'junk', '[1]']) {
    const r = await api.call('PUT', `/v2.0/agents/${a.id}`, admin, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
  }
  await api.fault('GET', '/v2.0/agents/no-such-agent', admin, undefined, 404, 'AgentNotFound');
  await api.fault('GET', '/v2.0/agents?sort_key=nonsense', admin, undefined, 400);

  await api.ok('DELETE', `/v2.0/agents/${a.id}`, admin);
  await api.fault('GET', `/v2.0/agents/${a.id}`, admin, undefined, 404);
  await api.fault('DELETE', `/v2.0/agents/${a.id}`, admin, undefined, 404);
  // It registers again (as a new agent) on its next report, like Neutron's.
  assert.equal((await reportAgentState(ctx, state('linuxbridge', `${host}m`))).status, 'new');
});

test('DHCP scheduling: a network is placed when it gets a DHCP subnet; admins move it; deletes unbind', async () => {
  const agent = await reportAgentState(ctx, state('dhcp', `${host}s`));
  const l3 = await reportAgentState(ctx, state('l3', `${host}s`));
  const noDhcp = await networkWithSubnet(demo, '10.80.0.0/24', false);
  assert.deepEqual(await hostingAgents(noDhcp), [], 'a network without DHCP needs no agent');
  const net = await networkWithSubnet(demo, '10.80.1.0/24');
  const hosts = await hostingAgents(net);
  assert.equal(hosts.length, 1);
  assert.ok((await hostedNetworks(hosts[0]!)).includes(net));

  // Move it by hand to our agent (the tempest flow).
  if (hosts[0] !== agent.id) {
    await api.ok('DELETE', `/v2.0/agents/${hosts[0]}/dhcp-networks/${net}`, admin);
    await api.ok('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, admin, { network_id: net });
  }
  assert.ok((await hostedNetworks(agent.id)).includes(net));
  assert.ok((await dhcpNetworksOfHost(ctx.db, `${host}s`)).includes(net), 'the host serves what its DHCP agent hosts');
  await api.ok('DELETE', `/v2.0/agents/${agent.id}/dhcp-networks/${net}`, admin);
  assert.equal((await hostedNetworks(agent.id)).includes(net), false);
  await api.fault('DELETE', `/v2.0/agents/${agent.id}/dhcp-networks/${net}`, admin, undefined, 409, 'NetworkNotHostedByDhcpAgent');
  // A heartbeat of a live agent does not undo the admin's removal.
  await reportAgentState(ctx, state('dhcp', `${host}s`));
  assert.deepEqual(await hostingAgents(net), []);
  const added = await api.call('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, admin, { network_id: net });
  assert.equal(added.status, 201);
  assert.equal(added.text, 'null');
  await api.fault('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, admin, { network_id: net }, 409, 'NetworkHostedByDHCPAgent');
  await api.fault('POST', `/v2.0/agents/${l3.id}/dhcp-networks`, admin, { network_id: noDhcp }, 404, 'InvalidDHCPAgent');
  await api.fault('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, admin, { network_id: '2d3c1a57-0000-4000-8000-000000000000' }, 404, 'NetworkNotFound');
  await api.fault('POST', '/v2.0/agents/no-such/dhcp-networks', admin, { network_id: net }, 404, 'AgentNotFound');
  for (const body of [{}, { network_id: 5 }, 'junk', [], { network_id: null }]) {
    const r = await api.call('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, admin, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
  }
  await api.fault('GET', `/v2.0/agents/${agent.id}/dhcp-networks`, demo, undefined, 403, 'PolicyNotAuthorized');
  await api.fault('POST', `/v2.0/agents/${agent.id}/dhcp-networks`, demo, { network_id: net }, 403);
  await api.fault('DELETE', `/v2.0/agents/${agent.id}/dhcp-networks/${net}`, demo, undefined, 403);
  await api.fault('GET', `/v2.0/networks/${net}/dhcp-agents`, demo, undefined, 403);
  await api.fault('GET', '/v2.0/networks/no-such/dhcp-agents', admin, undefined, 404, 'NetworkNotFound');
  const listed = (await api.ok('GET', `/v2.0/agents/${agent.id}/dhcp-networks`, admin)).networks.find((n: any) => n.id === net);
  assert.equal(listed.subnets.length, 1, 'networks are rendered whole, with their subnets');
  assert.equal(listed['provider:network_type'], 'vxlan');

  // Deleting the network, or the agent, removes the placement.
  await api.ok('DELETE', `/v2.0/networks/${net}`, demo);
  assert.equal((await hostedNetworks(agent.id)).includes(net), false);
  const other = await networkWithSubnet(demo, '10.80.2.0/24');
  const otherHost = (await hostingAgents(other))[0]!;
  await api.ok('DELETE', `/v2.0/agents/${otherHost}`, admin);
  assert.deepEqual(await hostingAgents(other), []);
});

test('a network made while no DHCP agent is up is placed when one registers; disabled or dead agents get none', async () => {
  const all = (await api.ok('GET', '/v2.0/agents?agent_type=DHCP%20agent', admin)).agents;
  for (const a of all) await api.ok('PUT', `/v2.0/agents/${a.id}`, admin, { agent: { admin_state_up: false } });
  const dead = await reportAgentState(ctx, state('dhcp', `${host}x`));
  await ageHeartbeat(dead.id);
  try {
    const net = await networkWithSubnet(demo, '10.81.0.0/24');
    assert.deepEqual(await hostingAgents(net), [], 'no enabled, alive DHCP agent: unplaced');
    const fresh = await reportAgentState(ctx, state('dhcp', `${host}n`, { start_flag: true }));
    assert.deepEqual(await hostingAgents(net), [fresh.id]);
    assert.deepEqual(await dhcpNetworksOfHost(ctx.db, `${host}n`), await hostedNetworks(fresh.id));
  } finally {
    for (const a of all) await api.ok('PUT', `/v2.0/agents/${a.id}`, admin, { agent: { admin_state_up: true } });
  }
});

test('availability zones come from the DHCP (network) and L3 (router) agents, with filters', async () => {
  await reportAgentState(ctx, state('dhcp', `${host}z`));
  await reportAgentState(ctx, state('l3', `${host}z`));
  await reportAgentState(ctx, state('dhcp', `${host}z2`, { availability_zone: 'az-two' }));
  const zones = (await api.ok('GET', '/v2.0/availability_zones', demo)).availability_zones;
  assert.ok(zones.some((z: any) => z.name === 'nova' && z.resource === 'network' && z.state === 'available'), JSON.stringify(zones));
  assert.ok(zones.some((z: any) => z.name === 'nova' && z.resource === 'router' && z.state === 'available'));
  assert.ok(zones.some((z: any) => z.name === 'az-two' && z.resource === 'network'));
  assert.equal(zones.some((z: any) => z.name === 'az-two' && z.resource === 'router'), false);
  for (const z of zones) assert.deepEqual(Object.keys(z).sort(), ['name', 'resource', 'state']);
  const routers = (await api.ok('GET', '/v2.0/availability_zones?resource=router', demo)).availability_zones;
  assert.ok(routers.length >= 1 && routers.every((z: any) => z.resource === 'router'));
  assert.deepEqual((await api.ok('GET', '/v2.0/availability_zones?name=az-two&fields=name', demo)).availability_zones, [{ name: 'az-two' }]);
  // A zone whose agents are all disabled is unavailable.
  const two = (await api.ok('GET', `/v2.0/agents?host=${host}z2`, admin)).agents[0];
  await api.ok('PUT', `/v2.0/agents/${two.id}`, admin, { agent: { admin_state_up: false } });
  assert.deepEqual((await api.ok('GET', '/v2.0/availability_zones?name=az-two', demo)).availability_zones, [{ name: 'az-two', resource: 'network', state: 'unavailable' }]);
  assert.deepEqual((await api.ok('GET', '/v2.0/availability_zones?name=az-two&state=available', demo)).availability_zones, []);
  const aliases = (await api.ok('GET', '/v2.0/extensions', demo)).extensions.map((e: any) => e.alias);
  for (const a of ['agent', 'dhcp_agent_scheduler', 'availability_zone', 'availability_zone_filter']) assert.ok(aliases.includes(a), a);
});
