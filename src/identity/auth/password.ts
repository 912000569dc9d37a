import type { Identity } from '../identity.js';
import { unauthorized, badRequest } from '../../platform/http/faults.js';
import { bool, isoTime, parseJsonObject } from '../util.js';
import { findDomainId } from './principals.js';

/**
 * Plugged in by LDAP-backed domains: authenticates a user of such a domain by bind. `domainId`
 * is undefined for a user given by id. Resolves the user id, or undefined when the user is not
 * the backend's; throws 401 for a wrong password.
 */
export type ExternalPasswordCheck = (domainId: string | undefined, userRef: { id?: string; name?: string }, password: string) => Promise<string | undefined>;

/**
 * The `password` method: finds the user by id or by name within a domain, enforces Keystone's
 * security compliance (disabled account, lockout after failed attempts, expired password) and
 * checks the password against its bcrypt hash. Returns the user id.
 */
export async function authenticatePassword(id: Identity, method: unknown, external?: ExternalPasswordCheck): Promise<string> {
  const user = (method as { user?: Record<string, unknown> } | undefined)?.user;
  if (!user || typeof user !== 'object') throw badRequest("Invalid input for field 'identity/password/user': None is not of type 'object'");
  const password = user.password;
  if (typeof password !== 'string') throw badRequest("Invalid input for field 'identity/password/user/password': not a string");
  let row;
  if (typeof user.id === 'string') {
    row = await id.db.selectFrom('user_account').selectAll().where('id', '=', user.id).executeTakeFirst();
    if (!row && external) {
      const extId = await external(undefined, { id: user.id }, password);
      if (extId) return extId;
    }
  } else if (typeof user.name === 'string') {
    if (!user.domain || typeof user.domain !== 'object') throw badRequest('Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    const domainId = await findDomainId(id, user.domain);
    if (!domainId) throw unauthorized('Could not find domain: ' + JSON.stringify(user.domain));
    row = await id.db.selectFrom('user_account').selectAll().where('domain_id', '=', domainId).where('name', '=', user.name).executeTakeFirst();
    if (!row && external) {
      const extId = await external(domainId, { name: user.name }, password);
      if (extId) return extId;
    }
  } else {
    throw badRequest('Expecting to find id or name in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  if (!row) throw unauthorized();
  const cfg = id.config.identity;
  const options = parseJsonObject(row.options);
  if (!bool(row.enabled)) throw unauthorized(`The account is disabled for user: ${row.id}.`);
  const lockoutOn = cfg.lockout_failure_attempts > 0 && !options.ignore_lockout_failure_attempts;
  if (lockoutOn && row.failed_auth_count >= cfg.lockout_failure_attempts && row.failed_auth_at) {
    const until = new Date(row.failed_auth_at).getTime() + cfg.lockout_duration * 1000;
    if (Date.now() < until) throw unauthorized(`The account is locked for user: ${row.id}.`);
  }
  const pw = await id.db.selectFrom('user_password').select(['hash', 'expires_at']).where('user_id', '=', row.id)
    .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  const ok = pw ? await id.verifyPassword(password, pw.hash) : false;
  if (!ok) {
    if (lockoutOn) {
      const expired = row.failed_auth_at && Date.now() > new Date(row.failed_auth_at).getTime() + cfg.lockout_duration * 1000;
      await id.db.updateTable('user_account')
        .set({ failed_auth_count: expired ? 1 : row.failed_auth_count + 1, failed_auth_at: isoTime() })
        .where('id', '=', row.id).execute();
    }
    throw unauthorized();
  }
  if (pw?.expires_at && !options.ignore_password_expiry && new Date(pw.expires_at).getTime() <= Date.now()) {
    throw unauthorized(`The password is expired and needs to be changed for user: ${row.id}.`);
  }
  if (row.failed_auth_count > 0) {
    await id.db.updateTable('user_account').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', row.id).execute();
  }
  return row.id;
}
