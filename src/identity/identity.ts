import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import bcrypt from 'bcrypt';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import type { Engine } from '../platform/db/connect.js';
import { forbidden, unauthorized } from '../platform/http/faults.js';
import type { IdentityDB, RevocationEventRow } from './store/schema.js';
import { policyCreds, type TokenContext } from './context.js';
import { newId, isoTime } from './util.js';

/** What evaluates policy rules (the platform's oslo.policy-compatible enforcer). */
export interface PolicyCheck {
  enforce(rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): boolean;
}

/** What validates tokens (auth/tokens.ts); set by the service once built. */
export interface TokenValidator {
  validate(token: string, opts?: { allowExpired?: boolean }): Promise<TokenContext>;
  revoke(event: Partial<RevocationEventRow>): Promise<void>;
}

/** Optional notification sink (the platform bus) for CADF-ish identity.* events. */
export type Notifier = (eventType: string, payload: Record<string, unknown>) => void;

/**
 * The identity service's shared state, handed to every route module: the database, the
 * configuration, policy, token validation and the change counter that invalidates caches.
 */
export class Identity {
  /** Bumped by every write that can change a token's validity, roles or catalog. */
  #generation = 0;
  tokens!: TokenValidator;

  constructor(
    readonly db: Kysely<IdentityDB>,
    readonly engine: Engine,
    readonly config: Config,
    readonly log: Logger,
    readonly policy: PolicyCheck,
    readonly notify: Notifier = () => undefined,
  ) {}

  get generation(): number { return this.#generation; }
  /** Call after any write affecting users, groups, projects, roles, assignments, trusts or the catalog. */
  changed(): void { this.#generation++; }

  /** The caller of a request, from X-Auth-Token; 401 when absent, invalid, expired or revoked. */
  async caller(req: FastifyRequest): Promise<TokenContext> {
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') throw unauthorized();
    try {
      return await this.tokens.validate(token);
    } catch {
      throw unauthorized('The request you have made requires authentication.');
    }
  }

  /** Policy check for an authenticated caller; 403 when denied. */
  enforce(ctx: TokenContext, rule: string, target: Record<string, unknown> = {}): void {
    if (!this.policy.enforce(rule, target, policyCreds(ctx))) {
      throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
    }
  }

  /** The caller, checked against `rule` with `target` (which may be built from the caller). */
  async authorize(req: FastifyRequest, rule: string, target: Record<string, unknown> | ((ctx: TokenContext) => Promise<Record<string, unknown>> | Record<string, unknown>) = {}): Promise<TokenContext> {
    const ctx = await this.caller(req);
    this.enforce(ctx, rule, typeof target === 'function' ? await target(ctx) : target);
    return ctx;
  }

  /** Password hashing: bcrypt with the configured cost, on libuv's thread pool (both cores). */
  hashPassword(password: string): Promise<string> {
    return bcrypt.hash(password, this.config.identity.password_hash_rounds);
  }
  verifyPassword(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash).catch(() => false);
  }

  /** Records a revocation event (tokens matching it fail validation at once) and invalidates caches. */
  async revoke(event: Partial<Omit<RevocationEventRow, 'id' | 'revoked_at'>>): Promise<void> {
    await this.tokens.revoke({ issued_before: isoTime(), ...event, id: newId(), revoked_at: isoTime() });
    this.changed();
  }
}
