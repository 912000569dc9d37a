import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from './request-context.js';
import { plausibleToken, type TokenValidator } from './validator.js';
import { InvalidTokenError, IdentityUnavailableError } from './errors.js';
import { checkAccessRules } from './access-rules.js';
import { Fault, unauthorized } from '../http/faults.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; absent on public routes reached without a valid token. */
    auth?: RequestContext;
  }
  interface FastifyContextConfig {
    /** Route served without a token (version documents); a valid token still sets `req.auth`. */
    public?: boolean;
  }
}

/** How a service authenticates its requests. */
export interface AuthenticateOptions {
  readonly validator: TokenValidator;
  /** The 401 fault in the service's dialect; `message` is keystonemiddleware's generic one. */
  readonly onUnauthorized: (message: string) => Fault;
  /** The 503 fault when identity cannot answer (default: a plain 503 Fault). */
  readonly onUnavailable?: (message: string) => Fault;
  /** Requests that may go without a token (besides routes with `config: { public: true }`). */
  readonly optional?: (req: FastifyRequest) => boolean;
  /** `WWW-Authenticate: Keystone uri="…"` (default: the validator's identityUri; no header if neither). */
  readonly identityUri?: string;
  /** This service's catalog type (`compute`, `image`, …), needed to honour app-credential access rules. */
  readonly serviceType?: string;
  /** Headers a token is read from, first present wins (default X-Auth-Token, then X-Storage-Token). */
  readonly tokenHeaders?: readonly string[];
}

const AUTH_REQUIRED = 'The request you have made requires authentication.';
const IDENTITY_DOWN = 'The Keystone service is temporarily unavailable.';

function tokenOf(req: FastifyRequest, headers: readonly string[]): string | undefined {
  for (const h of headers) {
    const v = req.headers[h];
    const s = (Array.isArray(v) ? v[0] : v)?.trim();
    if (s) return s;
  }
  return undefined;
}

/**
 * An `onRequest` hook doing keystonemiddleware's job: reads the token, validates it, sets
 * `req.auth`, and otherwise fails with `onUnauthorized`'s fault (401, with `WWW-Authenticate`)
 * or a 503 when identity is unreachable. On public routes (`config.public` or `optional(req)`)
 * a missing or bad token, or unreachable identity, leaves `req.auth` unset instead
 * (keystonemiddleware's delay_auth_decision). Unknown URLs need a token, as in OpenStack services.
 */
export function authenticate(opts: AuthenticateOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const headers = (opts.tokenHeaders ?? ['x-auth-token', 'x-storage-token']).map((h) => h.toLowerCase());
  const uri = opts.identityUri ?? opts.validator.identityUri;
  const reject = (reply: FastifyReply): Fault => {
    if (uri) reply.header('www-authenticate', `Keystone uri="${uri}"`);
    return opts.onUnauthorized(AUTH_REQUIRED);
  };
  const unavailable = (): Fault => opts.onUnavailable?.(IDENTITY_DOWN) ?? new Fault(503, IDENTITY_DOWN, {}, 'ServiceUnavailable');

  return async function authenticateRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const optional = req.routeOptions.config?.public === true || opts.optional?.(req) === true;
    const token = tokenOf(req, headers);
    if (!token) {
      if (optional) return;
      req.log.debug('request without a token refused');
      throw reject(reply);
    }
    try {
      if (!plausibleToken(token)) throw new InvalidTokenError('The token is malformed.');
      const v = await opts.validator.validate(token);
      // A cached answer may outlive the token by the clock's reading here.
      if (v.expiresAt.getTime() <= Date.now()) throw new InvalidTokenError('The token has expired.');
      checkAccessRules(v, { method: req.method, path: req.url.split('?')[0] }, opts.serviceType);
      req.auth = { ...v, requestId: req.id };
    } catch (err) {
      if (optional && (err instanceof InvalidTokenError || err instanceof IdentityUnavailableError)) {
        req.log.debug({ reason: err.message }, 'public request with an unusable token goes on anonymously');
        return;
      }
      if (err instanceof InvalidTokenError) {
        req.log.info({ reason: err.message }, 'token refused');
        throw reject(reply);
      }
      if (err instanceof IdentityUnavailableError) {
        req.log.error({ reason: err.message }, 'unable to validate token');
        throw unavailable();
      }
      throw err;
    }
  };
}

/**
 * Installs authentication on a server: declares `req.auth` and adds the `authenticate` hook to
 * every route of `app` (call it on the root instance, before routes are registered).
 */
export function installAuthentication(app: FastifyInstance, opts: AuthenticateOptions): void {
  app.decorateRequest('auth', undefined);
  app.addHook('onRequest', authenticate(opts));
}

/** The caller of a protected route; a 401 fault if authentication did not run or let it through anonymously. */
export function authOf(req: FastifyRequest): RequestContext {
  if (!req.auth) throw unauthorized(AUTH_REQUIRED);
  return req.auth;
}
