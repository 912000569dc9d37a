import { sql } from 'kysely';
import type { Identity } from '../identity.js';
import { badRequest, conflict, Fault } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import { NULL_DOMAIN, type RoleRow } from '../store/schema.js';
import { newId, parseJsonObject } from '../util.js';
import { requireRole, roleDomainId } from './refs.js';

/** A validated role body: the known attributes and the extra ones Keystone keeps. */
export interface RoleInput {
  name?: string;
  domain_id?: string | null;
  description?: string;
  /** Option values; null removes the option. */
  options?: Record<string, boolean | null>;
  extra: Record<string, unknown>;
  /** Keys present in the request body (immutability checks count them). */
  keys: string[];
  /** The `id` the body carried, if any (an update may only repeat the role's own). */
  id?: unknown;
}

const roleConflict = (name: string | undefined, domainId: string | null | undefined): Fault => {
  let details = 'Duplicate entry';
  if (name && domainId) details = `Duplicate entry found with name ${name} at domain ID ${domainId}`;
  else if (name) details = `Duplicate entry found with name ${name}`;
  else if (domainId) details = `Duplicate entry at domain ID ${domainId}`;
  return conflict(`Conflict occurred attempting to store role - ${details}.`);
};

/** Keystone's 403 for changing or deleting an immutable resource. */
const immutableFault = (action: 'update' | 'delete', roleId: string): Fault =>
  new Fault(403, `Unable to ${action} immutable role resource: \`${roleId}. Set resource option "immutable" to false first.`);

/** True when another role of the same domain has this name (names compare without case, as on Keystone's MySQL). */
async function nameTaken(id: Identity, name: string, domain: string, exceptId?: string): Promise<boolean> {
  let q = id.db.selectFrom('role').select('id').where('domain_id', '=', domain).where(sql`lower(name)`, '=', name.toLowerCase());
  if (exceptId) q = q.where('id', '!=', exceptId);
  return !!(await q.executeTakeFirst());
}

function mergeOptions(current: Record<string, unknown>, update: Record<string, boolean | null> | undefined): Record<string, unknown> {
  const out = { ...current };
  for (const [k, v] of Object.entries(update ?? {})) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Creates a role (global when domain_id is absent or null); 409 when the name is taken in that domain. */
export async function createRole(id: Identity, input: RoleInput): Promise<RoleRow> {
  const domain = input.domain_id ?? NULL_DOMAIN;
  const row: RoleRow = {
    id: newId(), name: input.name!, domain_id: domain, description: input.description ?? null,
    options: JSON.stringify(mergeOptions({}, input.options)), extra: JSON.stringify(input.extra),
  };
  if (await nameTaken(id, row.name, domain)) throw roleConflict(input.name, input.domain_id);
  try {
    await id.db.insertInto('role').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw roleConflict(input.name, input.domain_id);
    throw err;
  }
  id.changed();
  return row;
}

/**
 * Updates a role. An immutable role only accepts a body that clears `options.immutable`;
 * domain_id cannot change; extra attributes merge into the stored ones.
 */
export async function updateRole(id: Identity, roleId: string, input: RoleInput): Promise<RoleRow> {
  const current = await requireRole(id, roleId);
  const options = parseJsonObject(current.options);
  if (options.immutable === true) {
    const wanted = input.options ?? {};
    if (input.keys.length > 1 || !('immutable' in wanted) || ![false, null].includes(wanted.immutable as boolean | null)) {
      throw immutableFault('update', roleId);
    }
  }
  if (input.domain_id !== undefined && input.domain_id !== roleDomainId(current)) {
    throw badRequest('Update of `domain_id` is not allowed.');
  }
  const next: RoleRow = {
    ...current,
    name: input.name ?? current.name,
    description: input.description !== undefined ? input.description : current.description,
    options: JSON.stringify(mergeOptions(options, input.options)),
    extra: JSON.stringify({ ...parseJsonObject(current.extra), ...input.extra }),
  };
  if (input.name !== undefined && await nameTaken(id, next.name, current.domain_id, roleId)) throw roleConflict(input.name, input.domain_id);
  try {
    await id.db.updateTable('role').set({ name: next.name, description: next.description, options: next.options, extra: next.extra })
      .where('id', '=', roleId).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw roleConflict(input.name, input.domain_id);
    throw err;
  }
  id.changed();
  return next;
}

/**
 * Deletes a role (403 when immutable) with its assignments and implication rules. As Keystone,
 * the application credentials of every user directly assigned the role on a project are deleted
 * (they may depend on it); tokens re-derive their roles on validation, so `id.changed()` suffices.
 */
export async function deleteRole(id: Identity, roleId: string): Promise<void> {
  const role = await requireRole(id, roleId);
  if (parseJsonObject(role.options).immutable === true) throw immutableFault('delete', roleId);
  const userProjects = await id.db.selectFrom('assignment').select(['actor_id', 'target_id'])
    .where('role_id', '=', roleId).where('type', '=', 'UserProject').execute();
  await id.db.transaction().execute(async (tx) => {
    for (const { actor_id: userId, target_id: projectId } of userProjects) {
      const creds = await tx.selectFrom('app_credential').select('id').where('user_id', '=', userId).where('project_id', '=', projectId).execute();
      const ids = creds.map((c) => c.id);
      if (!ids.length) continue;
      await tx.deleteFrom('app_credential_role').where('application_credential_id', 'in', ids).execute();
      await tx.deleteFrom('app_credential_access_rule').where('application_credential_id', 'in', ids).execute();
      await tx.deleteFrom('app_credential').where('id', 'in', ids).execute();
    }
    await tx.deleteFrom('assignment').where('role_id', '=', roleId).execute();
    await tx.deleteFrom('implied_role').where((eb) => eb.or([eb('prior_role_id', '=', roleId), eb('implied_role_id', '=', roleId)])).execute();
    await tx.deleteFrom('role').where('id', '=', roleId).execute();
  });
  id.changed();
}
