import type { Kysely } from 'kysely';
import type { IdentityDB, RevocationEventRow } from '../store/schema.js';

/** What a revocation event is matched against: the facts of one token. */
export interface RevocableToken {
  readonly userId: string;
  readonly trustorUserId?: string;
  readonly trusteeUserId?: string;
  readonly projectId?: string;
  readonly domainIds: readonly string[];
  readonly roleIds: readonly string[];
  readonly trustId?: string;
  readonly appCredId?: string;
  readonly auditIds: readonly string[];
  /** Milliseconds since the epoch. */
  readonly issuedAtMs: number;
}

interface Event { row: RevocationEventRow; issuedBeforeMs: number }

/**
 * The revocation events, held in memory for fast validation and kept in step with the database:
 * events written here are applied at once; events written by other processes are picked up by
 * `refresh()`, which the validator calls at most once per cache TTL.
 */
export class RevocationList {
  #events: Event[] = [];
  #lastRevokedAt = '';
  #lastRefresh = 0;

  constructor(private readonly db: Kysely<IdentityDB>, private readonly refreshMs: number) {}

  /** Loads every event (on start). */
  async load(): Promise<void> {
    this.#events = [];
    this.#lastRevokedAt = '';
    await this.refresh(true);
  }

  /** Reads events other processes wrote since the last read. */
  async refresh(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.#lastRefresh < this.refreshMs) return;
    this.#lastRefresh = now;
    const rows = await this.db.selectFrom('revocation_event').selectAll().where('revoked_at', '>=', this.#lastRevokedAt).execute();
    const known = new Set(this.#events.map((e) => e.row.id));
    for (const row of rows) if (!known.has(row.id)) this.#push(row);
  }

  /** Writes an event and applies it at once. */
  async add(row: RevocationEventRow): Promise<void> {
    await this.db.insertInto('revocation_event').values(row).execute();
    this.#push(row);
  }

  #push(row: RevocationEventRow): void {
    this.#events.push({ row, issuedBeforeMs: new Date(row.issued_before).getTime() });
    if (row.revoked_at > this.#lastRevokedAt) this.#lastRevokedAt = row.revoked_at;
  }

  /** True when some event revokes the token: every non-null field matches and it was issued before. */
  isRevoked(t: RevocableToken): boolean {
    for (const { row: e, issuedBeforeMs } of this.#events) {
      if (t.issuedAtMs > issuedBeforeMs) continue;
      if (e.user_id && e.user_id !== t.userId && e.user_id !== t.trustorUserId && e.user_id !== t.trusteeUserId) continue;
      if (e.project_id && e.project_id !== t.projectId) continue;
      if (e.domain_id && !t.domainIds.includes(e.domain_id)) continue;
      if (e.role_id && !t.roleIds.includes(e.role_id)) continue;
      if (e.trust_id && e.trust_id !== t.trustId) continue;
      if (e.consumer_id && e.consumer_id !== t.appCredId) continue;
      if (e.access_token_id && e.access_token_id !== t.appCredId) continue;
      if (e.audit_id && e.audit_id !== t.auditIds[0]) continue;
      if (e.audit_chain_id && e.audit_chain_id !== t.auditIds[t.auditIds.length - 1]) continue;
      return true;
    }
    return false;
  }

  get size(): number { return this.#events.length; }
}
