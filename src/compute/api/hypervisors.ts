/**
 * `/os-hypervisors`: list/detail (paged from 2.33; hostname pattern and `with_servers` from
 * 2.53, which also switches ids to uuids), show, statistics and uptime (until 2.87), and the
 * pre-2.53 `/{pattern}/search` and `/{pattern}/servers` routes. cpu_info is a JSON string until
 * 2.27 and an object from 2.28; 2.88 drops the statistics fields and adds `uptime`.
 */
import type { FastifyRequest } from 'fastify';
import type { ComputeContext, HostedServer } from '../context.js';
import { badRequest, notFound, novaFault } from '../faults.js';
import { getComputeNode, listComputeNodes, searchComputeNodes, type ComputeNode } from '../hypervisors.js';
import { computeServiceOf, isUp } from '../services.js';
import type { ServiceRow } from '../store/schema.js';
import { integerId, isUuidLike, queryValue, strictBool } from './actions.js';
import { atLeast, limitAndMarker, nextLinks, params, type ComputeRoutes } from './http.js';
import { booleanParam, fqdn, nonNegativeInteger, paginationParameters, queryLists, singleParam, validateQuery, type Schema } from './schema.js';

function listQuerySchema(req: FastifyRequest): Schema {
  if (atLeast(req, '2.53')) {
    return {
      type: 'object',
      properties: {
        limit: singleParam(nonNegativeInteger), marker: singleParam({ type: 'string' }),
        hypervisor_hostname_pattern: singleParam(fqdn), with_servers: singleParam(booleanParam),
      },
      additionalProperties: false,
    };
  }
  return { type: 'object', properties: atLeast(req, '2.33') ? paginationParameters : {}, additionalProperties: true };
}

const showQuerySchema = (req: FastifyRequest): Schema => (atLeast(req, '2.53')
  ? { type: 'object', properties: { with_servers: singleParam(booleanParam) }, additionalProperties: false }
  : { type: 'object', properties: {}, additionalProperties: true });

const withServersOf = (req: FastifyRequest): boolean => {
  if (!atLeast(req, '2.53')) return false;
  const v = queryValue(req, 'with_servers');
  return v === undefined ? false : strictBool(v) === true;
};

/** Nova's hypervisor view. */
function hypervisorView(ctx: ComputeContext, req: FastifyRequest, n: ComputeNode, s: ServiceRow, detail: boolean, servers?: readonly HostedServer[], withServers = false): Record<string, unknown> {
  const uuids = atLeast(req, '2.53');
  const view: Record<string, unknown> = {
    id: uuids ? n.uuid : n.id,
    hypervisor_hostname: n.hypervisor_hostname,
    state: isUp(ctx, s) ? 'up' : 'down',
    status: s.disabled === 1 ? 'disabled' : 'enabled',
  };
  if (detail) {
    view.hypervisor_type = n.hypervisor_type;
    view.hypervisor_version = n.hypervisor_version;
    view.host_ip = n.host_ip;
    view.service = { id: uuids ? s.uuid : s.id, host: n.host, disabled_reason: s.disabled_reason };
    if (!atLeast(req, '2.88')) {
      Object.assign(view, {
        vcpus: n.vcpus, memory_mb: n.memory_mb, local_gb: n.local_gb, vcpus_used: n.vcpus_used, memory_mb_used: n.memory_mb_used,
        local_gb_used: n.local_gb_used, free_ram_mb: n.free_ram_mb, free_disk_gb: n.free_disk_gb, current_workload: n.current_workload,
        running_vms: n.running_vms, disk_available_least: n.disk_available_least,
      });
      view.cpu_info = atLeast(req, '2.28') ? JSON.parse(n.cpu_info || '{}') : n.cpu_info;
    } else {
      view.uptime = isUp(ctx, s) ? n.uptime : null;
    }
  }
  if (servers && servers.length) view.servers = servers.map((x) => ({ name: x.name, uuid: x.uuid }));
  else if (withServers && atLeast(req, '2.75')) view.servers = [];
  return view;
}

const serversOn = async (ctx: ComputeContext, host: string): Promise<readonly HostedServer[]> => (ctx.hooks.serversOnHost ? ctx.hooks.serversOnHost(host) : []);

/** The node a path id names (uuid from 2.53, integer before), or Nova's 400/404. */
async function nodeById(ctx: ComputeContext, req: FastifyRequest, id: string): Promise<ComputeNode> {
  if (atLeast(req, '2.53')) {
    if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    return getComputeNode(ctx, id, id);
  }
  if (!/^\s*[+-]?\d+\s*$/.test(id)) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
  return getComputeNode(ctx, integerId(id), id);
}

export function registerHypervisors(r: ComputeRoutes): void {
  const ctx = r.ctx;

  const list = async (req: FastifyRequest, detail: boolean) => {
    validateQuery(listQuerySchema(req), queryLists(req.query));
    ctx.authorize(r.caller(req), `os_compute_api:os-hypervisors:${detail ? 'list-detail' : 'list'}`);
    const paged = atLeast(req, '2.33');
    const pattern = atLeast(req, '2.53') ? queryValue(req, 'hypervisor_hostname_pattern') : undefined;
    const withServers = withServersOf(req);
    let nodes: ComputeNode[];
    let links = paged;
    if (pattern !== undefined) {
      const q = req.query as Record<string, unknown>;
      if (q.limit !== undefined || q.marker !== undefined) {
        throw badRequest('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
      }
      links = false;
      nodes = await searchComputeNodes(ctx, pattern);
    } else {
      const page = paged ? limitAndMarker(req, ctx.maxLimit) : {};
      nodes = await listComputeNodes(ctx, { ...page, markerIsUuid: atLeast(req, '2.53') });
    }
    const hypervisors: Record<string, unknown>[] = [];
    for (const n of nodes) {
      const s = await computeServiceOf(ctx, n.host);
      if (!s) continue; // a node whose service was deleted
      hypervisors.push(hypervisorView(ctx, req, n, s, detail, withServers ? await serversOn(ctx, n.host) : undefined, withServers));
    }
    const next = links ? nextLinks(req, detail ? 'os-hypervisors/detail' : 'os-hypervisors', hypervisors.length, hypervisors.length ? String(hypervisors[hypervisors.length - 1].id) : undefined, ctx.maxLimit) : [];
    return { hypervisors, ...(next.length ? { hypervisors_links: next } : {}) };
  };

  r.get('/os-hypervisors', (req) => list(req, false));
  r.get('/os-hypervisors/detail', (req) => list(req, true));

  r.get('/os-hypervisors/statistics', async (req) => {
    if (atLeast(req, '2.88')) throw notFound('The resource could not be found.');
    ctx.authorize(r.caller(req), 'os_compute_api:os-hypervisors:statistics');
    const stats = { count: 0, vcpus: 0, memory_mb: 0, local_gb: 0, vcpus_used: 0, memory_mb_used: 0, local_gb_used: 0, free_ram_mb: 0, free_disk_gb: 0, current_workload: 0, running_vms: 0, disk_available_least: 0 };
    for (const n of await listComputeNodes(ctx)) {
      const s = await computeServiceOf(ctx, n.host);
      if (!s || s.disabled === 1) continue;
      stats.count += 1;
      for (const k of ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload', 'running_vms'] as const) stats[k] += n[k];
      stats.disk_available_least += n.disk_available_least ?? 0;
    }
    return { hypervisor_statistics: stats };
  });

  r.get('/os-hypervisors/:id', async (req) => {
    validateQuery(showQuerySchema(req), queryLists(req.query));
    ctx.authorize(r.caller(req), 'os_compute_api:os-hypervisors:show');
    const id = params<{ id: string }>(req).id;
    const n = await nodeById(ctx, req, id);
    const withServers = withServersOf(req);
    const servers = withServers ? await serversOn(ctx, n.host) : undefined;
    const s = await computeServiceOf(ctx, n.host);
    if (!s) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    return { hypervisor: hypervisorView(ctx, req, n, s, true, servers, withServers) };
  });

  r.get('/os-hypervisors/:id/uptime', async (req) => {
    if (atLeast(req, '2.88')) throw notFound('The resource could not be found.');
    ctx.authorize(r.caller(req), 'os_compute_api:os-hypervisors:uptime');
    const id = params<{ id: string }>(req).id;
    const n = await nodeById(ctx, req, id);
    const s = await computeServiceOf(ctx, n.host);
    if (!s) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    if (!isUp(ctx, s)) throw badRequest(`Compute service of ${n.host} is unavailable at this time.`);
    if (n.uptime === null) throw novaFault(501, 'The requested functionality is not supported.');
    return { hypervisor: { ...hypervisorView(ctx, req, n, s, false), uptime: n.uptime } };
  });

  for (const route of ['search', 'servers'] as const) {
    r.get(`/os-hypervisors/:id/${route}`, async (req) => {
      if (atLeast(req, '2.53')) throw notFound('The resource could not be found.');
      ctx.authorize(r.caller(req), `os_compute_api:os-hypervisors:${route}`);
      const nodes = await searchComputeNodes(ctx, params<{ id: string }>(req).id);
      const hypervisors: Record<string, unknown>[] = [];
      for (const n of nodes) {
        const s = await computeServiceOf(ctx, n.host);
        if (!s) continue;
        hypervisors.push(hypervisorView(ctx, req, n, s, false, route === 'servers' ? await serversOn(ctx, n.host) : undefined));
      }
      return { hypervisors };
    });
  }
}
