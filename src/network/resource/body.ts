/**
 * Request bodies and responses of a resource: `{"network": {…}}` (or the bulk form
 * `{"networks": [ … ]}`) checked against the attribute map, and objects rendered for a caller
 * (admin-only attributes hidden, `fields` applied).
 */
import { badRequest } from '../../platform/http/faults.js';
import { badAttr, netFault } from '../faults.js';
import type { Caller } from '../context.js';
import type { AttrSpec, Obj, ResourceDef } from './types.js';
import { string, stringOrNone, listOf } from './validate.js';

/** Attributes every Neutron resource with standard attributes has. */
export function standardAttributes(opts: { name?: boolean; description?: boolean; tags?: boolean } = {}): Record<string, AttrSpec> {
  const out: Record<string, AttrSpec> = {
    id: { post: false, put: false },
    tenant_id: { post: true, put: false, check: string(255) },
    project_id: { post: true, put: false, check: string(255) },
    created_at: { post: false, put: false },
    updated_at: { post: false, put: false },
    revision_number: { post: false, put: false },
  };
  if (opts.name !== false) out.name = { post: true, put: true, default: '', check: string(255) };
  if (opts.description !== false) out.description = { post: true, put: true, default: '', check: stringOrNone(255) };
  if (opts.tags !== false) out.tags = { post: false, put: false, filter: false };
  return out;
}

/** A tag list, as the tags extension accepts it. */
export const tagsCheck = listOf(string(255), { unique: true });

// Attribute maps are static: the shown names are worked out once per resource and audience.
const shownCache = new WeakMap<ResourceDef, { admin: readonly string[]; other: readonly string[] }>();

/** The attributes a response shows an admin (or anyone else), in attribute-map order. */
export function shownAttributes(def: ResourceDef, isAdmin: boolean): readonly string[] {
  let shown = shownCache.get(def);
  if (!shown) {
    const entries = Object.entries(def.attributes).filter(([, spec]) => spec.visible !== 'none');
    shown = { admin: entries.map(([name]) => name), other: entries.filter(([, spec]) => spec.visible !== 'admin').map(([name]) => name) };
    shownCache.set(def, shown);
  }
  return isAdmin ? shown.admin : shown.other;
}

/** Object → response body for `caller`, keeping only `fields` when given. */
export function render(def: ResourceDef, obj: Obj, caller: Caller, fields: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const wanted = fields.length ? new Set(fields) : undefined;
  for (const name of shownAttributes(def, caller.isAdmin)) {
    if (wanted && !wanted.has(name)) continue;
    out[name] = obj[name] ?? null;
  }
  return out;
}

function unwrap(body: unknown, key: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`Resource body required`);
  const inner = (body as Record<string, unknown>)[key];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw badRequest(`Unable to find '${key}' in request body`);
  return inner as Record<string, unknown>;
}

function checkKnown(def: ResourceDef, given: Record<string, unknown>, method: 'POST' | 'PUT'): void {
  // Internal attributes are unknown to callers; write-only ones (a subnet's `prefixlen`) are not.
  const unknown = Object.keys(given).filter((k) => !(k in def.attributes) || (def.attributes[k]!.visible === 'none' && !def.attributes[k]!.post && !def.attributes[k]!.put));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const k of Object.keys(given)) {
    const spec = def.attributes[k]!;
    if (method === 'POST' && !spec.post) throw badRequest(`Attribute '${k}' not allowed in POST`);
    if (method === 'PUT' && !spec.put) throw badRequest(`Cannot update read-only attribute ${k}`);
  }
}

function checkAdminWrites(def: ResourceDef, given: Record<string, unknown>, caller: Caller, action: string): void {
  if (caller.isAdmin) return;
  for (const k of Object.keys(given)) {
    if (def.attributes[k]?.adminWrite) throw netFault(403, 'PolicyNotAuthorized', `(rule:${action}_${def.member}:${k}) is disallowed by policy`);
  }
}

/**
 * One create body checked and completed with defaults; `project_id`/`tenant_id` default to the
 * caller's project, and only an admin may name another.
 */
export function createAttrs(def: ResourceDef, given: Record<string, unknown>, caller: Caller): Record<string, unknown> {
  checkKnown(def, given, 'POST');
  checkAdminWrites(def, given, caller, 'create');
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(def.attributes)) {
    if (!spec.post) continue;
    if (name in given) {
      out[name] = spec.check ? spec.check(given[name], name) : given[name];
    } else if (spec.required) {
      throw badRequest(`Failed to parse request. Required attribute '${name}' not specified`);
    } else if ('default' in spec) {
      out[name] = typeof spec.default === 'function' ? (spec.default as () => unknown)() : spec.default;
    }
  }
  const tenant = (out.tenant_id as string | undefined) ?? undefined;
  const project = (out.project_id as string | undefined) ?? undefined;
  if (tenant !== undefined && project !== undefined && tenant !== project) throw badAttr('project_id', "'project_id' and 'tenant_id' do not match");
  const owner = project ?? tenant ?? caller.projectId;
  if (owner !== caller.projectId && !caller.isAdmin) {
    throw badRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  if ('tenant_id' in def.attributes) { out.tenant_id = owner; out.project_id = owner; }
  return out;
}

/** The create bodies of a request: one (`{"network": …}`) or many (`{"networks": […]}`). */
export function createBodies(def: ResourceDef, body: unknown, caller: Caller): { bulk: boolean; items: Record<string, unknown>[] } {
  if (typeof body === 'object' && body !== null && Array.isArray((body as Record<string, unknown>)[def.collection])) {
    const list = (body as Record<string, unknown[]>)[def.collection]!;
    if (list.length === 0) throw badRequest(`Resources required`);
    return { bulk: true, items: list.map((item) => createAttrs(def, unwrap({ [def.member]: item }, def.member), caller)) };
  }
  return { bulk: false, items: [createAttrs(def, unwrap(body, def.member), caller)] };
}

/** An update body checked; only the attributes given. */
export function updateAttrs(def: ResourceDef, body: unknown, caller: Caller): Record<string, unknown> {
  const given = unwrap(body, def.member);
  checkKnown(def, given, 'PUT');
  checkAdminWrites(def, given, caller, 'update');
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(given)) {
    const spec = def.attributes[name]!;
    out[name] = spec.check ? spec.check(v, name) : v;
  }
  return out;
}

/** 404 unless the caller may see `obj` (admin, owner, or `extra` says so). */
export function ensureVisible(def: ResourceDef, obj: Obj | undefined, id: string, caller: Caller, extra = false): Obj {
  if (!obj || !(caller.isAdmin || obj.project_id === caller.projectId || extra)) throw def.notFound(id);
  return obj;
}
