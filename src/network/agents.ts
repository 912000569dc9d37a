/**
 * Agents (Neutron's `agent` extension): one row per (agent type, host), registered and kept
 * alive by the network agent's state reports; admins list, show, enable/disable, describe and
 * delete them. `alive` is computed when read: a heartbeat within `network.agent_down_time`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { agentDef, agentStamp, decorateAgents, DHCP_AGENT, isAlive, L3_AGENT, loadAgent } from './agent-store.js';
import type { NetworkContext } from './context.js';
import { autoScheduleNetworks, unbindDhcpAgent } from './dhcp-scheduler.js';
import { AVAILABILITY_ZONE } from './networks.js';
import { render, updateAttrs } from './resource/body.js';
import { fieldsOf, type Query } from './resource/list.js';
import { callerOf, listFor, type ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, getObj, insertObj } from './resource/store.js';
import { transact } from './resource/tx.js';
import type { Obj } from './resource/types.js';

export { AGENT_TYPES, DHCP_AGENT, L3_AGENT, agentDef, isAlive } from './agent-store.js';

/** What an agent reports about itself on every heartbeat (Neutron's agent_state). */
export interface AgentState {
  readonly host: string;
  /** One of AGENT_TYPES' names, e.g. 'DHCP agent'. */
  readonly agent_type: string;
  readonly binary: string;
  readonly topic: string;
  readonly configurations?: Readonly<Record<string, unknown>>;
  /** DHCP and L3 agents serve an availability zone (default `nova`); other agents none. */
  readonly availability_zone?: string | null;
  /** True on the first report after the agent process started (sets `started_at`, re-runs scheduling). */
  readonly start_flag?: boolean;
}

/** What the server answers a report with. */
export interface AgentReportResult {
  readonly id: string;
  /** `new` on first registration, `revived` when it had been dead, else `alive`. */
  readonly status: 'new' | 'alive' | 'revived';
  /** An agent an admin disabled should stop serving (Neutron's agents honour it likewise). */
  readonly admin_state_up: boolean;
}

/**
 * Registers an agent or records its heartbeat (Neutron's create_or_update_agent): upserts the
 * row of (agent_type, host) and sets `heartbeat_timestamp`. When an enabled DHCP agent is new,
 * revived or restarted (`start_flag`) it takes every network that needs DHCP and has no agent.
 * Called by the network agent in-process, or behind a bus call from other hosts.
 */
export async function reportAgentState(ctx: NetworkContext, state: AgentState): Promise<AgentReportResult> {
  const now = agentStamp();
  const az = state.availability_zone !== undefined ? state.availability_zone
    : state.agent_type === DHCP_AGENT || state.agent_type === L3_AGENT ? AVAILABILITY_ZONE : null;
  const result = await transact(ctx, async (tx) => {
    const existing = (await findObjs(tx, agentDef, { agent_type: state.agent_type, host: state.host }))[0];
    const reported = {
      agent_type: state.agent_type, binary: state.binary, topic: state.topic, host: state.host,
      configurations: state.configurations ?? {}, availability_zone: az, heartbeat_timestamp: now,
    };
    let agent: Obj;
    let status: AgentReportResult['status'];
    if (existing) {
      status = isAlive(ctx, existing) ? 'alive' : 'revived';
      agent = { ...existing, ...reported, ...(state.start_flag ? { started_at: now } : {}) };
      await tx.updateTable('net_agent').set({ body: JSON.stringify(agent) }).where('id', '=', agent.id).execute();
    } else {
      status = 'new';
      agent = { id: randomUUID(), ...reported, admin_state_up: true, created_at: now, started_at: now, description: null, resources_synced: null };
      // A racing first report of the same agent loses on (agent_type, host) and the transaction retries.
      await insertObj(tx, agentDef, agent);
    }
    // Like Neutron's auto-scheduling on an agent's (re)sync — not on every heartbeat, so an
    // admin's removal of a placement sticks while the agent stays up.
    const syncing = status !== 'alive' || state.start_flag === true;
    if (syncing && agent.admin_state_up === true) await autoScheduleNetworks(tx, agent);
    return { id: agent.id, status, admin_state_up: agent.admin_state_up === true, syncing };
  });
  if (result.syncing) {
    ctx.log.info({ agent_type: state.agent_type, host: state.host, status: result.status }, 'agent (re)registered');
    ctx.changed('agent', result.id);
  }
  return { id: result.id, status: result.status, admin_state_up: result.admin_state_up };
}

const baseUrlOf = (req: FastifyRequest): string => `${req.protocol}://${req.headers.host ?? 'localhost'}${req.url.split('?')[0]}`;

/** The agent routes: list, show, update (admin_state_up, description), delete — admin only. */
export function registerAgents(app: FastifyInstance, ctx: NetworkContext): void {
  const b: ResourceBehaviour = { def: agentDef, decorate: async (objs) => decorateAgents(ctx, objs) };
  const path = `/v2.0/${agentDef.collection}`;
  app.get(path, async (req) => {
    const caller = callerOf(ctx, req);
    // Listing agents is admin-only; Neutron filters everything out rather than refusing.
    if (!caller.isAdmin) return { agents: [] };
    return listFor(ctx, b, req.query as Query, caller, baseUrlOf(req));
  });
  app.get(`${path}/:id`, async (req) => {
    const caller = callerOf(ctx, req);
    const obj = await loadAgent(ctx, (req.params as { id: string }).id, caller);
    decorateAgents(ctx, [obj]);
    return { agent: render(agentDef, obj, caller, fieldsOf(req.query as Query)) };
  });
  app.put(`${path}/:id`, async (req) => {
    const caller = callerOf(ctx, req);
    const id = (req.params as { id: string }).id;
    await loadAgent(ctx, id, caller);
    const attrs = updateAttrs(agentDef, req.body, caller);
    // Re-read inside the transaction: a heartbeat may have rewritten the row meanwhile.
    const next = await transact(ctx, async (tx) => {
      const cur = await getObj(tx, agentDef, id);
      if (!cur) throw agentDef.notFound(id);
      const updated: Obj = { ...cur, ...attrs };
      await tx.updateTable('net_agent').set({ body: JSON.stringify(updated) }).where('id', '=', id).execute();
      return updated;
    });
    ctx.changed('agent', id);
    decorateAgents(ctx, [next]);
    return { agent: render(agentDef, next, caller) };
  });
  app.delete(`${path}/:id`, async (req, reply) => {
    const caller = callerOf(ctx, req);
    const obj = await loadAgent(ctx, (req.params as { id: string }).id, caller);
    await transact(ctx, async (tx) => {
      await unbindDhcpAgent(tx, obj);
      await deleteObj(tx, agentDef, obj.id);
    });
    ctx.changed('agent', obj.id);
    reply.status(204).send();
  });
}
