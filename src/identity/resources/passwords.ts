/**
 * User passwords under Keystone's security-compliance rules: password history kept to
 * `unique_last_password_count`, expiry from `password_expires_days`, forced change on first use,
 * the `password_regex` requirement, and the self-service change with minimum age and history.
 * The current password is the user's newest `user_password` row; a null password is stored as
 * an empty hash, which never verifies.
 */
import type { Kysely } from 'kysely';
import { badRequest, unauthorized } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import type { IdentityDB, PasswordRow } from '../store/schema.js';
import { bool, isoTime, newId, parseJsonObject } from '../util.js';

type Db = Kysely<IdentityDB>;

/** The user's password rows, oldest first. */
export async function passwordHistory(db: Db, userId: string): Promise<PasswordRow[]> {
  return db.selectFrom('user_password').selectAll().where('user_id', '=', userId).orderBy('created_at', 'asc').execute();
}

/** The current password's expiry of each user (null: never, or no password). */
export async function passwordExpiries(db: Db, userIds: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const newest = new Map<string, string>();
  for (let i = 0; i < userIds.length; i += 500) {
    const chunk = userIds.slice(i, i + 500);
    if (!chunk.length) continue;
    const rows = await db.selectFrom('user_password').select(['user_id', 'created_at', 'expires_at']).where('user_id', 'in', chunk).execute();
    for (const r of rows) {
      if ((newest.get(r.user_id) ?? '') <= r.created_at) {
        newest.set(r.user_id, r.created_at);
        out.set(r.user_id, r.expires_at);
      }
    }
  }
  return out;
}

/** Keystone's `validate_password`: the configured `password_regex` must match (from the start). */
export function checkPasswordRequirements(id: Identity, password: string | null): void {
  const pattern = id.config.identity.password_regex;
  if (!pattern) return;
  if (typeof password !== 'string') throw badRequest('Password validation error: Password must be a string type.');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})`, 'u');
  } catch {
    id.log.error({ pattern }, 'Unable to validate password due to invalid regular expression - password_regex');
    throw badRequest('Password validation error: Unable to validate password due to invalid configuration.');
  }
  if (!re.test(password)) {
    throw badRequest(`The password does not match the requirements: ${id.config.identity.password_regex_description ?? ''}.`);
  }
}

/** The hash to store for a password (empty for a null password: nothing verifies against it). */
export const hashFor = async (id: Identity, password: string | null): Promise<string> =>
  password === null ? '' : id.hashPassword(password);

export interface StoreOptions {
  /** Set by the user themselves (POST /v3/users/{id}/password). */
  readonly selfService: boolean;
  /** The user's options (ignore_password_expiry, ignore_change_password_upon_first_use). */
  readonly options: Record<string, unknown>;
  /** Set by an administrator (create or reset): `change_password_upon_first_use` applies. */
  readonly byAdmin: boolean;
}

/**
 * Stores a new current password (already hashed): older ones beyond the history length are
 * dropped, the remaining ones marked expired, and the new one gets its expiry.
 */
export async function storePassword(id: Identity, db: Db, userId: string, hash: string, opts: StoreOptions): Promise<string | null> {
  const cfg = id.config.identity;
  const history = await passwordHistory(db, userId);
  const keep = Math.max(cfg.unique_last_password_count, 1);
  const drop = history.slice(0, Math.max(history.length - keep, 0));
  if (drop.length) await db.deleteFrom('user_password').where('id', 'in', drop.map((p) => p.id)).execute();
  let now = new Date();
  const nowText = isoTime(now);
  for (const p of history.slice(drop.length)) {
    if (!p.expires_at || p.expires_at > nowText) {
      await db.updateTable('user_password').set({ expires_at: nowText }).where('id', '=', p.id).execute();
    }
  }
  // The newest row is the current password: keep creation times strictly increasing.
  const last = history.length ? new Date(history[history.length - 1].created_at).getTime() : 0;
  if (now.getTime() <= last) now = new Date(last + 1);
  let expires: string | null = null;
  if (opts.byAdmin && cfg.change_password_upon_first_use && opts.options.ignore_change_password_upon_first_use !== true) {
    expires = isoTime(now);
  } else if (cfg.password_expires_days > 0 && opts.options.ignore_password_expiry !== true) {
    const at = new Date(now.getTime() + cfg.password_expires_days * 86_400_000);
    at.setUTCMilliseconds(0);
    expires = isoTime(at);
  }
  await db.insertInto('user_password').values({
    id: newId(), user_id: userId, hash, created_at: isoTime(now), expires_at: expires,
    self_service: opts.selfService ? 1 : 0,
  }).execute();
  return expires;
}

const invalidUser = () => unauthorized('Error when changing user password: Invalid user / password');

/**
 * Keystone's self-service password change: authenticates the original password (counting
 * failures towards lockout; an expired password is fine), then checks the requirements, the
 * `lock_password` option, the minimum password age and the password history. Throws 401/400
 * faults with Keystone's messages; on success the new password is stored.
 */
export async function changeOwnPassword(id: Identity, userId: string, original: string, password: string): Promise<void> {
  const cfg = id.config.identity;
  const user = await id.db.selectFrom('user_account').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) throw invalidUser();
  const options = parseJsonObject(user.options);
  const lockoutOn = cfg.lockout_failure_attempts > 0 && options.ignore_lockout_failure_attempts !== true;
  const lockEnds = user.failed_auth_at ? new Date(user.failed_auth_at).getTime() + cfg.lockout_duration * 1000 : 0;
  if (lockoutOn && user.failed_auth_count >= cfg.lockout_failure_attempts && (cfg.lockout_duration <= 0 || Date.now() < lockEnds)) {
    throw unauthorized(`The account is locked for user: ${userId}.`);
  }
  const history = await passwordHistory(id.db, userId);
  const current = history[history.length - 1];
  if (!current || !(await id.verifyPassword(original, current.hash))) {
    if (lockoutOn) {
      const restart = user.failed_auth_at && cfg.lockout_duration > 0 && Date.now() > lockEnds;
      await id.db.updateTable('user_account')
        .set({ failed_auth_count: restart ? 1 : user.failed_auth_count + 1, failed_auth_at: isoTime() })
        .where('id', '=', userId).execute();
      id.changed();
    }
    throw invalidUser();
  }
  if (!bool(user.enabled)) throw unauthorized(`The account is disabled for user: ${userId}.`);
  if (user.failed_auth_count > 0) {
    await id.db.updateTable('user_account').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', userId).execute();
  }
  checkPasswordRequirements(id, password);
  if (options.lock_password === true) {
    throw badRequest('You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.');
  }
  if (current.self_service) {
    const minDays = cfg.minimum_password_age;
    const until = new Date(current.created_at).getTime() + minDays * 86_400_000;
    if (Date.now() < until) {
      const daysLeft = Math.floor((until - Date.now()) / 86_400_000);
      throw badRequest(`You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${minDays} day(s) before it can be changed. Please try again in ${daysLeft} day(s) or contact your administrator to reset your password.`);
    }
  }
  const unique = cfg.unique_last_password_count;
  if (unique > 0) {
    for (const old of history.slice(-unique)) {
      if (old.hash && (await id.verifyPassword(password, old.hash))) {
        throw badRequest(`The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${unique}.`);
      }
    }
  }
  const hash = await id.hashPassword(password);
  await id.db.transaction().execute((trx) => storePassword(id, trx, userId, hash, { selfService: true, options, byAdmin: false }));
}
