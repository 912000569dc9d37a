/**
 * Nova's floating IP proxy APIs (deprecated; 404 from microversion 2.36): `/os-floating-ips`
 * (the caller's project's floating IPs: list, show, allocate from a pool, release) and
 * `/os-floating-ip-pools` (the external networks). A pool is an external network, named or by
 * id; without one the external network is used (the only one, else the one named `public`). The
 * view is Nova's: `ip`, `fixed_ip`, `instance_id` (the device of the associated port), `pool`
 * (the network's name). Everything passes through to the network service with the caller's token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { params, type ComputeRoutes } from '../api/http.js';
import { isUuidLike } from '../api/actions.js';
import { validateBody, type Schema } from '../api/schema.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import type { ComputeContext } from '../context.js';
import type { NetFloatingIp, NetNetwork, NetworkClient } from '../clients/network.js';
import type { ServersApiDeps } from '../servers/api.js';
import { getInstance, updateInstance } from '../servers/store.js';
import { refreshAddresses } from '../servers/conductor.js';
import { callerNetwork, capVersion, netCall } from './common.js';
import { serversDb } from '../servers/lookup.js';

export const fipRule = (op: string): string => `os_compute_api:os-floating-ips:${op}`;

/** Names of the floating IPs' networks (a pool is shown by name, or by id when it has none). */
export async function poolNames(net: NetworkClient, fips: readonly NetFloatingIp[]): Promise<Map<string, string>> {
  const ids = [...new Set(fips.map((f) => f.floating_network_id))];
  const out = new Map<string, string>(ids.map((id) => [id, id]));
  for (let k = 0; k < ids.length; k += 100) {
    for (const n of await net.networks({ id: ids.slice(k, k + 100) })) out.set(n.id, n.name || n.id);
  }
  return out;
}

/** The device of each associated port (fip-port-details, else the port read), for `instance_id`. */
async function devices(net: NetworkClient, fips: readonly NetFloatingIp[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const f of fips) {
    if (f.port_details !== undefined) out.set(f.id, f.port_details?.device_id ?? null);
    else out.set(f.id, f.port_id ? (await net.port(f.port_id))?.device_id ?? null : null);
  }
  return out;
}

/** Floating IPs in Nova's shape. */
export async function fipViews(net: NetworkClient, fips: readonly NetFloatingIp[]): Promise<Record<string, unknown>[]> {
  const pools = await poolNames(net, fips);
  const devs = await devices(net, fips);
  return fips.map((f) => ({
    fixed_ip: f.fixed_ip_address ?? null, id: f.id, instance_id: devs.get(f.id) ?? null, ip: f.floating_ip_address,
    pool: pools.get(f.floating_network_id) ?? f.floating_network_id,
  }));
}

/** The external network a pool names (by id or name); Nova's 404 when there is none. */
async function poolNetwork(net: NetworkClient, pool: string): Promise<NetNetwork> {
  const nets = await net.networks({ 'router:external': 'true', ...(isUuidLike(pool) ? { id: pool } : { name: pool }) });
  if (nets.length === 0) throw notFound('Floating IP pool not found.');
  if (nets.length > 1) throw badRequest(`Multiple floating IP pools matches found for name '${pool}'`);
  return nets[0]!;
}

/** The pool used when none is named: the only external network, else the one named `public`. */
async function defaultPool(net: NetworkClient): Promise<NetNetwork> {
  const ext = await net.networks({ 'router:external': 'true' });
  if (ext.length === 1) return ext[0]!;
  return poolNetwork(net, 'public');
}

/** Re-reads an instance's addresses after its floating IPs changed (Nova's refresh_cache; best effort). */
export async function refreshInstance(ctx: ComputeContext, network: NetworkClient, uuid: string | null | undefined): Promise<void> {
  if (!uuid || !isUuidLike(uuid)) return;
  try {
    const db = serversDb(ctx);
    const inst = await getInstance(db, uuid);
    if (!inst || inst.body.ports.length === 0) return;
    await updateInstance(db, inst.uuid, { body: { addresses: await refreshAddresses(network, inst) } });
  } catch (err) {
    ctx.log.debug({ err, uuid }, 'addresses not refreshed');
  }
}

const CREATE_BODY: Schema = { type: ['object', 'null'], properties: { pool: { type: ['string', 'null'] } } };

export function registerFloatingIps(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const id = (req: FastifyRequest) => params<{ id: string }>(req).id;

  /** A floating IP of the caller's, or Nova's 404. */
  const getFip = async (net: NetworkClient, fipId: string): Promise<NetFloatingIp> => {
    const f = await netCall(() => net.floatingIp(fipId), (r) => (r.status === 400 ? badRequest(r.message) : undefined));
    if (!f) throw notFound(`Floating IP not found for ID ${fipId}`);
    return f;
  };

  routes.get('/os-floating-ips', async (req) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, fipRule('list'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const fips = await netCall(() => net.floatingIpList({ project_id: caller.projectId }));
    return { floating_ips: await netCall(() => fipViews(net, fips)) };
  });

  routes.get('/os-floating-ips/:id', async (req) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, fipRule('show'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const f = await getFip(net, id(req));
    return { floating_ip: (await netCall(() => fipViews(net, [f])))[0] };
  });

  routes.post('/os-floating-ips', async (req) => {
    capVersion(req);
    const body = req.body === undefined || req.body === '' ? null : req.body;
    validateBody(CREATE_BODY, body);
    const caller = routes.caller(req);
    ctx.authorize(caller, fipRule('create'), { project_id: caller.projectId });
    const pool = (body as { pool?: string | null } | null)?.pool || null;
    const net = callerNetwork(d.network, req);
    const network = await netCall(() => (pool ? poolNetwork(net, pool) : defaultPool(net)));
    const made = await netCall(() => net.createFloatingIp({ floating_network_id: network.id }), (r) => {
      if (['ExternalIpAddressExhausted', 'IpAddressGenerationFailure'].includes(r.type)) {
        return notFound(pool ? `No more floating IPs in pool ${pool}.` : 'No more floating IPs available.');
      }
      if (r.type === 'OverQuota' || r.status === 409) return forbidden(pool ? `IP allocation over quota in pool ${pool}.` : 'IP allocation over quota.');
      if (r.status === 400) return badRequest(r.message);
      return undefined;
    });
    return { floating_ip: (await netCall(() => fipViews(net, [made])))[0] };
  });

  routes.delete('/os-floating-ips/:id', async (req, reply: FastifyReply) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, fipRule('delete'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const f = await getFip(net, id(req));
    const device = f.port_id ? (await netCall(() => devices(net, [f]))).get(f.id) : null;
    await netCall(() => net.deleteFloatingIp(f.id), (r) => (r.status === 404 ? notFound(`Floating IP not found for address ${f.floating_ip_address}.`) : undefined));
    await refreshInstance(ctx, d.network, device);
    reply.status(202);
    return reply.send();
  });

  routes.get('/os-floating-ip-pools', async (req) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-floating-ip-pools', {});
    const net = callerNetwork(d.network, req);
    const pools = await netCall(() => net.networks({ 'router:external': 'true' }));
    return { floating_ip_pools: pools.map((n) => ({ name: n.name || n.id })) };
  });
}
