import type { Kysely } from 'kysely';
import { conflict, notFound } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import type { Identity } from '../identity.js';
import type { AppCredentialRow, IdentityDB } from '../store/schema.js';
import { bool, int, isoTime, newId } from '../util.js';
import { loadRoles, roleEntity } from '../trusts/role-refs.js';
import { accessRulesOf, deleteAccessRulesForUser, resolveAccessRules, type AccessRule, type AccessRuleRef } from './access-rules.js';
import { pythonIsoformat } from './expires-at.js';

/** An application credential with its role ids and access rules. */
export interface AppCredential {
  row: AppCredentialRow;
  roleIds: string[];
  accessRules: AccessRule[];
}

/** What creating an application credential needs (roles already checked against the creator's). */
export interface NewAppCredential {
  name: string;
  description: string | null;
  secret: string;
  userId: string;
  projectId: string | null;
  expiresAt: string | null;
  unrestricted: boolean;
  roleIds: readonly string[];
  accessRules: readonly AccessRuleRef[];
}

async function withParts(db: Kysely<IdentityDB>, row: AppCredentialRow): Promise<AppCredential> {
  const roles = await db.selectFrom('app_credential_role').select('role_id').where('application_credential_id', '=', row.id).execute();
  return { row, roleIds: roles.map((r) => r.role_id), accessRules: await accessRulesOf(db, row.id) };
}

/** An application credential by id, or undefined. */
export async function findAppCred(id: Identity, appCredId: string): Promise<AppCredential | undefined> {
  const row = await id.db.selectFrom('app_credential').selectAll().where('id', '=', appCredId).executeTakeFirst();
  return row ? withParts(id.db, row) : undefined;
}

/** An application credential by id, or 404 "Could not find Application Credential: <id>." */
export async function getAppCred(id: Identity, appCredId: string): Promise<AppCredential> {
  const ac = await findAppCred(id, appCredId);
  if (!ac) throw notFound(`Could not find Application Credential: ${appCredId}.`);
  return ac;
}

/** A user's application credentials. */
export async function listAppCreds(id: Identity, userId: string): Promise<AppCredential[]> {
  const rows = await id.db.selectFrom('app_credential').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
  return Promise.all(rows.map((r) => withParts(id.db, r)));
}

/**
 * Keystone's view of an application credential: its columns (expires_at as Python's isoformat),
 * the full role entities, and `access_rules` only when it has some. No secret, no hash.
 */
export async function appCredEntity(id: Identity, ac: AppCredential): Promise<Record<string, unknown>> {
  const roles = await loadRoles(id, ac.roleIds);
  const r = ac.row;
  const out: Record<string, unknown> = {
    id: r.id, name: r.name, description: r.description, user_id: r.user_id, project_id: r.project_id, system: r.system,
    expires_at: pythonIsoformat(r.expires_at), unrestricted: bool(r.unrestricted), roles: roles.map(roleEntity),
  };
  if (ac.accessRules.length) out.access_rules = ac.accessRules;
  return out;
}

/**
 * Stores a new application credential with its roles (each id once, so a role set that lists an
 * implied role twice never trips the primary key) and access rules, in one transaction. The
 * secret is hashed with the password hasher; 409 when the user already has one of that name.
 */
export async function createAppCred(id: Identity, c: NewAppCredential): Promise<AppCredential> {
  const secretHash = await id.hashPassword(c.secret);
  const row: AppCredentialRow = {
    id: newId(), name: c.name, secret_hash: secretHash, description: c.description, user_id: c.userId, project_id: c.projectId,
    system: null, expires_at: c.expiresAt, unrestricted: int(c.unrestricted), created_at: isoTime(),
  };
  const roleIds = [...new Set(c.roleIds)];
  try {
    const accessRules = await id.db.transaction().execute(async (trx) => {
      await trx.insertInto('app_credential').values(row).execute();
      if (roleIds.length) {
        await trx.insertInto('app_credential_role').values(roleIds.map((role_id) => ({ application_credential_id: row.id, role_id }))).execute();
      }
      const rules = await resolveAccessRules(trx, c.userId, c.accessRules);
      if (rules.length) {
        await trx.insertInto('app_credential_access_rule')
          .values(rules.map((r) => ({ application_credential_id: row.id, access_rule_id: r.id }))).execute();
      }
      return rules;
    });
    id.notify('identity.application_credential.created', { resource_info: row.id });
    return { row, roleIds, accessRules };
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw conflict(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${c.name}.`);
    }
    throw err;
  }
}

/** Deletes one application credential (its role and rule links with it); 404 when absent. */
export async function deleteAppCred(id: Identity, appCredId: string): Promise<void> {
  const gone = await id.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('app_credential_role').where('application_credential_id', '=', appCredId).execute();
    await trx.deleteFrom('app_credential_access_rule').where('application_credential_id', '=', appCredId).execute();
    const res = await trx.deleteFrom('app_credential').where('id', '=', appCredId).executeTakeFirst();
    return Number(res.numDeletedRows);
  });
  if (gone === 0) throw notFound(`Could not find Application Credential: ${appCredId}.`);
  id.notify('identity.application_credential.deleted', { resource_info: appCredId });
}

async function deleteWhere(id: Identity, userId: string, projectId?: string): Promise<string[]> {
  let q = id.db.selectFrom('app_credential').select('id').where('user_id', '=', userId);
  if (projectId !== undefined) q = q.where('project_id', '=', projectId);
  const ids = (await q.execute()).map((r) => r.id);
  if (ids.length === 0) return [];
  await id.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('app_credential_role').where('application_credential_id', 'in', ids).execute();
    await trx.deleteFrom('app_credential_access_rule').where('application_credential_id', 'in', ids).execute();
    await trx.deleteFrom('app_credential').where('id', 'in', ids).execute();
  });
  return ids;
}

/**
 * Deletes all of a user's application credentials and access rules, revoking their tokens —
 * what Keystone does when a user is deleted or disabled. For the users module to call.
 */
export async function deleteAppCredsForUser(id: Identity, userId: string): Promise<void> {
  const ids = await deleteWhere(id, userId);
  await deleteAccessRulesForUser(id.db, userId);
  for (const appCredId of ids) await id.revoke({ consumer_id: appCredId });
  id.changed();
}

/**
 * Deletes a user's application credentials on one project, revoking their tokens — what
 * Keystone does when the user loses their role assignment there. For the assignments module.
 */
export async function deleteAppCredsForUserOnProject(id: Identity, userId: string, projectId: string): Promise<void> {
  const ids = await deleteWhere(id, userId, projectId);
  for (const appCredId of ids) await id.revoke({ consumer_id: appCredId });
  if (ids.length) id.changed();
}
