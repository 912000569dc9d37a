import type { ValidatedToken } from './request-context.js';
import { InvalidTokenError } from './errors.js';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Whether a request path matches an access rule's path pattern: `*` and `{name}` match one path
 * segment, `**` matches anything (including `/`), everything else is literal.
 */
export function accessPathMatches(path: string, pattern: string): boolean {
  let re = '';
  for (const m of pattern.matchAll(/\{[^}]*\}|\*\*|\*|[^{}*]+|[{}]/g)) {
    const t = m[0];
    if (t === '**') re += '.*';
    else if (t === '*' || (t.startsWith('{') && t.endsWith('}') && t.length > 1)) re += '[^/]+';
    else re += escapeRegex(t);
  }
  return new RegExp(`^${re}$`).test(path);
}

/**
 * Enforces an application credential's access rules on a request, as keystonemiddleware does:
 * a token with rules may only make a request that one rule allows for this service type (method
 * and path), the service must be in the token's catalog (when there is one), and a service that
 * does not know its own type refuses such tokens. Throws `InvalidTokenError`.
 */
export function checkAccessRules(v: ValidatedToken, req: { method: string; path: string }, serviceType: string | undefined): void {
  if (!v.accessRules) return;
  if (!serviceType) throw new InvalidTokenError('Cannot validate a request with restricted access rules: the service type is not configured.');
  if (serviceType === 'identity' && req.method === 'GET' && req.path.endsWith('/v3/auth/tokens')) return;
  if (v.serviceCatalog && !v.serviceCatalog.some((s) => s.type === serviceType)) {
    throw new InvalidTokenError(`Cannot validate a request with restricted access rules: ${serviceType} is not in the token's catalog.`);
  }
  const allowed = v.accessRules.some((r) => r.method === req.method && r.service === serviceType && accessPathMatches(req.path, r.path));
  if (!allowed) throw new InvalidTokenError('The application credential\'s access rules do not allow this request.');
}
