/**
 * Agent rows: the attribute map of Neutron's `agent` resource, Neutron's agent names, and the
 * reads the API and the schedulers share (alive state, candidates for placing work).
 */
import type { Caller, NetworkContext } from './context.js';
import { notFoundOf } from './faults.js';
import { findObjs, getObj, type Db } from './resource/store.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, stringOrNone } from './resource/validate.js';

/** Agent types, binaries and topics as Neutron names them (clients and tempest look for these). */
export const AGENT_TYPES = {
  linuxbridge: { agent_type: 'Linux bridge agent', binary: 'neutron-linuxbridge-agent', topic: 'N/A' },
  dhcp: { agent_type: 'DHCP agent', binary: 'neutron-dhcp-agent', topic: 'dhcp_agent' },
  l3: { agent_type: 'L3 agent', binary: 'neutron-l3-agent', topic: 'l3_agent' },
  metadata: { agent_type: 'Metadata agent', binary: 'neutron-metadata-agent', topic: 'N/A' },
} as const;
export const DHCP_AGENT = AGENT_TYPES.dhcp.agent_type;
export const L3_AGENT = AGENT_TYPES.l3.agent_type;

export const agentDef: ResourceDef = {
  member: 'agent', collection: 'agents', table: 'net_agent',
  columns: { host: 'host', agent_type: 'agent_type' },
  sqlFilters: ['host', 'agent_type'],
  notFound: (id) => notFoundOf('AgentNotFound', `Agent ${id} could not be found.`),
  attributes: {
    id: { post: false, put: false },
    agent_type: { post: false, put: false },
    binary: { post: false, put: false },
    topic: { post: false, put: false },
    host: { post: false, put: false },
    admin_state_up: { post: false, put: true, check: boolean },
    created_at: { post: false, put: false },
    started_at: { post: false, put: false },
    heartbeat_timestamp: { post: false, put: false },
    alive: { post: false, put: false },
    configurations: { post: false, put: false, filter: false },
    description: { post: false, put: true, check: stringOrNone(255) },
    availability_zone: { post: false, put: false },
    resources_synced: { post: false, put: false },
  },
};

/** Neutron renders agent times as `2017-09-12 19:39:56` (UTC, no zone). */
export const agentStamp = (d = new Date()): string => d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
const stampMs = (s: unknown): number => (typeof s === 'string' ? Date.parse(`${s.replace(' ', 'T')}Z`) : NaN);

/** Whether an agent's last heartbeat is within `agent_down_time` of `now`. */
export function isAlive(ctx: NetworkContext, agent: Obj, now = Date.now()): boolean {
  const at = stampMs(agent.heartbeat_timestamp);
  return Number.isFinite(at) && now - at <= ctx.config.network.agent_down_time * 1000;
}

/** Adds `alive` to agents (in place). */
export function decorateAgents(ctx: NetworkContext, objs: Obj[]): void {
  const now = Date.now();
  for (const o of objs) (o as Record<string, unknown>).alive = isAlive(ctx, o, now);
}

/** The agent of `agentType` on `host`, if registered. */
export async function agentOnHost(db: Db, agentType: string, host: string): Promise<Obj | undefined> {
  return (await findObjs(db, agentDef, { agent_type: agentType, host }))[0];
}

/** Agents to place work on: enabled, alive, of the type. */
export async function candidateAgents(ctx: NetworkContext, db: Db, agentType: string): Promise<Obj[]> {
  const now = Date.now();
  return (await findObjs(db, agentDef, { agent_type: agentType })).filter((a) => a.admin_state_up === true && isAlive(ctx, a, now));
}

/** Loads an agent for an admin; everyone else is told it does not exist (Neutron hides agents). */
export async function loadAgent(ctx: NetworkContext, id: string, caller: Caller): Promise<Obj> {
  const obj = caller.isAdmin ? await getObj(ctx.db, agentDef, id) : undefined;
  if (!obj) throw agentDef.notFound(id);
  return obj;
}
