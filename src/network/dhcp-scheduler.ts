/**
 * The DHCP agent scheduler (Neutron's `dhcp_agent_scheduler` extension): which DHCP agent
 * serves each network. A network with a DHCP-enabled subnet is placed on the least loaded
 * enabled, alive DHCP agent when the subnet appears, or when such an agent reports in later;
 * admins list, add and remove placements. The network agent serves DHCP for the networks
 * bound to its host's DHCP agent (`dhcpNetworksOfHost`).
 */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../platform/http/faults.js';
import { agentDef, agentOnHost, candidateAgents, decorateAgents, DHCP_AGENT, loadAgent } from './agent-store.js';
import type { Caller, NetworkContext } from './context.js';
import { netFault, notFoundOf } from './faults.js';
import { networkDef } from './networks.js';
import { render } from './resource/body.js';
import { callerOf } from './resource/routes.js';
import { findObjs, getObj, type Db } from './resource/store.js';
import { isUniqueViolation, transact } from './resource/tx.js';
import type { Obj } from './resource/types.js';

const TABLE = 'net_dhcp_agent_binding';

/** Whether a subnet needs a DHCP server (IPv6 SLAAC subnets are served by router adverts). */
const needsDhcp = (s: Obj): boolean => s.enable_dhcp === true && !(s.ip_version === 6 && s.ipv6_address_mode === 'slaac');

/** Ids of the agents hosting a network. */
export async function dhcpAgentIdsOf(db: Db, networkId: string): Promise<string[]> {
  return (await db.selectFrom(TABLE).select('agent_id').where('network_id', '=', networkId).execute()).map((r) => String(r.agent_id));
}

/** Ids of the networks a DHCP agent hosts. */
export async function networkIdsOfAgent(db: Db, agentId: string): Promise<string[]> {
  return (await db.selectFrom(TABLE).select('network_id').where('agent_id', '=', agentId).orderBy('network_id').execute()).map((r) => String(r.network_id));
}

/** The networks whose DHCP `host`'s (enabled) DHCP agent serves — what that host's dnsmasqs run for. */
export async function dhcpNetworksOfHost(db: Db, host: string): Promise<string[]> {
  const agent = await agentOnHost(db, DHCP_AGENT, host);
  if (!agent || agent.admin_state_up !== true) return [];
  return networkIdsOfAgent(db, agent.id);
}

async function bind(db: Db, networkId: string, agentId: string): Promise<void> {
  await db.insertInto(TABLE).values({ network_id: networkId, agent_id: agentId }).execute();
}

/** The least loaded candidate (fewest networks; ties by id so placement is deterministic). */
async function leastLoaded(db: Db, agents: readonly Obj[]): Promise<Obj | undefined> {
  let best: { agent: Obj; load: number } | undefined;
  for (const a of [...agents].sort((x, y) => x.id.localeCompare(y.id))) {
    const r = await db.selectFrom(TABLE).select((eb) => eb.fn.countAll().as('n')).where('agent_id', '=', a.id).executeTakeFirst();
    const load = Number(r?.n ?? 0);
    if (!best || load < best.load) best = { agent: a, load };
  }
  return best?.agent;
}

/**
 * Places a network on a DHCP agent if it needs one (a DHCP-enabled subnet among `subnets`) and
 * has none (Neutron's dhcp_agents_per_network = 1). Runs in the caller's transaction; a no-op
 * when no DHCP agent is alive — the network is placed when one reports.
 */
export async function scheduleNetwork(ctx: NetworkContext, tx: Db, networkId: string, subnets: readonly Obj[]): Promise<void> {
  if (!subnets.some(needsDhcp)) return;
  if ((await dhcpAgentIdsOf(tx, networkId)).length > 0) return;
  const agent = await leastLoaded(tx, await candidateAgents(ctx, tx, DHCP_AGENT));
  if (agent) await bind(tx, networkId, agent.id);
}

/**
 * An agent-report hook: a DHCP agent that (re)registers takes every network that needs DHCP and
 * has no agent (Neutron's auto_schedule_networks), so networks made while none was up are served.
 */
export async function autoScheduleNetworks(tx: Db, agent: Obj): Promise<void> {
  if (agent.agent_type !== DHCP_AGENT) return;
  const unhosted = await tx.selectFrom('net_subnet').select('body')
    .where('network_id', 'not in', tx.selectFrom(TABLE).select('network_id'))
    .execute();
  const wanting = new Set<string>();
  for (const r of unhosted) {
    const s = JSON.parse(String(r.body)) as Obj;
    if (needsDhcp(s)) wanting.add(String(s.network_id));
  }
  for (const n of wanting) await bind(tx, n, agent.id);
}

/** Removes every placement of a network (before it is deleted). */
export async function unbindNetwork(tx: Db, networkId: string): Promise<void> {
  await tx.deleteFrom(TABLE).where('network_id', '=', networkId).execute();
}

/** Removes every placement on an agent (before it is deleted). */
export async function unbindDhcpAgent(tx: Db, agent: Obj): Promise<void> {
  await tx.deleteFrom(TABLE).where('agent_id', '=', agent.id).execute();
}

const denied = (rule: string) => netFault(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);
function adminOnly(caller: Caller, rule: string): void {
  if (!caller.isAdmin) throw denied(rule);
}

/** Networks as an admin sees them, with their subnet ids. */
async function renderNetworks(ctx: NetworkContext, ids: readonly string[], caller: Caller): Promise<Record<string, unknown>[]> {
  if (ids.length === 0) return [];
  const nets = await findObjs(ctx.db, networkDef, { id: [...ids] });
  const subnets = await ctx.db.selectFrom('net_subnet').select(['id', 'network_id']).where('network_id', 'in', [...ids]).orderBy('id').execute();
  return nets.sort((a, b) => a.id.localeCompare(b.id)).map((n) => render(networkDef, { ...n, subnets: subnets.filter((s) => s.network_id === n.id).map((s) => String(s.id)) }, caller));
}

/** The scheduler routes: /agents/{id}/dhcp-networks[/{network_id}] and /networks/{id}/dhcp-agents. */
export function registerDhcpScheduler(app: FastifyInstance, ctx: NetworkContext): void {
  const base = '/v2.0/agents/:id/dhcp-networks';
  app.get(base, async (req) => {
    const caller = callerOf(ctx, req);
    adminOnly(caller, 'get_dhcp-networks');
    const agent = await loadAgent(ctx, (req.params as { id: string }).id, caller);
    return { networks: await renderNetworks(ctx, await networkIdsOfAgent(ctx.db, agent.id), caller) };
  });
  app.post(base, async (req, reply) => {
    const caller = callerOf(ctx, req);
    adminOnly(caller, 'create_dhcp-network');
    const body = req.body as Record<string, unknown> | undefined;
    const networkId = body && typeof body === 'object' && !Array.isArray(body) ? body.network_id : undefined;
    if (typeof networkId !== 'string') throw badRequest("Invalid input for network_id. Reason: 'network_id' must be given as a string.");
    const agentId = (req.params as { id: string }).id;
    await transact(ctx, async (tx) => {
      if (!await getObj(tx, networkDef, networkId)) throw networkDef.notFound(networkId);
      const agent = await getObj(tx, agentDef, agentId);
      if (!agent) throw agentDef.notFound(agentId);
      if (agent.agent_type !== DHCP_AGENT || agent.admin_state_up !== true) {
        throw notFoundOf('InvalidDHCPAgent', `Agent ${agentId} is not a valid DHCP Agent or has been disabled.`);
      }
      const hosted = () => netFault(409, 'NetworkHostedByDHCPAgent', `The network ${networkId} has been already hosted by the DHCP Agent ${agentId}.`);
      const hosts = await dhcpAgentIdsOf(tx, networkId);
      if (hosts.includes(agentId)) throw Object.assign(hosted(), { retry: false });
      // A network has one DHCP port, so one DHCP server: a second one would answer with the same address.
      if (hosts.length > 0) {
        throw Object.assign(netFault(409, 'NetworkHostedByDHCPAgent', `The network ${networkId} is already hosted by the DHCP Agent ${hosts[0]}; `
          + 'this cloud serves each network from one DHCP agent (dhcp_agents_per_network = 1): remove it from that agent first.'), { retry: false });
      }
      try {
        await bind(tx, networkId, agentId);
      } catch (err) {
        if (isUniqueViolation(err)) throw Object.assign(hosted(), { retry: false });
        throw err;
      }
    });
    ctx.notify('dhcp_agent.network.add', { network_id: networkId, agent_id: agentId });
    ctx.changed('network', networkId);
    // Neutron answers 201 with a JSON null (the SDK parses the body).
    reply.status(201).type('application/json').send('null');
  });
  app.delete(`${base}/:network_id`, async (req, reply) => {
    const caller = callerOf(ctx, req);
    adminOnly(caller, 'delete_dhcp-network');
    const { id: agentId, network_id: networkId } = req.params as { id: string; network_id: string };
    await loadAgent(ctx, agentId, caller);
    const r = await ctx.db.deleteFrom(TABLE).where('agent_id', '=', agentId).where('network_id', '=', networkId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw netFault(409, 'NetworkNotHostedByDhcpAgent', `The network ${networkId} is not hosted by the DHCP Agent ${agentId}.`);
    ctx.notify('dhcp_agent.network.remove', { network_id: networkId, agent_id: agentId });
    ctx.changed('network', networkId);
    reply.status(204).send();
  });
  app.get('/v2.0/networks/:id/dhcp-agents', async (req) => {
    const caller = callerOf(ctx, req);
    adminOnly(caller, 'get_dhcp-agents');
    const networkId = (req.params as { id: string }).id;
    if (!await getObj(ctx.db, networkDef, networkId)) throw networkDef.notFound(networkId);
    const ids = await dhcpAgentIdsOf(ctx.db, networkId);
    const agents = ids.length ? await findObjs(ctx.db, agentDef, { id: ids }) : [];
    decorateAgents(ctx, agents);
    return { agents: agents.map((a) => render(agentDef, a, caller)) };
  });
}
