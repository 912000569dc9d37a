import type { Logger } from 'pino';
import { IdentityUnavailableError } from './errors.js';
import { identityBase } from './identity-url.js';
import { parseKeystoneTime } from './token-body.js';

/** The service user a service validates tokens as (keystonemiddleware's `[keystone_authtoken]`). */
export interface ServiceCredentials {
  readonly userName: string;
  readonly password: string;
  /** Domain of the user, by id (default `default`) or by name. */
  readonly userDomainId?: string;
  readonly userDomainName?: string;
  /** Project the token is scoped to (default `service`), in the domain given by id (default `default`) or name. */
  readonly projectName?: string;
  readonly projectDomainId?: string;
  readonly projectDomainName?: string;
}

/** How a ServiceTokenSource reaches identity. */
export interface ServiceTokenOptions {
  readonly identityUrl: string;
  readonly credentials: ServiceCredentials;
  readonly fetch?: typeof fetch;
  /** Per-request timeout (ms, default 5000). */
  readonly timeoutMs?: number;
  /** Renew this long before expiry (ms, default 120000; at most half the token's lifetime). */
  readonly refreshMarginMs?: number;
  /** After a failed login, fail fast for this long instead of hammering identity (ms, default 1000). */
  readonly retryAfterFailureMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

interface Held { readonly token: string; readonly renewAt: number; readonly expiresAt: number }

/**
 * The service's own project-scoped token, obtained with the service user's password and
 * re-obtained shortly before it expires or when identity says it is no longer valid.
 * Concurrent callers share one login.
 */
export class ServiceTokenSource {
  #held?: Held;
  #pending?: Promise<Held>;
  #failedUntil = 0;
  #failure?: IdentityUnavailableError;
  /** Logins made so far (for metrics and tests). */
  logins = 0;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  constructor(private readonly opts: ServiceTokenOptions) {
    this.#base = identityBase(opts.identityUrl);
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * A service token valid for a while yet. When renewing fails, the held token is still used
   * until it actually expires.
   */
  async get(): Promise<string> {
    const held = this.#held;
    if (held && this.#now() < held.renewAt) return held.token;
    try {
      if (this.#now() < this.#failedUntil && this.#failure) throw this.#failure;
      this.#pending ??= this.#login().finally(() => { this.#pending = undefined; });
      return (await this.#pending).token;
    } catch (err) {
      if (held && this.#held === held && this.#now() < held.expiresAt) return held.token;
      throw err;
    }
  }

  /** Drops `token` if it is the one held (identity rejected it). */
  invalidate(token: string): void {
    if (this.#held?.token === token) this.#held = undefined;
  }

  async #login(): Promise<Held> {
    const c = this.opts.credentials;
    const userDomain = c.userDomainName !== undefined ? { name: c.userDomainName } : { id: c.userDomainId ?? 'default' };
    const projectDomain = c.projectDomainName !== undefined ? { name: c.projectDomainName } : { id: c.projectDomainId ?? 'default' };
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.userName, domain: userDomain, password: c.password } } },
        scope: { project: { name: c.projectName ?? 'service', domain: projectDomain } },
      },
    };
    this.logins++;
    try {
      const res = await this.#fetch(`${this.#base}/v3/auth/tokens?nocatalog=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
      const text = await res.text();
      if (res.status !== 201) {
        this.opts.log?.error({ status: res.status, body: text.slice(0, 500), user: c.userName }, 'identity refused the service credentials');
        throw new IdentityUnavailableError(`Identity refused the service credentials (HTTP ${res.status})`);
      }
      const token = res.headers.get('x-subject-token');
      let expires: Date | undefined;
      try { expires = parseKeystoneTime((JSON.parse(text) as { token?: { expires_at?: unknown } }).token?.expires_at); } catch { /* below */ }
      if (!token || !expires) throw new IdentityUnavailableError('Identity returned no usable service token');
      const now = this.#now();
      const expiresAt = expires.getTime();
      const margin = Math.min(this.opts.refreshMarginMs ?? 120_000, Math.max(0, (expiresAt - now) / 2));
      this.#failure = undefined;
      this.#held = { token, expiresAt, renewAt: expiresAt - margin };
      return this.#held;
    } catch (err) {
      const failure = err instanceof IdentityUnavailableError ? err
        : new IdentityUnavailableError(`Could not reach identity to obtain a service token: ${(err as Error).message}`, { cause: err });
      if (!(err instanceof IdentityUnavailableError)) this.opts.log?.error({ err }, 'service token login failed');
      this.#failure = failure;
      this.#failedUntil = this.#now() + (this.opts.retryAfterFailureMs ?? 1000);
      throw failure;
    }
  }
}
