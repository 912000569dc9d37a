import type { Logger } from 'pino';
import type { ValidatedToken } from './request-context.js';
import { plausibleToken, type TokenValidator } from './validator.js';
import { InvalidTokenError, IdentityUnavailableError } from './errors.js';
import { ServiceTokenSource, type ServiceCredentials } from './service-token.js';
import { identityBase } from './identity-url.js';
import { parseTokenBody } from './token-body.js';

/** Where and as whom a RemoteTokenValidator asks identity. */
export interface RemoteValidatorOptions {
  /** Identity base URL, e.g. `http://127.0.0.1:5000` (a trailing `/v3` is accepted). */
  readonly identityUrl: string;
  readonly serviceCredentials: ServiceCredentials;
  /** Public identity URL for `WWW-Authenticate` (default: `identityUrl`). */
  readonly publicUri?: string;
  /** Per-request timeout (ms, default 5000). */
  readonly timeoutMs?: number;
  /** Ask for the token's catalog (default true, as keystonemiddleware's include_service_catalog). */
  readonly includeCatalog?: boolean;
  /** Service-token renewal margin (ms, see ServiceTokenOptions). */
  readonly refreshMarginMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly log?: Logger;
}

/**
 * Validates tokens over HTTP as keystonemiddleware does: `GET /v3/auth/tokens` with the
 * service's token in `X-Auth-Token` and the user's in `X-Subject-Token`. 404 means the token is
 * invalid; 401 means our service token went stale, so it is re-obtained and the call retried once.
 */
export class RemoteTokenValidator implements TokenValidator {
  readonly identityUri: string;
  readonly serviceToken: ServiceTokenSource;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  constructor(private readonly opts: RemoteValidatorOptions) {
    this.#base = identityBase(opts.identityUrl);
    this.identityUri = opts.publicUri ?? this.#base;
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#now = opts.now ?? Date.now;
    this.serviceToken = new ServiceTokenSource({
      identityUrl: opts.identityUrl, credentials: opts.serviceCredentials, fetch: this.#fetch,
      timeoutMs: opts.timeoutMs, refreshMarginMs: opts.refreshMarginMs, now: this.#now, log: opts.log,
    });
  }

  async validate(rawToken: string): Promise<ValidatedToken> {
    const token = rawToken.trim();
    if (!plausibleToken(token)) throw new InvalidTokenError('The token is malformed.');
    const query = this.opts.includeCatalog === false ? '?nocatalog=1' : '';
    for (let attempt = 0; ; attempt++) {
      const serviceToken = await this.serviceToken.get();
      const res = await this.#get(`${this.#base}/v3/auth/tokens${query}`, serviceToken, token);
      if (res.status === 200) {
        const v = parseTokenBody(res.body, token);
        if (v.expiresAt.getTime() <= this.#now()) throw new InvalidTokenError('The token has expired.');
        return v;
      }
      if (res.status === 404) throw new InvalidTokenError('Identity does not know the token.');
      if (res.status === 401 && attempt === 0) {
        this.opts.log?.info('identity rejected the service token; obtaining a new one');
        this.serviceToken.invalidate(serviceToken);
        continue;
      }
      this.opts.log?.error({ status: res.status, body: res.text.slice(0, 500) }, 'identity failed to validate a token');
      throw new IdentityUnavailableError(res.status === 401 || res.status === 403
        ? 'Identity server rejected authorization necessary to fetch token data'
        : `Failed to fetch token data from identity server (HTTP ${res.status})`);
    }
  }

  /** One validation call; a dropped connection is retried once, a timeout is not. */
  async #get(url: string, serviceToken: string, token: string): Promise<{ status: number; text: string; body: unknown }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.#fetch(url, {
          method: 'GET',
          headers: {
            accept: 'application/json',
            'x-auth-token': serviceToken,
            'x-subject-token': token,
            // We enforce application credential access rules (see access-rules.ts), so say so.
            'openstack-identity-access-rules': '1',
          },
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        });
        const text = await res.text();
        let body: unknown;
        try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
        return { status: res.status, text, body };
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
        if (timedOut || attempt > 0) {
          this.opts.log?.error({ err }, 'identity unreachable while validating a token');
          throw new IdentityUnavailableError(`Could not reach identity: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  }
}
