/**
 * Flavors, their extra specs and access lists (`/flavors`, `/flavors/detail`,
 * `/flavors/{id}/os-extra_specs`, `/flavors/{id}/os-flavor-access`, `/flavors/{id}/action`)
 * with Nova's schemas and versioned views (description 2.55, extra_specs 2.61, swap 0 at 2.75,
 * strict queries at 2.75, extra-spec validation at 2.86, 409 for access to public flavors at 2.7).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, ComputeContext } from '../context.js';
import { badRequest, conflict, notFound } from '../faults.js';
import {
  addFlavorAccess, createFlavor, deleteExtraSpec, deleteFlavor, FLAVOR_SORT_KEYS, flavorProjects, getFlavor, listFlavors,
  removeFlavorAccess, setExtraSpecs, updateFlavorDescription, type Flavor, type FlavorFilters, type FlavorSortKey,
} from '../flavors.js';
import { validateExtraSpec } from '../extra-specs.js';
import { actionOf, queryValue, strictBool } from './actions.js';
import { atLeast, isLegacy, limitAndMarker, nextLinks, params, selfLinks, type ComputeRoutes } from './http.js';
import {
  booleanParam, METADATA_KEY, multiParams, name, nameWithSpaces, nonNegativeInteger, queryLists, validateBody, validateQuery,
  type Schema,
} from './schema.js';

const flavorParam = (min: number): Schema => ({ type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: min, maximum: 0x7FFFFFFF });
const DESCRIPTION_RE = '^[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]*$';
const description: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 65535, pattern: DESCRIPTION_RE };

function createSchema(req: FastifyRequest): Schema {
  const props: Record<string, Schema> = {
    name: isLegacy(req) ? nameWithSpaces : name,
    id: { type: ['string', 'number', 'null'], minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' },
    ram: flavorParam(1),
    vcpus: flavorParam(1),
    disk: flavorParam(0),
    'OS-FLV-EXT-DATA:ephemeral': flavorParam(0),
    swap: flavorParam(0),
    rxtx_factor: { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?$', exclusiveMinimum: 0, maximum: 3.40282e+38 },
    'os-flavor-access:is_public': booleanParam,
  };
  if (atLeast(req, '2.55')) props.description = description;
  return {
    type: 'object',
    properties: { flavor: { type: 'object', properties: props, required: ['name', 'ram', 'vcpus', 'disk'], additionalProperties: false } },
    required: ['flavor'],
    additionalProperties: false,
  };
}

const updateSchema: Schema = {
  type: 'object',
  properties: { flavor: { type: 'object', properties: { description }, required: ['description'], additionalProperties: false } },
  required: ['flavor'],
  additionalProperties: false,
};

function indexQuerySchema(req: FastifyRequest): Schema {
  return {
    type: 'object',
    properties: {
      limit: multiParams(nonNegativeInteger),
      marker: multiParams({ type: 'string' }),
      is_public: multiParams({ type: 'string' }),
      minRam: multiParams({ type: 'string' }),
      minDisk: multiParams({ type: 'string' }),
      sort_key: multiParams({ type: 'string', enum: FLAVOR_SORT_KEYS }),
      sort_dir: multiParams({ type: 'string', enum: ['asc', 'desc'] }),
    },
    additionalProperties: !atLeast(req, '2.75'),
  };
}

const extraSpecValue: Schema = { type: ['string', 'number'], maxLength: 255 };
const extraSpecsMap: Schema = { type: 'object', patternProperties: { [METADATA_KEY]: extraSpecValue }, additionalProperties: false };
const extraSpecsCreateSchema: Schema = { type: 'object', properties: { extra_specs: extraSpecsMap }, required: ['extra_specs'], additionalProperties: false };
const extraSpecsUpdateSchema: Schema = { ...extraSpecsMap, minProperties: 1, maxProperties: 1 };

const tenantSchema = (action: string): Schema => ({
  type: 'object',
  properties: { [action]: { type: 'object', properties: { tenant: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['tenant'], additionalProperties: false } },
  required: [action],
  additionalProperties: false,
});

/** Whether the caller may see extra specs inside flavor bodies (2.61). */
const showsExtraSpecs = (ctx: ComputeContext, req: FastifyRequest, caller: Caller): boolean =>
  atLeast(req, '2.61') && ctx.allows(caller, 'os_compute_api:os-flavor-extra-specs:index', { project_id: caller.projectId });

/** Nova's detailed flavor view at the request's microversion. */
export function flavorDetail(req: FastifyRequest, f: Flavor, includeExtraSpecs: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: f.flavorid,
    name: f.name,
    ram: f.memory_mb,
    disk: f.root_gb,
    swap: atLeast(req, '2.75') ? f.swap : f.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': f.disabled === 1,
    vcpus: f.vcpus,
    'os-flavor-access:is_public': f.is_public === 1,
    rxtx_factor: f.rxtx_factor || '',
    links: selfLinks(req, 'flavors', f.flavorid),
  };
  if (atLeast(req, '2.55')) body.description = f.description;
  if (includeExtraSpecs) body.extra_specs = f.extra_specs;
  return body;
}

function flavorBrief(req: FastifyRequest, f: Flavor): Record<string, unknown> {
  const body: Record<string, unknown> = { id: f.flavorid, name: f.name, links: selfLinks(req, 'flavors', f.flavorid) };
  if (atLeast(req, '2.55')) body.description = f.description;
  return body;
}

/** The list filters and page of a `GET /flavors[/detail]` (Nova's `_get_flavors`). */
async function listFor(ctx: ComputeContext, req: FastifyRequest, caller: Caller): Promise<Flavor[]> {
  validateQuery(indexQuerySchema(req), queryLists(req.query));
  const filters: { -readonly [K in keyof FlavorFilters]: FlavorFilters[K] } = { isPublic: true };
  if (caller.isAdmin) {
    const raw = queryValue(req, 'is_public');
    if (raw === undefined) filters.isPublic = true;
    else if (raw.toLowerCase() === 'none') filters.isPublic = null;
    else {
      const b = strictBool(raw);
      if (b === undefined) throw badRequest(`Invalid is_public filter [${raw}]`);
      filters.isPublic = b;
    }
  } else {
    filters.isPublic = true;
    filters.disabled = false;
  }
  for (const [param, key] of [['minRam', 'minMemoryMb'], ['minDisk', 'minRootGb']] as const) {
    const raw = queryValue(req, param);
    if (raw === undefined) continue;
    if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest(`Invalid ${param} filter [${raw}]`);
    filters[key] = Number(raw);
  }
  const nameFilter = queryValue(req, 'name');
  if (nameFilter !== undefined) filters.name = nameFilter;
  const { limit, marker } = limitAndMarker(req, ctx.maxLimit);
  const sortKey = (queryValue(req, 'sort_key') || 'flavorid') as FlavorSortKey;
  const sortDir = (queryValue(req, 'sort_dir') || 'asc') as 'asc' | 'desc';
  return listFlavors(ctx, caller, filters, { sortKey, sortDir, limit, marker });
}

/** Values of extra specs as stored (numbers become strings), checked as Nova's `_check_extra_specs_value`. */
function specValues(req: FastifyRequest, specs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specs)) {
    const value = String(v);
    if (typeof v === 'number' && value.length > 255) throw badRequest(`Invalid input received: extra_specs value has a maximum length of 255.`);
    if (atLeast(req, '2.86')) validateExtraSpec(k, value);
    out[k] = value;
  }
  return out;
}

const accessList = async (ctx: ComputeContext, f: Flavor) => ({
  flavor_access: (await flavorProjects(ctx.db, f.id)).map((p) => ({ flavor_id: f.flavorid, tenant_id: p })),
});

/** Registers the flavor routes. `projectExists` answers Nova's `verify_project_id` (undefined: cannot tell). */
export function registerFlavors(r: ComputeRoutes, projectExists: (id: string) => Promise<boolean | undefined>): void {
  const ctx = r.ctx;

  r.get('/flavors', async (req) => {
    const flavors = await listFor(ctx, req, r.caller(req));
    const links = nextLinks(req, 'flavors', flavors.length, flavors.at(-1)?.flavorid, ctx.maxLimit);
    return { flavors: flavors.map((f) => flavorBrief(req, f)), ...(links.length ? { flavors_links: links } : {}) };
  });

  r.get('/flavors/detail', async (req) => {
    const caller = r.caller(req);
    const flavors = await listFor(ctx, req, caller);
    const specs = showsExtraSpecs(ctx, req, caller);
    const links = nextLinks(req, 'flavors/detail', flavors.length, flavors.at(-1)?.flavorid, ctx.maxLimit);
    return { flavors: flavors.map((f) => flavorDetail(req, f, specs)), ...(links.length ? { flavors_links: links } : {}) };
  });

  r.get('/flavors/:id', async (req) => {
    const caller = r.caller(req);
    const f = await getFlavor(ctx, params<{ id: string }>(req).id, caller);
    return { flavor: flavorDetail(req, f, showsExtraSpecs(ctx, req, caller)) };
  });

  r.post('/flavors', async (req) => {
    const caller = r.caller(req);
    validateBody(createSchema(req), req.body);
    ctx.authorize(caller, 'os_compute_api:os-flavor-manage:create');
    const v = (req.body as { flavor: Record<string, unknown> }).flavor;
    const isPublicRaw = v['os-flavor-access:is_public'];
    const f = await createFlavor(ctx, {
      name: String(v.name),
      flavorid: v.id === undefined || v.id === null ? null : String(v.id),
      memory_mb: Number(v.ram),
      vcpus: Number(v.vcpus),
      root_gb: Number(v.disk),
      ephemeral_gb: v['OS-FLV-EXT-DATA:ephemeral'] === undefined ? 0 : Number(v['OS-FLV-EXT-DATA:ephemeral']),
      swap: v.swap === undefined ? 0 : Number(v.swap),
      rxtx_factor: v.rxtx_factor === undefined ? 1.0 : Number(v.rxtx_factor),
      is_public: isPublicRaw === undefined ? true : typeof isPublicRaw === 'boolean' ? isPublicRaw : strictBool(String(isPublicRaw)) !== false,
      description: atLeast(req, '2.55') ? (v.description as string | null | undefined) ?? null : null,
    });
    return { flavor: flavorDetail(req, f, showsExtraSpecs(ctx, req, caller)) };
  });

  r.put('/flavors/:id', async (req) => {
    if (!atLeast(req, '2.55')) throw notFound('The resource could not be found.');
    const caller = r.caller(req);
    validateBody(updateSchema, req.body);
    ctx.authorize(caller, 'os_compute_api:os-flavor-manage:update');
    const desc = (req.body as { flavor: { description: string | null } }).flavor.description;
    const f = await updateFlavorDescription(ctx, params<{ id: string }>(req).id, desc);
    return { flavor: flavorDetail(req, f, showsExtraSpecs(ctx, req, caller)) };
  });

  r.delete('/flavors/:id', async (req, reply: FastifyReply) => {
    ctx.authorize(r.caller(req), 'os_compute_api:os-flavor-manage:delete');
    await deleteFlavor(ctx, params<{ id: string }>(req).id);
    reply.status(202).send();
  });

  // ---- extra specs ----
  r.get('/flavors/:flavor_id/os-extra_specs', async (req) => {
    const caller = r.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-flavor-extra-specs:index', { project_id: caller.projectId });
    const f = await getFlavor(ctx, params<{ flavor_id: string }>(req).flavor_id, caller);
    return { extra_specs: f.extra_specs };
  });

  r.post('/flavors/:flavor_id/os-extra_specs', async (req) => {
    const caller = r.caller(req);
    validateBody(extraSpecsCreateSchema, req.body);
    ctx.authorize(caller, 'os_compute_api:os-flavor-extra-specs:create');
    const body = req.body as { extra_specs: Record<string, unknown> };
    const specs = specValues(req, body.extra_specs);
    const f = await getFlavor(ctx, params<{ flavor_id: string }>(req).flavor_id, caller);
    await setExtraSpecs(ctx, f, specs);
    return body;
  });

  r.get('/flavors/:flavor_id/os-extra_specs/:id', async (req) => {
    const caller = r.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-flavor-extra-specs:show', { project_id: caller.projectId });
    const { flavor_id: flavorId, id } = params<{ flavor_id: string; id: string }>(req);
    const f = await getFlavor(ctx, flavorId, caller);
    if (!Object.hasOwn(f.extra_specs, id)) throw notFound(`Flavor ${flavorId} has no extra specs with key ${id}.`);
    return { [id]: f.extra_specs[id] };
  });

  r.put('/flavors/:flavor_id/os-extra_specs/:id', async (req) => {
    const caller = r.caller(req);
    validateBody(extraSpecsUpdateSchema, req.body);
    ctx.authorize(caller, 'os_compute_api:os-flavor-extra-specs:update');
    const body = req.body as Record<string, unknown>;
    const specs = specValues(req, body);
    const { flavor_id: flavorId, id } = params<{ flavor_id: string; id: string }>(req);
    if (!Object.hasOwn(body, id)) throw badRequest('Request body and URI mismatch');
    const f = await getFlavor(ctx, flavorId, caller);
    await setExtraSpecs(ctx, f, specs);
    return body;
  });

  r.delete('/flavors/:flavor_id/os-extra_specs/:id', async (req, reply: FastifyReply) => {
    const caller = r.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-flavor-extra-specs:delete');
    const { flavor_id: flavorId, id } = params<{ flavor_id: string; id: string }>(req);
    const f = await getFlavor(ctx, flavorId, caller);
    await deleteExtraSpec(ctx, f, id);
    reply.status(200).send();
  });

  // ---- access ----
  r.get('/flavors/:flavor_id/os-flavor-access', async (req) => {
    const caller = r.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-flavor-access');
    const f = await getFlavor(ctx, params<{ flavor_id: string }>(req).flavor_id, caller);
    if (f.is_public === 1) throw notFound('Access list not available for public flavors.');
    return accessList(ctx, f);
  });

  r.post('/flavors/:id/action', async (req) => {
    const caller = r.caller(req);
    const action = actionOf(req.body, ['addTenantAccess', 'removeTenantAccess']);
    const id = params<{ id: string }>(req).id;
    if (action === 'addTenantAccess') {
      validateBody(tenantSchema(action), req.body);
      ctx.authorize(caller, 'os_compute_api:os-flavor-access:add_tenant_access');
      const tenant = (req.body as { addTenantAccess: { tenant: string } }).addTenantAccess.tenant;
      if ((await projectExists(tenant)) === false) throw badRequest(`Project ID ${tenant} is not a valid project.`);
      const f = await getFlavor(ctx, id, caller);
      if (atLeast(req, '2.7') && f.is_public === 1) throw conflict('Can not add access to a public flavor.');
      await addFlavorAccess(ctx, f, tenant);
      return accessList(ctx, f);
    }
    validateBody(tenantSchema(action), req.body);
    ctx.authorize(caller, 'os_compute_api:os-flavor-access:remove_tenant_access');
    const tenant = (req.body as { removeTenantAccess: { tenant: string } }).removeTenantAccess.tenant;
    // Whether the project still exists does not matter for taking its access away.
    const f = await getFlavor(ctx, id, caller);
    await removeFlavorAccess(ctx, f, tenant);
    return accessList(ctx, f);
  });
}
