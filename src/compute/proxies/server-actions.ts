/**
 * The server actions of Nova's floating IP proxy, dispatched by `POST /servers/{id}/action`:
 * `addFloatingIp` (a floating IP of the caller's to the server's first fixed IPv4 address, or to
 * `fixed_address`) and `removeFloatingIp`, up to microversion 2.43 (a bare 404 from 2.44, as in
 * Nova). Both 202, done through the network service with the caller's token.
 *
 * This module does not import the servers API module (it is imported while that one loads).
 */
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { atLeast } from '../api/http.js';
import { isUuidLike } from '../api/actions.js';
import { pyRepr, validateBody, type Schema } from '../api/schema.js';
import { badRequest, conflict, forbidden, notFound } from '../faults.js';
import type { Caller } from '../context.js';
import type { NetFloatingIp, NetPort, NetworkClient } from '../clients/network.js';
import type { ServersApiDeps } from '../servers/api.js';
import { getInstance } from '../servers/store.js';
import { callerNetwork, netCall, versionNotFound } from './common.js';
import { serversDb, visibleInstance } from '../servers/lookup.js';
import { fipRule, refreshInstance } from './floating-ips.js';

type ProxyAction = (d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string) => Promise<unknown>;

const actionBody = (action: string, properties: Record<string, Schema>): Schema => ({
  type: 'object',
  properties: { [action]: { type: 'object', properties, required: ['address'], additionalProperties: false } },
  required: [action],
  additionalProperties: false,
});

/** Nova's ip_address parameter: a string that is an IPv4 or IPv6 address. */
function checkAddress(field: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'string' || !isIP(v))) {
    throw badRequest(`Invalid input for field/attribute ${field}. Value: ${String(v)}. ${pyRepr(v)} is not valid under any of the given schemas`);
  }
}

const accepted = (reply: FastifyReply) => { reply.status(202); return reply.send(); };

/** The only floating IP of an address the caller sees (Nova's _get_floating_ip_by_address). */
async function fipByAddress(net: NetworkClient, address: string, missing: () => Error, many: () => Error): Promise<NetFloatingIp> {
  const fips = address ? await netCall(() => net.floatingIpList({ floating_ip_address: address })) : [];
  if (fips.length === 0) throw missing();
  if (fips.length > 1) throw many();
  return fips[0]!;
}

const addFloatingIp: ProxyAction = async (d, req, reply, caller, id) => {
  if (atLeast(req, '2.44')) throw versionNotFound();
  validateBody(actionBody('addFloatingIp', { address: { type: 'string' }, fixed_address: { type: 'string' } }), req.body);
  const body = (req.body as { addFloatingIp: { address: string; fixed_address?: string } }).addFloatingIp;
  checkAddress('address', body.address);
  checkAddress('fixed_address', body.fixed_address);
  const inst = await visibleInstance(d.ctx, caller, id, fipRule('add'));
  const address = body.address;
  const ports = inst.body.ports.length ? await netCall(() => d.network.ports({ device_id: inst.uuid })) : [];
  if (ports.length === 0) throw badRequest('Instance network is not ready yet');
  const fixed = ports.flatMap((p) => p.fixed_ips.map((f) => ({ port: p, address: f.ip_address })));
  if (fixed.length === 0) throw badRequest('No fixed IPs associated to instance');
  const chosen: { port: NetPort; address: string } | undefined = body.fixed_address !== undefined
    ? fixed.find((f) => f.address === body.fixed_address) : fixed.find((f) => isIP(f.address) === 4);
  if (!chosen && body.fixed_address !== undefined) throw badRequest('Specified fixed address not assigned to instance');
  if (!chosen) throw badRequest(`Unable to associate floating IP ${address} to any fixed IPs for instance ${id}. Instance has no fixed IPv4 addresses to associate.`);
  const net = callerNetwork(d.network, req);
  const unable = (why: string) => badRequest(`Unable to associate floating IP ${address} to fixed IP ${chosen.address} for instance ${id}. Error: ${why}`);
  const fip = await fipByAddress(net, address, () => notFound('floating IP not found'), () => unable(`Multiple floating IPs are found for address ${address}.`));
  await netCall(() => net.updateFloatingIp(fip.id, { port_id: chosen.port.id, fixed_ip_address: chosen.address }), (r) => {
    if (r.status === 409) return badRequest(r.message);
    if (r.status === 403) return forbidden(r.message);
    return unable(r.message);
  });
  // The instance it came from (if any) and this one show their addresses anew.
  if (fip.port_id && fip.port_details?.device_id !== inst.uuid) await refreshInstance(d.ctx, d.network, fip.port_details?.device_id);
  await refreshInstance(d.ctx, d.network, inst.uuid);
  return accepted(reply);
};

const removeFloatingIp: ProxyAction = async (d, req, reply, caller, id) => {
  if (atLeast(req, '2.44')) throw versionNotFound();
  validateBody(actionBody('removeFloatingIp', { address: { type: 'string' } }), req.body);
  const address = (req.body as { removeFloatingIp: { address: string } }).removeFloatingIp.address;
  checkAddress('address', address);
  const net = callerNetwork(d.network, req);
  const fip = await fipByAddress(net, address, () => notFound(`Floating IP not found for address ${address}.`), () => conflict(`Multiple floating IPs are found for address ${address}.`));
  // The instance it is on: the device of its port, which the caller must see.
  let device: string | null = null;
  if (fip.port_id) {
    device = fip.port_details !== undefined ? fip.port_details?.device_id ?? null : (await netCall(() => net.port(fip.port_id!)))?.device_id ?? null;
  }
  let onInstance: string | null = null;
  if (device) {
    const inst = isUuidLike(device) ? await getInstance(serversDb(d.ctx), device.toLowerCase()) : undefined;
    if (!inst || (!caller.isAdmin && inst.project_id !== caller.projectId)) throw notFound(`Instance ${device} could not be found.`);
    d.ctx.authorize(caller, fipRule('remove'), { project_id: inst.project_id, user_id: inst.user_id });
    onInstance = inst.uuid;
  } else {
    d.ctx.authorize(caller, fipRule('remove'), { project_id: caller.projectId });
  }
  if (!onInstance || !fip.port_id || onInstance !== id.toLowerCase()) throw conflict(`Floating IP ${address} is not associated with instance ${id}.`);
  await netCall(() => net.updateFloatingIp(fip.id, { port_id: null }), (r) => (r.status === 403 ? forbidden(r.message) : undefined));
  await refreshInstance(d.ctx, d.network, onInstance);
  return accepted(reply);
};

/** The actions, by name, for the servers action dispatch. */
export const PROXY_ACTIONS: Readonly<Record<string, ProxyAction>> = { addFloatingIp, removeFloatingIp };
