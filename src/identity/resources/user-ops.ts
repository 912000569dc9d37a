/**
 * Users as Keystone's identity manager handles them (keystone/identity/core.py and its SQL
 * driver): validation of the user object, creation with an optional password, updates with
 * admin password resets and token revocation, deletion with its cascade, and rendering.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import type { UserRow } from '../store/schema.js';
import { bool, int, isoTime, newId, parseJsonObject } from '../util.js';
import { deleteUserCascade } from './cascade.js';
import { duplicateDetail, storeOrConflict } from './conflict.js';
import { Effects } from './effects.js';
import { extrasOf, userRef, withLink } from './entity.js';
import { checkPasswordRequirements, hashFor, passwordExpiries, storePassword } from './passwords.js';
import { loadDomain, loadProject } from './project-store.js';
import {
  checkBool, checkDescription, checkIdString, checkName, checkPassword, checkUserOptions, mergeOptions, pyRepr,
} from './schema.js';
import { invalid } from '../api/validate.js';

type Obj = Record<string, unknown>;

/** Attributes Keystone models for users (everything else is kept as extra). */
const MODELLED = ['name', 'domain_id', 'password', 'enabled', 'default_project_id', 'password_expires_at', 'options', 'federated', 'description', 'email'];

/** A user's validated attributes from a create or update body. */
export interface UserFields {
  name?: string; domainId?: string; defaultProjectId?: string | null; description?: string | null; enabled?: boolean;
  password?: string | null; hasPassword: boolean; options?: Obj; email?: unknown; hasEmail: boolean; extra: Obj;
}

/** Validates a user object as Keystone's user_create/user_update schemas. */
export function checkUserBody(body: Obj, create: boolean): UserFields {
  const fields: UserFields = {
    name: checkName(body, 'name', 255, create),
    domainId: checkIdString(body, 'domain_id', false) ?? undefined,
    defaultProjectId: checkIdString(body, 'default_project_id', true),
    description: checkDescription(body),
    enabled: checkBool(body, 'enabled'),
    password: checkPassword(body),
    hasPassword: 'password' in body,
    options: body.options === undefined ? undefined : checkUserOptions(body.options),
    email: body.email,
    hasEmail: 'email' in body,
    extra: extrasOf(body, MODELLED),
  };
  checkFederated(body.federated);
  return fields;
}

/** Nephos has no identity providers: any federated object names an unknown one (Keystone's 400). */
function checkFederated(v: unknown): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) throw invalid('federated', `${pyRepr(v)} is not of type 'array'`);
  for (const f of v) {
    if (!f || typeof f !== 'object' || Array.isArray(f)) throw invalid('federated', `${pyRepr(f)} is not of type 'object'`);
    const idp = (f as Obj).idp_id;
    if (typeof idp !== 'string') throw invalid('federated', "'idp_id' is a required property");
    throw badRequest(`Could not find Identity Provider: ${idp}`);
  }
}

/** Email lives in its column when it fits; anything else Keystone would keep stays in extra. */
function splitEmail(email: unknown): { column: string | null; extra?: unknown } {
  if (email === null || email === undefined) return { column: null };
  if (typeof email === 'string' && email.length <= 255) return { column: email };
  return { column: null, extra: email };
}

/** Keystone refuses a domain as a user's default project; a missing project is accepted. */
async function assertDefaultProjectNotDomain(id: Identity, projectId: string | null | undefined): Promise<void> {
  if (!projectId) return;
  const p = await loadProject(id.db, projectId);
  if (p && bool(p.is_domain)) throw badRequest(`User's default project ID cannot be a domain ID: ${projectId}`);
}

/** Renders user rows with their password expiry and self links. */
export async function renderUsers(id: Identity, req: FastifyRequest, rows: UserRow[]): Promise<Obj[]> {
  const expiries = await passwordExpiries(id.db, rows.map((r) => r.id));
  return rows.map((r) => withLink(req, 'users', userRef(r, expiries.get(r.id) ?? null)));
}

/** A user row by id. */
export const loadUser = (id: Identity, userId: string): Promise<UserRow | undefined> =>
  id.db.selectFrom('user_account').selectAll().where('id', '=', userId).executeTakeFirst();

/** The policy-target form of a user (Keystone's user ref, without links). */
export async function userTarget(id: Identity, row: UserRow): Promise<Obj> {
  return userRef(row, (await passwordExpiries(id.db, [row.id])).get(row.id) ?? null);
}

/** Creates a user (POST /v3/users) in `domainId`; 404 for an unknown domain, 409 for a duplicate name. */
export async function createUser(id: Identity, domainId: string, f: UserFields): Promise<UserRow> {
  if (f.hasPassword) checkPasswordRequirements(id, f.password ?? null);
  const name = f.name!.trim();
  if (!(await loadDomain(id.db, domainId))) throw notFound(`Could not find domain: ${domainId}.`);
  await assertDefaultProjectNotDomain(id, f.defaultProjectId);
  const email = splitEmail(f.email);
  const extra = email.extra !== undefined ? { ...f.extra, email: email.extra } : f.extra;
  const options = mergeOptions({}, f.options ?? {});
  const row: UserRow = {
    id: newId(), domain_id: domainId, name, enabled: int(f.enabled ?? true), default_project_id: f.defaultProjectId ?? null,
    description: f.description ?? null, email: email.column, extra: JSON.stringify(extra), options: JSON.stringify(options),
    created_at: isoTime(), last_active_at: null, failed_auth_count: 0, failed_auth_at: null,
  };
  const hash = f.hasPassword ? await hashFor(id, f.password ?? null) : undefined;
  await storeOrConflict('user', duplicateDetail(name, domainId), () => id.db.transaction().execute(async (trx) => {
    await trx.insertInto('user_account').values(row).execute();
    if (hash !== undefined) await storePassword(id, trx, row.id, hash, { selfService: false, options, byAdmin: true });
  }));
  const fx = new Effects();
  fx.notify('identity.user.created', row.id);
  await fx.apply(id);
  return row;
}

/**
 * Updates a user (PATCH /v3/users/{id}): attributes, options (merged), extra (merged) and an
 * admin password reset (no history check). Disabling the user or setting a password revokes
 * the user's tokens.
 */
export async function updateUser(id: Identity, row: UserRow, f: UserFields, raw: Obj): Promise<UserRow> {
  if ('domain_id' in raw && raw.domain_id !== row.domain_id) throw badRequest('Cannot change Domain ID');
  if (f.hasPassword) checkPasswordRequirements(id, f.password ?? null);
  await assertDefaultProjectNotDomain(id, f.defaultProjectId);
  const name = f.name !== undefined ? f.name.trim() : row.name;
  const extra = { ...parseJsonObject(row.extra), ...f.extra };
  let email = row.email;
  if (f.hasEmail) {
    const e = splitEmail(f.email);
    email = e.column;
    if (e.extra !== undefined) extra.email = e.extra;
    else delete extra.email;
  }
  const options = f.options ? mergeOptions(parseJsonObject(row.options), f.options) : parseJsonObject(row.options);
  const enabled = f.enabled ?? bool(row.enabled);
  const hash = f.hasPassword ? await hashFor(id, f.password ?? null) : undefined;
  await storeOrConflict('user', duplicateDetail(name, row.domain_id), () => id.db.transaction().execute(async (trx) => {
    await trx.updateTable('user_account').set({
      name, enabled: int(enabled),
      default_project_id: f.defaultProjectId === undefined ? row.default_project_id : f.defaultProjectId,
      description: f.description === undefined ? row.description : f.description,
      email, extra: JSON.stringify(extra), options: JSON.stringify(options),
      // Keystone's `enabled` setter clears the lockout whenever an enabled user is written.
      ...(enabled ? { failed_auth_count: 0, failed_auth_at: null } : {}),
    }).where('id', '=', row.id).execute();
    if (hash !== undefined) await storePassword(id, trx, row.id, hash, { selfService: false, options, byAdmin: true });
  }));
  const fx = new Effects();
  fx.notify('identity.user.updated', row.id);
  if ((bool(row.enabled) && !enabled) || (f.hasPassword && f.password !== null)) fx.users.add(row.id);
  await fx.apply(id);
  return (await loadUser(id, row.id))!;
}

/** Deletes a user with Keystone's cascade and revokes their tokens. */
export async function deleteUser(id: Identity, userId: string): Promise<void> {
  const fx = new Effects();
  await id.db.transaction().execute((trx) => deleteUserCascade(trx, userId, fx));
  await fx.apply(id);
}
