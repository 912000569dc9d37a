/**
 * The servers API: `/servers` (create, list, detail, show, update, delete), their actions
 * (`/servers/{id}/action`), console output, instance actions, metadata and ips — Nova's
 * behaviour per microversion. The API records and answers; the conductor and the host's agent
 * do the work, and the instance's states say where it is.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComputeContext, Caller } from '../context.js';
import { badRequest, conflict, forbidden, notFound } from '../faults.js';
import { atLeast, isLegacy, params, selfLinks, type ComputeRoutes } from '../api/http.js';
import { isUuidLike } from '../api/actions.js';
import { metadata as metadataSchema, name as nameSchema, nameWithSpaces, validateBody, type Schema } from '../api/schema.js';
import type { ServersDB } from './schema.js';
import { getInstance, updateInstance, InstanceStateConflict, type Instance, type InstanceBody } from './store.js';
import { briefServer, changedServer, detailServer, hostId as hostIdOf } from './view.js';
import { accessIps, createServers, type CreateDeps } from './create.js';
import { startAction } from './actions-log.js';
import { vmStatesOf, VM } from './states.js';
import type { Conductor } from './conductor.js';
import { refreshAddresses } from './conductor.js';
import { isUp } from '../services.js';
import { registerServerActions } from './actions-api.js';
import { registerServerGroups } from './groups-api.js';
import { registerServerTags } from './tags-api.js';
import { registerTenantUsage } from './usage-api.js';
import { registerImageProxy } from '../proxies/images.js';
import { registerHosts } from './hosts-api.js';
import { registerMigrations } from './migrations-api.js';
import { registerServerPassword } from './password-api.js';
import { registerUsageAuditLog } from './usage-audit-api.js';
import { registerServerExternalEvents } from './external-events-api.js';
import { registerServerDiagnostics } from './diagnostics-api.js';
import { registerNetworkProxies } from '../proxies/index.js';
import { serversDb, visibleInstance } from './lookup.js';
import { userRegExp } from '../../platform/user-regexp.js';

/** An ISO 8601 date-time as Nova's changes-since accepts it (`2011/01/01` is not one). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

export interface ServersApiDeps extends CreateDeps {
  readonly conductor: Conductor;
  /** Runs work after the response (the conductor's part), logging failures. */
  readonly background: (what: string, work: () => Promise<void>) => void;
}

export { serversDb, visibleInstance };

/** The 409 Nova answers when an action meets an instance in the wrong state. */
export const stateConflict = (action: string, i: { uuid: string; vm_state: string; task_state: string | null }): Error =>
  conflict(`Cannot '${action}' instance ${i.uuid} while it is in ${i.task_state ? `task_state ${i.task_state}` : `vm_state ${i.vm_state}`}`);

/** Host status (2.16) of a host: UP, DOWN, MAINTENANCE (disabled) or UNKNOWN. */
async function hostStatuses(ctx: ComputeContext): Promise<(host: string | null) => string> {
  const rows = await ctx.db.selectFrom('compute_service').selectAll().where('binary', '=', 'nova-compute').execute();
  const now = Date.now();
  const by = new Map(rows.map((r) => [r.host, r.disabled ? 'MAINTENANCE' : isUp(ctx, r, now) ? 'UP' : 'DOWN']));
  return (host) => (host ? by.get(host) ?? 'UNKNOWN' : '');
}

/** Every column but the body. */
const LIGHT_COLUMNS = [
  'id', 'uuid', 'project_id', 'user_id', 'display_name', 'host', 'node', 'vm_state', 'task_state', 'power_state', 'image_ref', 'flavor_id',
  'availability_zone', 'reservation_id', 'launch_index', 'key_name', 'locked', 'created_at', 'updated_at', 'launched_at', 'terminated_at', 'deleted', 'deleted_at',
] as const;
type LightRow = Omit<Instance, 'body'>;

/**
 * Nova's sort keys (VALID_SORT_KEYS): those with a column here sort by it; the others (kept in
 * the body only) are accepted and leave the order to the keys that follow.
 */
const SORT_COLUMNS: Readonly<Record<string, string>> = {
  created_at: 'created_at', updated_at: 'updated_at', display_name: 'display_name', uuid: 'uuid', vm_state: 'vm_state',
  task_state: 'task_state', power_state: 'power_state', host: 'host', node: 'node', availability_zone: 'availability_zone',
  launched_at: 'launched_at', terminated_at: 'terminated_at', image_ref: 'image_ref', instance_type_id: 'flavor_id',
  key_name: 'key_name', project_id: 'project_id', user_id: 'user_id', launch_index: 'launch_index', locked: 'locked',
};
const SORT_KEYS_WITHOUT_COLUMN = ['access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'config_drive', 'display_description', 'hostname',
  'kernel_id', 'locked_by', 'progress', 'ramdisk_id', 'root_device_name'];
/** Keys Nova accepts and ignores (SERVER_LIST_IGNORE_SORT_KEY); from 2.73 `locked` sorts; from 2.75 the rest are refused. */
const IGNORED_SORT_KEYS = ['architecture', 'cell_name', 'cleaned', 'default_ephemeral_device', 'default_swap_device', 'deleted', 'deleted_at',
  'disable_terminate', 'ephemeral_gb', 'ephemeral_key_uuid', 'id', 'key_data', 'launched_on', 'locked', 'memory_mb', 'os_type',
  'reservation_id', 'root_gb', 'shutdown_terminate', 'user_data', 'vcpus', 'vm_mode'];

/**
 * The columns to sort by for the request's sort_key values, each with the index of its sort_dir
 * (Nova's rules per microversion); unknown keys → 400.
 */
function sortColumns(req: FastifyRequest, keys: readonly string[], admin: boolean): [column: string, dirIndex: number][] {
  const ignored = new Set(IGNORED_SORT_KEYS.filter((k) => !(k === 'locked' && atLeast(req, '2.73'))));
  const valid = [...Object.keys(SORT_COLUMNS).filter((k) => k !== 'locked' || atLeast(req, '2.73')), ...SORT_KEYS_WITHOUT_COLUMN,
    ...(atLeast(req, '2.75') ? [] : [...ignored])];
  const bad = keys.find((k) => !valid.includes(k));
  if (bad !== undefined) throw badRequest(`Invalid input for query parameters sort_key. Value: ${bad}. '${bad}' is not one of [${valid.map((k) => `'${k}'`).join(', ')}]`);
  // Ignored keys, and host/node for non-admins (Nova drops them silently).
  return keys.flatMap((k, n) => {
    const column = SORT_COLUMNS[k];
    return column === undefined || ignored.has(k) || (!admin && (k === 'host' || k === 'node')) ? [] : [[column, n] as [string, number]];
  });
}

/** Starts deleting `inst` (DELETE /servers/{id} and forceDelete): idempotent while a delete is in flight. */
export async function requestDelete(d: ServersApiDeps, caller: Caller, inst: Instance): Promise<void> {
  const db = serversDb(d.ctx);
  if (inst.locked && !caller.isAdmin) throw conflict(`Instance ${inst.uuid} is locked`);
  // Nova deletes in any task state: the host's agent finishes the operation in flight first.
  if (inst.task_state === 'deleting') return;
  try {
    await updateInstance(db, inst.uuid, { task_state: 'deleting' }, { task_state: [inst.task_state] });
  } catch (err) {
    if (err instanceof InstanceStateConflict && err.actual.task_state === 'deleting') return;
    if (err instanceof InstanceStateConflict) throw stateConflict('delete', inst);
    throw err;
  }
  await startAction(db, { uuid: inst.uuid, requestId: caller.requestId ?? '', action: 'delete', projectId: inst.project_id, userId: caller.userId });
  d.background('delete', () => d.conductor.deleteInstance(inst.uuid, caller.requestId ?? ''));
  // A shelved server's snapshot goes with it (Nova's _delete of SHELVED / SHELVED_OFFLOADED).
  if (inst.body.shelved_image_id) d.background('delete shelved image', () => d.images.delete(inst.body.shelved_image_id!));
}

export function registerServers(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const db = serversDb(ctx);

  const viewOpts = async (req: FastifyRequest, caller: Caller) => ({
    caller,
    extended: ctx.allows(caller, 'os_compute_api:os-extended-server-attributes'),
    ...(atLeast(req, '2.16') && ctx.allows(caller, 'os_compute_api:servers:show:host_status') ? { hostStatus: await hostStatuses(ctx) } : {}),
  });

  routes.post('/servers', async (req, reply) => {
    const caller = routes.caller(req);
    const made = await createServers(req, caller, d);
    for (const i of made.instances) await startAction(db, { uuid: i.uuid, requestId: caller.requestId ?? '', action: 'create', projectId: caller.projectId, userId: caller.userId });
    d.background('build', () => d.conductor.buildInstances(made.spec, caller.requestId ?? ''));
    reply.status(202);
    if (made.returnReservationId) return { reservation_id: made.reservationId };
    const first = made.instances[0]!;
    reply.header('location', selfLinks(req, 'servers', first.uuid)[0]!.href);
    return {
      server: {
        id: first.uuid, links: selfLinks(req, 'servers', first.uuid), 'OS-DCF:diskConfig': first.body.disk_config ?? 'MANUAL',
        security_groups: first.body.security_groups.map((name) => ({ name })), adminPass: made.adminPass,
      },
    };
  });

  const list = async (req: FastifyRequest, detail: boolean) => {
    const caller = routes.caller(req);
    ctx.authorize(caller, detail ? 'os_compute_api:servers:detail' : 'os_compute_api:servers:index', { project_id: caller.projectId });
    const q = req.query as Record<string, string | string[] | undefined>;
    const one = (k: string): string | undefined => { const v = q[k]; return Array.isArray(v) ? v[v.length - 1] : v; };
    const allTenants = one('all_tenants') !== undefined && ['', '1', 'true', 'True', 'yes'].includes(one('all_tenants')!);
    if (allTenants) ctx.authorize(caller, detail ? 'os_compute_api:servers:detail:get_all_tenants' : 'os_compute_api:servers:index:get_all_tenants', { project_id: caller.projectId });
    const admin = caller.isAdmin;
    // Columns only at first (no JSON bodies): filters and paging run on light rows; only the page's bodies are read.
    let sql = db.selectFrom('compute_instance').select(LIGHT_COLUMNS);
    // Like Nova, a project filter counts only with all_tenants; otherwise the caller's own project is listed.
    const project = admin && allTenants ? one('project_id') ?? one('tenant_id') : undefined;
    if (!(admin && allTenants) || project) sql = sql.where('project_id', '=', project ?? caller.projectId);
    const deleted = admin && one('deleted') !== undefined && ['1', 'true', 'True'].includes(one('deleted')!);
    const changesSince = one('changes-since');
    if (changesSince !== undefined && (!ISO_TIME.test(changesSince) || Number.isNaN(Date.parse(changesSince)))) throw badRequest(`Invalid input for query parameters changes-since. Value: ${changesSince}. '${changesSince}' is not a 'date-time'`);
    if (!deleted && changesSince === undefined) sql = sql.where('deleted', '=', 0);
    if (deleted) sql = sql.where('deleted', '!=', 0);
    const status = one('status');
    if (status !== undefined) {
      const states = vmStatesOf(status);
      if (states.length === 0) return { servers: [] };
      sql = sql.where('vm_state', 'in', states);
    }
    for (const [param, col] of [['image', 'image_ref'], ['flavor', 'flavor_id'], ['reservation_id', 'reservation_id'], ['availability_zone', 'availability_zone'], ['key_name', 'key_name']] as const) {
      const v = one(param);
      if (v !== undefined) sql = sql.where(col, '=', param === 'image' || param === 'flavor' ? v.split('/').pop()! : v);
    }
    if (admin && one('host') !== undefined) sql = sql.where('host', '=', one('host')!);
    if (admin && one('node') !== undefined) sql = sql.where('node', '=', one('node')!);
    if (admin && one('user_id') !== undefined) sql = sql.where('user_id', '=', one('user_id')!);
    if (one('locked') !== undefined) sql = sql.where('locked', '=', ['1', 'true', 'True'].includes(one('locked')!) ? 1 : 0);
    const sortKeys = sortColumns(req, [q.sort_key ?? []].flat(), admin);
    const sortDirs = [q.sort_dir ?? []].flat();
    const badDir = sortDirs.find((d) => d !== 'asc' && d !== 'desc');
    if (badDir !== undefined) throw badRequest(`Invalid input for query parameters sort_dir. Value: ${badDir}. '${badDir}' is not one of ['asc', 'desc']`);
    const keys = sortKeys.length ? sortKeys : [['created_at', 0] as const];
    for (const [k, n] of keys) sql = sql.orderBy(k as 'created_at', (sortDirs[n] ?? sortDirs[0] ?? 'desc') === 'asc' ? 'asc' : 'desc');
    sql = sql.orderBy('id', 'desc');
    let rows = (await sql.execute()) as LightRow[];
    const tagSets = (k: string) => [q[k] ?? []].flat().flatMap((v) => v.split(',')).filter(Boolean);
    const tags = tagSets('tags'); const tagsAny = tagSets('tags-any'); const notTags = tagSets('not-tags'); const notTagsAny = tagSets('not-tags-any');
    const ip = one('ip') ?? one('ip6');
    const needBodies = ip !== undefined || tags.length + tagsAny.length + notTags.length + notTagsAny.length > 0;
    const bodies = new Map<number, InstanceBody>();
    if (needBodies) {
      for (const r of await sql.clearSelect().select(['id', 'body']).execute() as { id: number; body: string }[]) bodies.set(r.id, JSON.parse(r.body) as InstanceBody);
    }
    if (changesSince !== undefined) {
      const since = Date.parse(changesSince.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(changesSince) ? changesSince : `${changesSince}Z`);
      rows = rows.filter((i) => Date.parse(`${(i.updated_at ?? i.created_at).slice(0, 23)}Z`) >= since);
    }
    const regexOf = (param: string, pattern: string): RegExp => {
      const re = userRegExp(pattern);
      if (re instanceof RegExp) return re;
      throw badRequest(`Invalid regular expression for ${param}: ${pattern}: ${re.error}`);
    };
    const nameRe = one('name');
    if (nameRe !== undefined) {
      const re = regexOf('name', nameRe);
      rows = rows.filter((i) => re.test(i.display_name));
    }
    if (ip !== undefined) {
      const re = regexOf('ip', ip);
      rows = rows.filter((i) => Object.values(bodies.get(i.id)!.addresses ?? {}).flat().some((a) => re.test(a.addr)));
    }
    const tagsOf = (i: LightRow) => bodies.get(i.id)!.tags;
    if (tags.length) rows = rows.filter((i) => tags.every((t) => tagsOf(i).includes(t)));
    if (tagsAny.length) rows = rows.filter((i) => tagsAny.some((t) => tagsOf(i).includes(t)));
    if (notTags.length) rows = rows.filter((i) => !notTags.every((t) => tagsOf(i).includes(t)));
    if (notTagsAny.length) rows = rows.filter((i) => !notTagsAny.some((t) => tagsOf(i).includes(t)));
    // Paging: marker then limit.
    const marker = one('marker');
    if (marker !== undefined) {
      const k = rows.findIndex((i) => i.uuid === marker);
      if (k < 0) throw badRequest(`marker [${marker}] not found`);
      rows = rows.slice(k + 1);
    }
    const limitRaw = one('limit');
    if (limitRaw !== undefined && !/^\d+$/.test(limitRaw)) throw badRequest('limit must be an integer');
    const limit = Math.min(limitRaw === undefined ? ctx.maxLimit : Number(limitRaw), ctx.maxLimit);
    const pageRows = rows.slice(0, limit);
    if (!needBodies && pageRows.length) {
      for (let k = 0; k < pageRows.length; k += 500) {
        const ids = pageRows.slice(k, k + 500).map((r) => r.id);
        for (const r of await db.selectFrom('compute_instance').select(['id', 'body']).where('id', 'in', ids).execute()) bodies.set(r.id, JSON.parse(r.body) as InstanceBody);
      }
    }
    const page: Instance[] = pageRows.map((r) => ({ ...r, body: bodies.get(r.id)! }));
    const opts = detail ? await viewOpts(req, caller) : undefined;
    const servers = page.map((i) => (detail ? detailServer(req, i, opts!) : briefServer(req, i)));
    const out: Record<string, unknown> = { servers };
    if (limit > 0 && page.length === limit && rows.length > limit) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (k !== 'marker' && v !== undefined) for (const x of [v].flat()) params.append(k, x);
      params.append('marker', page[page.length - 1]!.uuid);
      const self = selfLinks(req, detail ? 'servers/detail' : 'servers', '')[0]!.href.replace(/\/$/, '');
      out.servers_links = [{ rel: 'next', href: `${self}?${params.toString()}` }];
    }
    return out;
  };
  routes.get('/servers', (req) => list(req, false));
  routes.get('/servers/detail', (req) => list(req, true));

  routes.get('/servers/:server_id', async (req) => {
    const caller = routes.caller(req);
    let inst = await visibleInstance(ctx, caller, params<{ server_id: string }>(req).server_id, 'os_compute_api:servers:show');
    // Nova's info cache heals from Neutron; a show refreshes it (floating IPs come and go).
    if (inst.body.ports.length && inst.vm_state !== VM.building) {
      try {
        const addresses = await refreshAddresses(d.network, inst);
        if (JSON.stringify(addresses) !== JSON.stringify(inst.body.addresses)) inst = await updateInstance(db, inst.uuid, { body: { addresses } });
      } catch (err) {
        ctx.log.debug({ err }, 'addresses not refreshed');
      }
    }
    return { server: detailServer(req, inst, await viewOpts(req, caller)) };
  });

  const updateSchema = (req: FastifyRequest): Schema => ({
    type: 'object',
    properties: {
      server: {
        type: 'object',
        properties: {
          name: isLegacy(req) ? nameWithSpaces : nameSchema, accessIPv4: { type: 'string' }, accessIPv6: { type: 'string' },
          'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
          ...(atLeast(req, '2.19') ? { description: { type: ['string', 'null'], maxLength: 255, pattern: '^[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]*$' } } : {}),
          ...(atLeast(req, '2.90') ? { hostname: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-zA-Z0-9][a-zA-Z0-9-]*$' } } : {}),
        },
        additionalProperties: false,
      },
    },
    required: ['server'],
    additionalProperties: false,
  });
  routes.put('/servers/:server_id', async (req) => {
    const caller = routes.caller(req);
    validateBody(updateSchema(req), req.body);
    const inst = await visibleInstance(ctx, caller, params<{ server_id: string }>(req).server_id, 'os_compute_api:servers:update');
    const s = (req.body as { server: Record<string, string | null> }).server;
    const patch: Parameters<typeof updateInstance>[2] = {
      ...(s.name !== undefined ? { display_name: s.name! } : {}),
      body: {
        ...accessIps(s), ...(s['OS-DCF:diskConfig'] !== undefined ? { disk_config: s['OS-DCF:diskConfig'] as 'AUTO' | 'MANUAL' } : {}),
        ...(s.description !== undefined ? { description: s.description } : {}), ...(s.hostname !== undefined ? { hostname: s.hostname! } : {}),
      },
    };
    const next = await updateInstance(db, inst.uuid, patch);
    return { server: changedServer(req, next, await viewOpts(req, caller)) };
  });

  routes.delete('/servers/:server_id', async (req, reply: FastifyReply) => {
    const caller = routes.caller(req);
    const inst = await visibleInstance(ctx, caller, params<{ server_id: string }>(req).server_id, 'os_compute_api:servers:delete');
    await requestDelete(d, caller, inst);
    reply.status(204);
    return reply.send();
  });

  // Metadata.
  const md = (req: FastifyRequest) => params<{ server_id: string; key?: string }>(req);
  routes.get('/servers/:server_id/metadata', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, 'os_compute_api:server-metadata:index');
    return { metadata: inst.body.metadata };
  });
  routes.get('/servers/:server_id/metadata/:key', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, 'os_compute_api:server-metadata:show');
    const k = md(req).key!;
    if (!Object.hasOwn(inst.body.metadata, k)) throw notFound('Metadata item was not found');
    return { meta: { [k]: inst.body.metadata[k] } };
  });
  const setMeta = async (req: FastifyRequest, rule: string, replace: boolean) => {
    validateBody({ type: 'object', properties: { metadata: metadataSchema }, required: ['metadata'], additionalProperties: false }, req.body);
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, rule);
    const next = replace ? { ...(req.body as { metadata: Record<string, string> }).metadata } : { ...inst.body.metadata, ...(req.body as { metadata: Record<string, string> }).metadata };
    const limit = ctx.config.compute.quota_metadata_items;
    if (limit >= 0 && Object.keys(next).length > limit) throw forbidden(`Quota exceeded for metadata_items: Requested ${Object.keys(next).length}, but already used 0 of ${limit} metadata_items`);
    return { metadata: (await updateInstance(db, inst.uuid, { body: { metadata: next } })).body.metadata };
  };
  routes.post('/servers/:server_id/metadata', (req) => setMeta(req, 'os_compute_api:server-metadata:create', false));
  routes.put('/servers/:server_id/metadata', (req) => setMeta(req, 'os_compute_api:server-metadata:update_all', true));
  routes.put('/servers/:server_id/metadata/:key', async (req) => {
    validateBody({ type: 'object', properties: { meta: { ...metadataSchema, minProperties: 1, maxProperties: 1 } }, required: ['meta'], additionalProperties: false }, req.body);
    const meta = (req.body as { meta: Record<string, string> }).meta;
    if (!Object.hasOwn(meta, md(req).key!)) throw badRequest('Request body and URI mismatch');
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, 'os_compute_api:server-metadata:update');
    await updateInstance(db, inst.uuid, { body: { metadata: { ...inst.body.metadata, ...meta } } });
    return { meta };
  });
  routes.delete('/servers/:server_id/metadata/:key', async (req, reply) => {
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, 'os_compute_api:server-metadata:delete');
    const k = md(req).key!;
    if (!Object.hasOwn(inst.body.metadata, k)) throw notFound('Metadata item was not found');
    const { [k]: _gone, ...rest } = inst.body.metadata;
    await updateInstance(db, inst.uuid, { body: { metadata: rest } });
    reply.status(204);
    return reply.send();
  });

  // Addresses.
  routes.get('/servers/:server_id/ips', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, 'os_compute_api:ips:index');
    const addresses: Record<string, { version: number; addr: string }[]> = {};
    for (const [net, list] of Object.entries(inst.body.addresses)) addresses[net] = list.map((a) => ({ version: a.version, addr: a.addr }));
    return { addresses };
  });
  routes.get('/servers/:server_id/ips/:network', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), md(req).server_id, 'os_compute_api:ips:show');
    const net = params<{ network: string }>(req).network;
    const list = Object.hasOwn(inst.body.addresses, net) ? inst.body.addresses[net] : undefined;
    if (!list) throw notFound('Instance is not a member of specified network');
    return { [net]: list.map((a) => ({ version: a.version, addr: a.addr })) };
  });

  // Instance actions.
  routes.get('/servers/:server_id/os-instance-actions', async (req) => {
    const caller = routes.caller(req);
    const id = md(req).server_id;
    const inst = isUuidLike(id) ? await getInstance(db, id, { deleted: true }) : undefined;
    if (!inst || (!caller.isAdmin && inst.project_id !== caller.projectId)) throw notFound(`Instance ${id} could not be found.`);
    ctx.authorize(caller, 'os_compute_api:os-instance-actions:list', { project_id: inst.project_id });
    const rows = await db.selectFrom('compute_instance_action').selectAll().where('instance_uuid', '=', inst.uuid).orderBy('id', 'desc').execute();
    return { instanceActions: rows.map((a) => actionView(req, a)) };
  });
  routes.get('/servers/:server_id/os-instance-actions/:request_id', async (req) => {
    const caller = routes.caller(req);
    const { server_id: id, request_id: rid } = params<{ server_id: string; request_id: string }>(req);
    const inst = isUuidLike(id) ? await getInstance(db, id, { deleted: true }) : undefined;
    if (!inst || (!caller.isAdmin && inst.project_id !== caller.projectId)) throw notFound(`Instance ${id} could not be found.`);
    ctx.authorize(caller, 'os_compute_api:os-instance-actions:show', { project_id: inst.project_id });
    const a = await db.selectFrom('compute_instance_action').selectAll().where('instance_uuid', '=', inst.uuid).where('request_id', '=', rid).executeTakeFirst();
    if (!a) throw notFound(`Action for request_id ${rid} on instance ${inst.uuid} not found`);
    const out = actionView(req, a) as Record<string, unknown>;
    if (ctx.allows(caller, 'os_compute_api:os-instance-actions:events', { project_id: inst.project_id }) || atLeast(req, '2.51')) {
      const showDetails = ctx.allows(caller, 'os_compute_api:os-instance-actions:events:details', { project_id: inst.project_id });
      const evs = await db.selectFrom('compute_instance_action_event').selectAll().where('action_id', '=', a.id).orderBy('id').execute();
      out.events = evs.map((e) => ({
        event: e.event, start_time: e.start_time, finish_time: e.finish_time, result: e.result,
        ...(showDetails ? { traceback: e.traceback } : {}),
        ...(atLeast(req, '2.62') && showDetails ? { host: e.host ?? '', hostId: e.host ? hostIdOf(inst.project_id, e.host) : '' } : {}),
        ...(atLeast(req, '2.84') ? { details: e.details } : {}),
      }));
    }
    return { instanceAction: out };
  });

  registerServerActions(routes, d);
  registerServerGroups(routes, ctx);
  registerServerTags(routes, ctx);
  registerTenantUsage(routes, ctx);
  registerImageProxy(routes, d);
  registerHosts(routes, ctx);
  registerMigrations(routes, ctx);
  registerServerPassword(routes, ctx);
  registerUsageAuditLog(routes, ctx);
  registerServerExternalEvents(routes, d);
  registerServerDiagnostics(routes, d);
  registerNetworkProxies(routes, d);
}


function actionView(req: FastifyRequest, a: ServersDB['compute_instance_action']): Record<string, unknown> {
  return {
    action: a.action, instance_uuid: a.instance_uuid, request_id: a.request_id, user_id: a.user_id, project_id: a.project_id,
    start_time: a.start_time, message: a.message, ...(atLeast(req, '2.58') ? { updated_at: a.updated_at ?? a.start_time } : {}),
  };
}

