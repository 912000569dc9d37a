import { badRequest } from '../../platform/http/faults.js';

/**
 * `expires_at` of application credentials and trusts. Keystone parses the request value as
 * ISO-8601 (a missing zone means UTC), refuses a past time, and keeps microseconds; JavaScript
 * dates keep milliseconds only, so the value is carried as text: stored in the schema's form
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC), which `new Date()` also reads.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Parses a timestamp to the stored UTC form, or undefined when it is not ISO-8601. */
export function toStoredTime(value: string): string | undefined {
  const m = ISO.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const nums = [y, mo, d, h, mi, s].map(Number);
  if (nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[2] > 31 || nums[3] > 23 || nums[4] > 59 || nums[5] > 59) return undefined;
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!zm) return undefined;
    offsetMin = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3] ?? '0'));
  }
  // Date.UTC rolls 31 February over to March; Keystone refuses such dates.
  if (new Date(Date.UTC(nums[0], nums[1] - 1, nums[2])).getUTCDate() !== nums[2]) return undefined;
  const at = new Date(Date.UTC(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], nums[5]) - offsetMin * 60_000);
  const micro = (frac + '000000').slice(0, 6);
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}T${pad(at.getUTCHours())}:`
    + `${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}.${micro}Z`;
}

/**
 * Keystone's `parse_expiration_date` for a request's `expires_at`: null/absent → null; malformed
 * → 400 "Timestamp not in expected format."; in the past → 400.
 */
export function parseExpiresAt(value: unknown, now: Date = new Date()): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw badRequest(`Invalid input for field 'expires_at': ${JSON.stringify(value)} is not of type 'null', 'string'`);
  const stored = toStoredTime(value);
  if (!stored) {
    throw badRequest('Timestamp not in expected format. The server could not comply with the request since it is '
      + 'either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  if (new Date(stored).getTime() < now.getTime()) {
    throw badRequest("The 'expires_at' must not be before now. The server could not comply with the request since it "
      + 'is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  return stored;
}

/** True when a stored expiry has passed (null never expires). */
export function isExpired(stored: string | null | undefined, now: Date = new Date()): boolean {
  if (!stored) return false;
  const t = new Date(stored).getTime();
  return !Number.isNaN(t) && now.getTime() >= t;
}

/**
 * A stored time as Python's naive `datetime.isoformat()` (how application credentials show
 * `expires_at`): no zone, microseconds only when non-zero.
 */
export function pythonIsoformat(stored: string | null | undefined): string | null {
  if (!stored) return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?/.exec(stored);
  if (!m) return stored;
  const micro = (m[2] ?? '').padEnd(6, '0');
  return micro === '000000' ? m[1] : `${m[1]}.${micro}`;
}

/** A stored time as Keystone's `isotime(subsecond=True)` (trusts): seconds precision, `.000000Z`. */
export function keystoneIsotime(stored: string | null | undefined): string | null {
  if (!stored) return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})/.exec(stored);
  return m ? `${m[1]}.000000Z` : stored;
}

/** Compares two stored times (text compare is exact for the stored form). */
export function compareStored(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
