/**
 * Key lookup and `%(key)s` substitution, with the semantics oslo.policy gets
 * from Python's `match % target`: a missing key makes the check false.
 */
import { pythonStr } from './python-text.js';

const MISSING = Symbol('missing');

function hasValue(holder: unknown, key: string): holder is Record<string, unknown> {
  return (
    typeof holder === 'object' &&
    holder !== null &&
    !Array.isArray(holder) &&
    Object.prototype.hasOwnProperty.call(holder, key) &&
    (holder as Record<string, unknown>)[key] !== undefined
  );
}

function resolve(holder: unknown, segments: readonly string[]): unknown {
  // Longest prefix first: a flat key `target.user.id` wins over nesting.
  for (let take = segments.length; take >= 1; take--) {
    const key = segments.slice(0, take).join('.');
    if (!hasValue(holder, key)) continue;
    const value = holder[key];
    if (take === segments.length) return value;
    const deeper = resolve(value, segments.slice(take));
    if (deeper !== MISSING) return deeper;
  }
  return MISSING;
}

/**
 * Finds `key` in `data`, accepting flat keys that contain dots
 * (`{'target.user.id': ...}`, as Keystone flattens targets), nested objects
 * (`{target: {user: {id: ...}}}`) or any mix. Returns `undefined` if absent.
 */
export function lookupKey(data: unknown, key: string): unknown {
  const value = resolve(data, key.split('.'));
  return value === MISSING ? undefined : value;
}

/**
 * Expands `%(key)s` (and `%%`) in `match` from `target`. Returns `undefined`
 * when a key is missing or the text is not a valid format string; both make
 * the calling check false instead of raising.
 */
export function substituteTarget(match: string, target: unknown): string | undefined {
  if (!match.includes('%')) return match;
  let out = '';
  let i = 0;
  while (i < match.length) {
    const pct = match.indexOf('%', i);
    if (pct < 0) {
      out += match.slice(i);
      break;
    }
    out += match.slice(i, pct);
    if (match[pct + 1] === '%') {
      out += '%';
      i = pct + 2;
      continue;
    }
    if (match[pct + 1] !== '(') return undefined;
    const close = match.indexOf(')', pct + 2);
    if (close < 0 || match[close + 1] !== 's') return undefined;
    const value = lookupKey(target, match.slice(pct + 2, close));
    if (value === undefined) return undefined;
    out += pythonStr(value);
    i = close + 2;
  }
  return out;
}
