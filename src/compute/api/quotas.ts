/**
 * `/os-quota-sets/{project_id}` (show, detail, defaults, update, delete; per user with
 * `?user_id=`), `/os-quota-class-sets/{class}` and `/limits`, with the resources each
 * microversion shows (network ones gone at 2.36, file injection at 2.57; quota classes show
 * server groups from 2.50; limits lose maxImageMeta at 2.39).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../faults.js';
import {
  classQuotas, defaultQuotas, deleteQuotas, isQuotaResource, projectQuotas, QUOTA_RESOURCES, setClassQuotas, setQuotas, userQuotas,
  type QuotaResource, type QuotaSet,
} from '../quotas.js';
import { firstQueryValue, queryValue, strictBool } from './actions.js';
import { atLeast, params, type ComputeRoutes } from './http.js';
import { booleanParam, commonQueryParam, multiParams, queryLists, validateBody, validateQuery, type Schema } from './schema.js';

const NETWORK: readonly QuotaResource[] = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const INJECTION: readonly QuotaResource[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** Resources a quota-set request sees at its microversion. */
function visibleResources(req: FastifyRequest, since = { network: '2.36', injection: '2.57' }): QuotaResource[] {
  const hidden = new Set<QuotaResource>();
  if (atLeast(req, since.network)) NETWORK.forEach((r) => hidden.add(r));
  if (atLeast(req, since.injection)) INJECTION.forEach((r) => hidden.add(r));
  return QUOTA_RESOURCES.filter((r) => !hidden.has(r));
}

const quotaValue: Schema = { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: 0x7FFFFFFF };

function updateSchema(key: 'quota_set' | 'quota_class_set', resources: readonly QuotaResource[], withForce: boolean): Schema {
  const props: Record<string, Schema> = Object.fromEntries(resources.map((r) => [r, quotaValue]));
  if (withForce) props.force = booleanParam;
  return { type: 'object', properties: { [key]: { type: 'object', properties: props, additionalProperties: false } }, required: [key], additionalProperties: false };
}

const userQuery = (req: FastifyRequest): Schema => ({ type: 'object', properties: { user_id: multiParams({ type: 'string' }) }, additionalProperties: !atLeast(req, '2.75') });

const pick = <T>(values: Record<QuotaResource, T>, resources: readonly QuotaResource[]): Partial<Record<QuotaResource, T>> =>
  Object.fromEntries(resources.map((r) => [r, values[r]]));

/** Limit names of `/limits` per quota resource (Nova's limits view). */
const LIMIT_NAMES: Partial<Record<QuotaResource, readonly string[]>> = {
  ram: ['maxTotalRAMSize'], instances: ['maxTotalInstances'], cores: ['maxTotalCores'], key_pairs: ['maxTotalKeypairs'],
  floating_ips: ['maxTotalFloatingIps'], metadata_items: ['maxServerMeta', 'maxImageMeta'], injected_files: ['maxPersonality'],
  injected_file_content_bytes: ['maxPersonalitySize'], security_groups: ['maxSecurityGroups'],
  security_group_rules: ['maxSecurityGroupRules'], server_groups: ['maxServerGroups'], server_group_members: ['maxServerGroupMembers'],
};
const USED_NAMES: readonly [string, QuotaResource][] = [
  ['totalRAMUsed', 'ram'], ['totalCoresUsed', 'cores'], ['totalInstancesUsed', 'instances'], ['totalFloatingIpsUsed', 'floating_ips'],
  ['totalSecurityGroupsUsed', 'security_groups'], ['totalServerGroupsUsed', 'server_groups'],
];

export function registerQuotas(r: ComputeRoutes, projectExists: (id: string) => Promise<boolean | undefined>): void {
  const ctx = r.ctx;
  const verifyProject = async (id: string) => {
    if ((await projectExists(id)) === false) throw badRequest(`Project ID ${id} is not a valid project.`);
  };

  r.get('/os-quota-sets/:id', async (req) => {
    validateQuery(userQuery(req), queryLists(req.query));
    const id = params<{ id: string }>(req).id;
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-sets:show', { project_id: id });
    await verifyProject(id);
    const userId = firstQueryValue(req, 'user_id');
    const q = userId ? await userQuotas(ctx, id, userId) : await projectQuotas(ctx, id);
    const limits = Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.limit])) as QuotaSet;
    return { quota_set: { id, ...pick(limits, visibleResources(req)) } };
  });

  r.get('/os-quota-sets/:id/detail', async (req) => {
    validateQuery(userQuery(req), queryLists(req.query));
    const id = params<{ id: string }>(req).id;
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-sets:detail', { project_id: id });
    await verifyProject(id);
    const userId = queryValue(req, 'user_id');
    const q = userId ? await userQuotas(ctx, id, userId) : await projectQuotas(ctx, id);
    const detail = Object.fromEntries(Object.entries(q).map(([k, v]) => [k, { limit: v.limit, in_use: v.in_use, reserved: 0 }])) as Record<QuotaResource, unknown>;
    return { quota_set: { id, ...pick(detail, visibleResources(req)) } };
  });

  r.get('/os-quota-sets/:id/defaults', async (req) => {
    const id = params<{ id: string }>(req).id;
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-sets:defaults', { project_id: id });
    await verifyProject(id);
    return { quota_set: { id, ...pick(await defaultQuotas(ctx), visibleResources(req)) } };
  });

  r.put('/os-quota-sets/:id', async (req) => {
    validateBody(updateSchema('quota_set', visibleResources(req), true), req.body);
    validateQuery(userQuery(req), queryLists(req.query));
    const id = params<{ id: string }>(req).id;
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-sets:update', { project_id: id });
    await verifyProject(id);
    const userId = firstQueryValue(req, 'user_id');
    const body = (req.body as { quota_set: Record<string, unknown> }).quota_set;
    const force = body.force === undefined ? false : strictBool(String(body.force)) === true;
    const limits: Partial<QuotaSet> = {};
    for (const [k, v] of Object.entries(body)) if (k !== 'force' && isQuotaResource(k)) limits[k] = Number(v);
    await setQuotas(ctx, id, userId || undefined, limits, force);
    const q = userId ? await userQuotas(ctx, id, userId) : await projectQuotas(ctx, id);
    const values = Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.limit])) as QuotaSet;
    return { quota_set: pick(values, visibleResources(req)) };
  });

  r.delete('/os-quota-sets/:id', async (req, reply: FastifyReply) => {
    validateQuery(userQuery(req), queryLists(req.query));
    const id = params<{ id: string }>(req).id;
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-sets:delete', { project_id: id });
    await deleteQuotas(ctx, id, firstQueryValue(req, 'user_id') || undefined);
    reply.status(202).send();
  });

  // ---- quota classes ----
  const classResources = (req: FastifyRequest): QuotaResource[] => {
    const shown = visibleResources(req, { network: '2.50', injection: '2.57' });
    return atLeast(req, '2.50') ? shown : shown.filter((x) => x !== 'server_groups' && x !== 'server_group_members');
  };

  r.get('/os-quota-class-sets/:id', async (req) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-class-sets:show');
    const id = params<{ id: string }>(req).id;
    return { quota_class_set: { id, ...pick(await classQuotas(ctx, id), classResources(req)) } };
  });

  r.put('/os-quota-class-sets/:id', async (req) => {
    const settable = visibleResources(req, { network: '2.50', injection: '2.57' });
    validateBody(updateSchema('quota_class_set', settable, false), req.body);
    ctx.authorize(r.caller(req), 'os_compute_api:os-quota-class-sets:update');
    const id = params<{ id: string }>(req).id;
    if (id.length < 1 || id.length > 255) throw badRequest('Invalid input received: quota_class_name has a maximum length of 255.');
    const body = (req.body as { quota_class_set: Record<string, unknown> }).quota_class_set;
    const limits: Partial<QuotaSet> = {};
    for (const [k, v] of Object.entries(body)) if (isQuotaResource(k)) limits[k] = Number(v);
    await setClassQuotas(ctx, id, limits);
    return { quota_class_set: pick(await classQuotas(ctx, id), classResources(req)) };
  });

  // ---- limits ----
  r.get('/limits', async (req) => {
    validateQuery({ type: 'object', properties: { tenant_id: commonQueryParam }, additionalProperties: !atLeast(req, '2.75') }, queryLists(req.query));
    const caller = r.caller(req);
    ctx.authorize(caller, 'os_compute_api:limits');
    let projectId = caller.projectId;
    const tenant = queryValue(req, 'tenant_id');
    if (tenant !== undefined) {
      projectId = tenant;
      ctx.authorize(caller, 'os_compute_api:limits:other_project');
    }
    const q = await projectQuotas(ctx, projectId);
    const filtered = new Set<QuotaResource>();
    if (atLeast(req, '2.36')) ['floating_ips', 'security_groups', 'security_group_rules'].forEach((x) => filtered.add(x as QuotaResource));
    if (atLeast(req, '2.57')) ['injected_files', 'injected_file_content_bytes'].forEach((x) => filtered.add(x as QuotaResource));
    const absolute: Record<string, number> = {};
    for (const [res, names] of Object.entries(LIMIT_NAMES) as [QuotaResource, readonly string[]][]) {
      if (filtered.has(res)) continue;
      for (const n of names) if (n !== 'maxImageMeta' || !atLeast(req, '2.39')) absolute[n] = q[res].limit;
    }
    for (const [n, res] of USED_NAMES) if (!filtered.has(res)) absolute[n] = q[res].in_use;
    return { limits: { rate: [], absolute } };
  });
}
