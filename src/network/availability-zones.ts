/**
 * Availability zones (Neutron's `availability_zone` extension): derived, as Neutron derives
 * them, from the agents — a DHCP agent's zone serves networks, an L3 agent's serves routers;
 * a zone is `available` while at least one of its agents is enabled.
 */
import type { FastifyInstance } from 'fastify';
import { agentDef, DHCP_AGENT, L3_AGENT } from './agent-store.js';
import type { NetworkContext } from './context.js';
import { fieldsOf, type Query } from './resource/list.js';
import { findObjs } from './resource/store.js';

/** One zone of one resource kind. */
export interface AvailabilityZone { readonly name: string; readonly resource: 'network' | 'router'; readonly state: 'available' | 'unavailable' }

/** Every zone the registered agents make, one per (name, resource). */
export async function availabilityZones(ctx: NetworkContext): Promise<AvailabilityZone[]> {
  const zones = new Map<string, AvailabilityZone>();
  for (const a of await findObjs(ctx.db, agentDef, { agent_type: [DHCP_AGENT, L3_AGENT] })) {
    if (typeof a.availability_zone !== 'string' || a.availability_zone === '') continue;
    const resource = a.agent_type === DHCP_AGENT ? 'network' : 'router';
    const key = `${a.availability_zone}\u0000${resource}`;
    const up = a.admin_state_up === true || zones.get(key)?.state === 'available';
    zones.set(key, { name: a.availability_zone, resource, state: up ? 'available' : 'unavailable' });
  }
  return [...zones.values()].sort((x, y) => x.name.localeCompare(y.name) || x.resource.localeCompare(y.resource));
}

const values = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** GET /v2.0/availability_zones with `name`, `resource`, `state` filters (repeatable) and `fields`. */
export function registerAvailabilityZones(app: FastifyInstance, ctx: NetworkContext): void {
  app.get('/v2.0/availability_zones', async (req) => {
    const query = req.query as Query;
    const filters = (['name', 'resource', 'state'] as const).map((k) => [k, values(query[k])] as const);
    const fields = fieldsOf(query).filter((f) => f === 'name' || f === 'resource' || f === 'state');
    const zones = (await availabilityZones(ctx)).filter((z) => filters.every(([k, want]) => !want || want.includes(z[k])));
    return {
      availability_zones: zones.map((z) => (fields.length ? Object.fromEntries(fields.map((f) => [f, z[f]])) : { ...z })),
    };
  });
}
