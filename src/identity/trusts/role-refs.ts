import { notFound } from '../../platform/http/faults.js';
import { invalid } from '../api/validate.js';
import type { Identity } from '../identity.js';
import { NULL_DOMAIN, type RoleRow } from '../store/schema.js';
import { parseJsonObject } from '../util.js';

/** A role reference of a trust or application credential request: exactly one of id or name. */
export type RoleRef = { id: string } | { name: string };

const ID_STRING = /^[a-zA-Z0-9-]+$/;

/**
 * Validates Keystone's `roles` request schema (a list of objects with exactly one of `id`
 * (id_string) or `name` (1..255, not blank)); undefined when absent.
 */
export function roleRefList(o: Record<string, unknown>, field = 'roles'): RoleRef[] | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw invalid(field, `${JSON.stringify(v)} is not of type 'array'`);
  return v.map((item, i) => {
    const path = `${field}/${i}`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw invalid(path, `${JSON.stringify(item)} is not of type 'object'`);
    const keys = Object.keys(item);
    if (keys.length !== 1) throw invalid(path, `${JSON.stringify(item)} ${keys.length === 0 ? 'does not have enough properties' : 'has too many properties'}`);
    const r = item as Record<string, unknown>;
    if (keys[0] === 'id') {
      if (typeof r.id !== 'string' || r.id.length < 1 || r.id.length > 64 || !ID_STRING.test(r.id)) {
        throw invalid(`${path}/id`, `${JSON.stringify(r.id)} is not a valid id`);
      }
      return { id: r.id };
    }
    if (keys[0] === 'name') {
      if (typeof r.name !== 'string' || r.name.length < 1 || r.name.length > 255 || !/\S/.test(r.name)) {
        throw invalid(`${path}/name`, `${JSON.stringify(r.name)} is not a valid name`);
      }
      return { name: r.name };
    }
    throw invalid(path, `Additional properties are not allowed ('${keys[0]}' was unexpected)`);
  });
}

/**
 * Keystone's `get_unique_role_by_name`: names resolve among global roles only; an unknown
 * name is 404 "Role X is not defined". Ids are kept as given (checked later by the caller).
 * The result has no duplicates, in request order.
 */
export async function resolveRoleRefs(id: Identity, refs: readonly RoleRef[]): Promise<string[]> {
  const out: string[] = [];
  for (const ref of refs) {
    let roleId: string;
    if ('id' in ref) roleId = ref.id;
    else {
      const row = await id.db.selectFrom('role').select('id').where('name', '=', ref.name).where('domain_id', '=', NULL_DOMAIN).executeTakeFirst();
      if (!row) throw notFound(`Role ${ref.name} is not defined`);
      roleId = row.id;
    }
    if (!out.includes(roleId)) out.push(roleId);
  }
  return out;
}

/** Role rows by id, in the order of `ids` (unknown ids left out). */
export async function loadRoles(id: Identity, ids: readonly string[]): Promise<RoleRow[]> {
  if (ids.length === 0) return [];
  const rows = await id.db.selectFrom('role').selectAll().where('id', 'in', [...ids]).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((rid) => byId.get(rid) ?? []);
}

/** A role as Keystone's `role_api.get_role` returns it (extra attributes merged, as Keystone does). */
export function roleEntity(row: RoleRow): Record<string, unknown> {
  return {
    ...parseJsonObject(row.extra),
    id: row.id,
    name: row.name,
    domain_id: row.domain_id === NULL_DOMAIN ? null : row.domain_id,
    description: row.description ?? null,
    options: parseJsonObject(row.options),
  };
}
