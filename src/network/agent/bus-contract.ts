/**
 * The agent ↔ server contract on the message bus (multi-node): topic and method names and the
 * plain-JSON payloads, shared by the server side (bus-server.ts) and the agents on other hosts
 * (bus-client.ts). The same three operations as the in-process `AgentServer`, plus a fanout that
 * tells every agent the desired state changed, so they converge without waiting for a resync.
 *
 * - call `network.host_state`      {host}                               → DesiredHostState
 * - call `network.port_status`     {active: [port id], down: [port id]} → null
 * - call `network.floatingip_status` {active: [floating IP id], down: [floating IP id]} → null
 * - call `network.agent_heartbeat` {host, configurations, start_flag}   → null
 * - call `network.metadata_instance` {network_id, ip}                   → {instanceId, projectId} | null
 * - fanout `network_agent.changed` {changes: [{kind, id}], truncated}   (agents serve `network_agent`)
 *
 * Agents serve a topic of their own: were they to serve `network`, they would compete with the
 * servers for the calls above.
 */

/** Topic the network servers serve (every API process of the network service). */
export const SERVER_TOPIC = 'network';

/** Topic every network agent serves (fanouts; `network_agent.<host>` for one host). */
export const AGENT_TOPIC = 'network_agent';

/** Method names on those topics. */
export const METHOD = {
  hostState: 'host_state',
  portStatus: 'port_status',
  floatingIpStatus: 'floatingip_status',
  heartbeat: 'agent_heartbeat',
  metadataInstance: 'metadata_instance',
  changed: 'changed',
} as const;

/** Arguments of `host_state`. */
export interface HostStateArgs { readonly host: string }

/** Arguments of `port_status` and `floatingip_status`. */
export interface PortStatusArgs { readonly active: readonly string[]; readonly down: readonly string[] }

/** Arguments of `agent_heartbeat` (Neutron's agent_state, reduced to what varies per host). */
export interface HeartbeatArgs {
  readonly host: string;
  readonly configurations: Readonly<Record<string, unknown>>;
  readonly start_flag: boolean;
}

/** Arguments of `metadata_instance`: the instance behind an address on a network (the metadata proxy's question). */
export interface MetadataInstanceArgs { readonly network_id: string; readonly ip: string }

/** One data-plane change (what `ctx.changed(kind, id)` said). */
export interface Change { readonly kind: string; readonly id: string }

/** Arguments of the `changed` fanout: the changes since the last one (informational; agents refetch their whole state). */
export interface ChangedArgs { readonly changes: readonly Change[]; readonly truncated: boolean }

/** Most changes listed in one fanout (a bulk API call can make thousands; agents need only the poke). */
export const MAX_CHANGES_LISTED = 100;

/** A malformed request on the bus (the caller sees a BusRemoteError with this name). */
export class BadAgentRequest extends Error {
  override readonly name = 'BadAgentRequest';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
// Host names become namespace names and paths on the agent's side; the server checks them too.
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function host(v: unknown): string {
  if (typeof v !== 'string' || !HOST_RE.test(v)) throw new BadAgentRequest(`invalid host: ${JSON.stringify(v)}`);
  return v;
}

/** Checks `host_state` arguments. */
export function parseHostState(args: unknown): HostStateArgs {
  if (!isObject(args)) throw new BadAgentRequest('host_state takes {host}');
  return { host: host(args.host) };
}

/** Checks `port_status` arguments. */
export function parsePortStatus(args: unknown, method: string = METHOD.portStatus): PortStatusArgs {
  if (!isObject(args) || !isStringList(args.active) || !isStringList(args.down)) throw new BadAgentRequest(`${method} takes {active: [id], down: [id]}`);
  return { active: args.active, down: args.down };
}

/** Checks `agent_heartbeat` arguments. */
export function parseHeartbeat(args: unknown): HeartbeatArgs {
  if (!isObject(args) || !isObject(args.configurations) || typeof args.start_flag !== 'boolean') {
    throw new BadAgentRequest('agent_heartbeat takes {host, configurations: {}, start_flag: boolean}');
  }
  return { host: host(args.host), configurations: args.configurations, start_flag: args.start_flag };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks `metadata_instance` arguments. */
export function parseMetadataInstance(args: unknown): MetadataInstanceArgs {
  if (!isObject(args) || typeof args.network_id !== 'string' || !UUID_RE.test(args.network_id) || typeof args.ip !== 'string' || args.ip.length > 64) {
    throw new BadAgentRequest('metadata_instance takes {network_id: uuid, ip: address}');
  }
  return { network_id: args.network_id, ip: args.ip };
}
