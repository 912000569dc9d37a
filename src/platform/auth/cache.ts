import type { ValidatedToken } from './request-context.js';
import type { TokenValidator } from './validator.js';
import { InvalidTokenError } from './errors.js';

/** Tuning of a token cache. */
export interface TokenCacheOptions {
  /** How long a valid token is trusted without asking identity again (ms, default 5000). */
  readonly ttlMs?: number;
  /** How long an invalid token is refused without asking identity again (ms, default 1000). */
  readonly negativeTtlMs?: number;
  /** Most tokens remembered; the least recently used are forgotten first (default 10000). */
  readonly maxEntries?: number;
  /** Clock (ms since the epoch); tests move it. */
  readonly now?: () => number;
}

type Entry =
  | { readonly ok: true; readonly value: ValidatedToken; readonly until: number }
  | { readonly ok: false; readonly reason: string; readonly until: number };

/**
 * A TokenValidator that remembers answers, as keystonemiddleware's token cache does.
 *
 * Trade-off: a token revoked in identity stays valid in THIS service for up to `ttlMs` after it
 * was last checked (never past its own expiry). That bounded staleness is what lets services
 * avoid one identity round trip per request; keep the TTL short.
 *
 * Invalid tokens are remembered for `negativeTtlMs` so that a flood of bad tokens costs identity
 * one check per token per second; identity being unreachable is never remembered. Concurrent
 * checks of the same token share one call to the inner validator.
 */
export class CachedTokenValidator implements TokenValidator {
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<ValidatedToken>>();
  readonly #ttl: number;
  readonly #negativeTtl: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(readonly inner: TokenValidator, opts: TokenCacheOptions = {}) {
    this.#ttl = opts.ttlMs ?? 5000;
    this.#negativeTtl = opts.negativeTtlMs ?? 1000;
    this.#max = Math.max(1, opts.maxEntries ?? 10_000);
    this.#now = opts.now ?? Date.now;
  }

  get identityUri(): string | undefined { return this.inner.identityUri; }

  /** Number of remembered tokens (valid and invalid). */
  get size(): number { return this.#entries.size; }

  validate(token: string): Promise<ValidatedToken> {
    const hit = this.#entries.get(token);
    if (hit) {
      if (hit.until > this.#now()) {
        this.#entries.delete(token); // re-insert: Map order is the LRU order
        this.#entries.set(token, hit);
        return hit.ok ? Promise.resolve(hit.value) : Promise.reject(new InvalidTokenError(hit.reason));
      }
      this.#entries.delete(token);
    }
    let pending = this.#inflight.get(token);
    if (!pending) {
      pending = this.#ask(token);
      this.#inflight.set(token, pending);
      const done = () => { this.#inflight.delete(token); };
      pending.then(done, done);
    }
    return pending;
  }

  /** Forgets one token, or every token. */
  invalidate(token?: string): void {
    if (token === undefined) this.#entries.clear();
    else this.#entries.delete(token);
  }

  async #ask(token: string): Promise<ValidatedToken> {
    try {
      const value = await this.inner.validate(token);
      const now = this.#now();
      const until = Math.min(now + this.#ttl, value.expiresAt.getTime());
      if (until > now) this.#put(token, { ok: true, value, until });
      return value;
    } catch (err) {
      if (err instanceof InvalidTokenError && this.#negativeTtl > 0) {
        this.#put(token, { ok: false, reason: err.message, until: this.#now() + this.#negativeTtl });
      }
      throw err;
    }
  }

  #put(token: string, entry: Entry): void {
    this.#entries.delete(token);
    this.#entries.set(token, entry);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
