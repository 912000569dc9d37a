/**
 * `/servers/{id}/os-interface`: a server's ports (list, show; `tag` from 2.70), attaching one
 * (a given port, or a new one on a network — the project's only network when none is named),
 * and detaching one. Attach is synchronous as in Nova (200 with the attachment): the port is
 * bound to the instance's host, the host's agent waits for the network agent's TAP and plugs it
 * (hot-plug when the instance runs). Detach answers 202: the agent unplugs it (the guest
 * releases the device), then a port Nova made is deleted and a user's port is let go. The
 * server's address cache follows both.
 */
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Fault } from '../../platform/http/faults.js';
import { badRequest, conflict, notFound } from '../faults.js';
import { atLeast, params, type ComputeRoutes } from '../api/http.js';
import { validateBody, type Schema } from '../api/schema.js';
import type { Caller } from '../context.js';
import { ServiceCallError } from '../clients/service-auth.js';
import type { NetPort } from '../clients/network.js';
import { getInstance, updateInstance, type Instance, type InstancePort } from './store.js';
import { VM } from './states.js';
import { recordFault } from './faults.js';
import { startAction } from './actions-log.js';
import { refreshAddresses } from './conductor.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, checkLock, checkState, requestIdOf, type StateRule } from './action-guard.js';

const INTERFACE_RULE: StateRule = { vmStates: [VM.active, VM.paused, VM.stopped] };
const TAG: Schema = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };

/** The tag of one of the instance's ports: given at attach, or with its requested network at boot. */
function tagOf(inst: Instance, portId: string): string | null {
  const k = inst.body.ports.findIndex((p) => p.id === portId);
  if (k < 0) return null;
  const own = inst.body.ports[k]!.tag;
  if (own !== undefined) return own;
  const req = inst.body.requested_networks;
  if (!Array.isArray(req)) return null;
  return req.find((r) => r.port === portId)?.tag ?? req.filter((r) => !r.port)[inst.body.ports.slice(0, k + 1).filter((p) => p.created).length - 1]?.tag ?? null;
}

function attachmentView(req: FastifyRequest, inst: Instance, p: NetPort): Record<string, unknown> {
  return {
    net_id: p.network_id, port_id: p.id, mac_addr: p.mac_address, port_state: p.status,
    fixed_ips: p.fixed_ips.map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
    ...(atLeast(req, '2.70') ? { tag: tagOf(inst, p.id) } : {}),
  };
}

/** One interface operation per instance at a time in this process (they edit the instance's port list). */
const queues = new Map<string, Promise<unknown>>();
function serial<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(uuid) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  queues.set(uuid, next);
  void next.finally(() => { if (queues.get(uuid) === next) queues.delete(uuid); }).catch(() => undefined);
  return next;
}

/** The network service's own message of a refusal. */
function networkMessage(err: ServiceCallError): string {
  try { return String((JSON.parse(err.body) as { NeutronError?: { message?: string } }).NeutronError?.message ?? err.body); } catch { return err.body; }
}

export function registerInterfaces(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const db = serversDb(ctx);
  const ids = (req: FastifyRequest) => params<{ server_id: string; port_id?: string }>(req);

  routes.get('/servers/:server_id/os-interface', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), ids(req).server_id, 'os_compute_api:os-attach-interfaces:list');
    const ports = await d.network.ports({ device_id: inst.uuid });
    return { interfaceAttachments: ports.map((p) => attachmentView(req, inst, p)) };
  });

  routes.get('/servers/:server_id/os-interface/:port_id', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), ids(req).server_id, 'os_compute_api:os-attach-interfaces:show');
    const portId = ids(req).port_id!;
    const port = await d.network.port(portId);
    if (!port) throw notFound(`Port id ${portId} could not be found.`);
    if (port.device_id !== inst.uuid) throw notFound(`Instance ${inst.uuid} does not have a port with id ${portId}`);
    return { interfaceAttachment: attachmentView(req, inst, port) };
  });

  routes.post('/servers/:server_id/os-interface', async (req) => {
    const caller = routes.caller(req);
    const attachment: Schema = {
      type: 'object',
      properties: {
        net_id: { type: 'string', format: 'uuid' }, port_id: { type: 'string', format: 'uuid' },
        fixed_ips: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'object', properties: { ip_address: { type: 'string' } }, required: ['ip_address'], additionalProperties: false } },
        ...(atLeast(req, '2.49') ? { tag: TAG } : {}),
      },
      additionalProperties: false,
    };
    const body = (req.body ?? {}) as { interfaceAttachment?: { net_id?: string; port_id?: string; fixed_ips?: { ip_address: string }[]; tag?: string } };
    validateBody({ type: 'object', properties: { interfaceAttachment: attachment }, additionalProperties: false }, body);
    const a = body.interfaceAttachment ?? {};
    const ip = a.fixed_ips?.[0]?.ip_address;
    if (ip !== undefined && !isIP(ip)) throw badRequest(`Invalid input for field/attribute ip_address. Value: ${ip}. '${ip}' is not valid under any of the given schemas`);
    const inst = await visibleInstance(ctx, caller, ids(req).server_id, 'os_compute_api:os-attach-interfaces:create');
    if (a.net_id && a.port_id) throw badRequest('Must not input both network_id and port_id');
    if (ip && !a.net_id) throw badRequest('Must input network_id when request IP address');
    checkLock(caller, inst);
    checkState('attach_interface', inst, INTERFACE_RULE);
    const agent = agentOf(d, inst);
    const rid = requestIdOf(caller);
    return serial(inst.uuid, async () => {
      const port = await bindPort(d, caller, inst, a.port_id, a.net_id, ip);
      // Recorded once there is a port to plug: a refused attach (no such port or network, an address
      // the network service refuses) leaves nothing behind.
      await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'attach_interface', projectId: inst.project_id, userId: caller.userId });
      const record: InstancePort = { id: port.id, created: !a.port_id, tag: a.tag ?? null };
      try {
        await agent.attachInterface(inst.uuid, rid, port.id);
      } catch (err) {
        ctx.log.warn({ err, instance: inst.uuid, port: port.id }, 'interface attach failed');
        await releasePort(d, record);
        throw new Fault(500, `Failed to attach network adapter device to ${inst.uuid}`);
      }
      const cur = (await getInstance(db, inst.uuid)) ?? inst;
      const next = await updateInstance(db, inst.uuid, { body: { ports: [...cur.body.ports.filter((p) => p.id !== port.id), record] } });
      await updateInstance(db, inst.uuid, { body: { addresses: await refreshAddresses(d.network, next) } });
      return { interfaceAttachment: attachmentView(req, next, (await d.network.port(port.id)) ?? port) };
    });
  });

  routes.delete('/servers/:server_id/os-interface/:port_id', async (req, reply: FastifyReply) => {
    const caller = routes.caller(req);
    const inst = await visibleInstance(ctx, caller, ids(req).server_id, 'os_compute_api:os-attach-interfaces:delete');
    const portId = ids(req).port_id!;
    checkLock(caller, inst);
    checkState('detach_interface', inst, INTERFACE_RULE);
    const agent = agentOf(d, inst);
    const known = inst.body.ports.find((p) => p.id === portId);
    const port = await d.network.port(portId);
    if (!known && port?.device_id !== inst.uuid) throw notFound(`Port ${portId} is not attached`);
    const record: InstancePort = known ?? { id: portId, created: false };
    const rid = requestIdOf(caller);
    await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'detach_interface', projectId: inst.project_id, userId: caller.userId });
    d.background('detach interface', () => serial(inst.uuid, async () => {
      try {
        await agent.detachInterface(inst.uuid, rid, portId);
      } catch (err) {
        ctx.log.warn({ err, instance: inst.uuid, port: portId }, 'interface detach failed');
        await recordFault(db, inst.uuid, err, {}).catch(() => undefined);
        return;
      }
      await releasePort(d, record);
      const cur = await getInstance(db, inst.uuid);
      if (!cur) return;
      const next = await updateInstance(db, inst.uuid, { body: { ports: cur.body.ports.filter((p) => p.id !== portId) } });
      await updateInstance(db, inst.uuid, { body: { addresses: await refreshAddresses(d.network, next) } });
    }));
    reply.status(202);
    return reply.send();
  });
}

/**
 * The port to plug, bound to the instance's host: the given one (the caller's project's, not in
 * use), or a new one on `netId` (optionally with `ip`), or on the project's only network.
 */
async function bindPort(d: ServersApiDeps, caller: Caller, inst: Instance, portId: string | undefined, netId: string | undefined, ip: string | undefined): Promise<NetPort> {
  const binding = { device_id: inst.uuid, device_owner: `compute:${inst.availability_zone ?? 'nova'}`, 'binding:host_id': inst.host };
  if (portId) {
    const port = await d.network.port(portId);
    if (!port || (!caller.isAdmin && port.project_id !== inst.project_id)) throw notFound(`Port id ${portId} could not be found.`);
    if (port.device_id) throw conflict(`Port ${portId} is still in use.`);
    return d.network.updatePort(portId, binding);
  }
  let network = netId;
  if (!network) {
    const nets = await d.network.bootableNetworks(inst.project_id);
    if (nets.length === 0) throw badRequest(`No specific network was requested and none are available for project '${inst.project_id}'.`);
    if (nets.length > 1) throw badRequest('More than one possible network found. Specify network ID(s) to select which one(s) to connect to.');
    network = nets[0]!.id;
  } else {
    const net = await d.network.network(network);
    if (!net || (!caller.isAdmin && net.project_id !== inst.project_id && !net.shared)) throw notFound(`Network ${network} could not be found.`);
  }
  try {
    return await d.network.createPort({ network_id: network, project_id: inst.project_id, ...binding, ...(ip ? { fixed_ips: [{ ip_address: ip }] } : {}) });
  } catch (err) {
    if (err instanceof ServiceCallError && err.status === 409) throw conflict(ip ? `Fixed IP address ${ip} is already in use on instance ${inst.uuid}.` : networkMessage(err));
    if (err instanceof ServiceCallError && err.status >= 400 && err.status < 500) throw badRequest(networkMessage(err));
    throw err;
  }
}

/** A port Nova made is deleted; a user's port is let go (no device, no host binding). */
async function releasePort(d: ServersApiDeps, p: InstancePort): Promise<void> {
  try {
    if (p.created) await d.network.deletePort(p.id);
    else await d.network.updatePort(p.id, { device_id: '', device_owner: '', 'binding:host_id': '' });
  } catch (err) {
    d.ctx.log.warn({ err, port: p.id }, 'port not released');
  }
}
