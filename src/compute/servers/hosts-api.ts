/**
 * `/os-hosts` (deprecated; removed by microversion 2.43, then 404): the enabled services by host
 * with their zone, and a compute host's resources — its hypervisor's total and used figures and
 * what the instances on it hold, in all and per project. Enabling, maintenance mode and power
 * actions are what Nova's libvirt driver does with them: not supported (501), after the 404 for
 * a host that has no compute service.
 */
import type { FastifyRequest } from 'fastify';
import type { ComputeContext } from '../context.js';
import { notFound, novaFault } from '../faults.js';
import { atLeast, params, type ComputeRoutes } from '../api/http.js';
import { commonQueryParam, queryLists, validateBody, validateQuery, type Schema } from '../api/schema.js';
import { zonedServices } from '../availability-zones.js';
import { computeNodesOf } from '../hypervisors.js';
import { computeServiceOf } from '../services.js';
import type { InstanceBody } from './store.js';
import { serversDb } from './api.js';

const ENABLE: Schema = { type: 'string', enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'] };
const UPDATE: Schema = {
  type: 'object',
  properties: { status: ENABLE, maintenance_mode: ENABLE },
  anyOf: [{ required: ['status'] }, { required: ['maintenance_mode'] }],
  additionalProperties: false,
};

interface Resource { host: string; project: string; cpu: number; memory_mb: number; disk_gb: number }

const notSupported = () => novaFault(501, 'The requested functionality is not supported.');

export function registerHosts(routes: ComputeRoutes, ctx: ComputeContext): void {
  const removed = (req: FastifyRequest): void => {
    if (atLeast(req, '2.43')) throw notFound('The resource could not be found.');
  };
  const hostName = (req: FastifyRequest): string => params<{ host_name: string }>(req).host_name;
  /** Nova's HostAPI._assert_host_exists: the host's compute service, or 404. */
  const assertHost = async (host: string): Promise<void> => {
    if (!await computeServiceOf(ctx, host)) throw notFound(`Compute host ${host} could not be found.`);
  };

  routes.get('/os-hosts', async (req) => {
    removed(req);
    validateQuery({ type: 'object', properties: { zone: commonQueryParam }, additionalProperties: true }, queryLists(req.query));
    ctx.authorize(routes.caller(req), 'os_compute_api:os-hosts:list', {});
    const zones = queryLists(req.query).zone;
    const zone = zones?.[zones.length - 1];
    const hosts = (await zonedServices(ctx)).filter((s) => s.disabled !== 1 && (!zone || s.zone === zone));
    return { hosts: hosts.map((s) => ({ host_name: s.host, service: s.topic ?? s.binary.replace(/^nova-/, ''), zone: s.zone })) };
  });

  routes.get('/os-hosts/:host_name', async (req) => {
    removed(req);
    ctx.authorize(routes.caller(req), 'os_compute_api:os-hosts:show', {});
    const host = hostName(req);
    if (!await computeServiceOf(ctx, host)) throw notFound(`Host '${host}' is not mapped to any cell`);
    const node = (await computeNodesOf(ctx.db, host))[0];
    if (!node) throw notFound(`Compute host ${host} could not be found.`);
    const rows = await serversDb(ctx).selectFrom('compute_instance').select(['project_id', 'body']).where('host', '=', host).where('deleted', '=', 0).orderBy('id').execute();
    const used: Resource = { host, project: '(used_max)', cpu: 0, memory_mb: 0, disk_gb: 0 };
    const byProject = new Map<string, Resource>();
    for (const r of rows) {
      const f = (JSON.parse(r.body) as InstanceBody).flavor;
      let p = byProject.get(r.project_id);
      if (!p) byProject.set(r.project_id, p = { host, project: r.project_id, cpu: 0, memory_mb: 0, disk_gb: 0 });
      for (const x of [used, p]) { x.cpu += f.vcpus; x.memory_mb += f.memory_mb; x.disk_gb += f.root_gb + f.ephemeral_gb; }
    }
    const resources: Resource[] = [
      { host, project: '(total)', cpu: node.vcpus, memory_mb: node.memory_mb, disk_gb: node.local_gb },
      { host, project: '(used_now)', cpu: node.vcpus_used, memory_mb: node.memory_mb_used, disk_gb: node.local_gb_used },
      used,
      ...byProject.values(),
    ];
    return { host: resources.map((resource) => ({ resource })) };
  });

  routes.put('/os-hosts/:host_name', async (req) => {
    removed(req);
    validateBody(UPDATE, req.body);
    ctx.authorize(routes.caller(req), 'os_compute_api:os-hosts:update', {});
    // Either change is one the libvirt-like QEMU driver does not do (Nova's NotImplementedError).
    await assertHost(hostName(req));
    throw notSupported();
  });

  for (const [action, rule] of [['startup', 'start'], ['shutdown', 'shutdown'], ['reboot', 'reboot']] as const) {
    routes.get(`/os-hosts/:host_name/${action}`, async (req) => {
      removed(req);
      ctx.authorize(routes.caller(req), `os_compute_api:os-hosts:${rule}`, {});
      await assertHost(hostName(req));
      throw notSupported();
    });
  }
}
