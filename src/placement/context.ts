/**
 * What every part of the placement service shares: the database, configuration, logging,
 * policy and notifications; and the caller of a request.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import type { Engine } from '../platform/db/connect.js';
import { policyCreds, type RequestContext } from '../platform/auth/index.js';
import type { Enforcer, PolicyCredentials, PolicyTarget } from '../platform/policy/index.js';
import { placementFault } from './faults.js';
import type { PlacementDB } from './store/schema.js';

/** Sends a notification (best effort; never fails the caller). */
export type Notifier = (eventType: string, payload: Record<string, unknown>) => void;

/** The database handle a query runs on: the pool or a transaction. */
export type Db = Kysely<PlacementDB> | Transaction<PlacementDB>;

/** The caller of a request, as placement's policy sees it. */
export interface Caller {
  readonly userId: string;
  readonly projectId: string;
  readonly creds: PolicyCredentials;
}

export class PlacementContext {
  constructor(
    readonly db: Kysely<PlacementDB>,
    readonly engine: Engine,
    readonly config: Config,
    readonly log: Logger,
    readonly policy: Enforcer,
    private readonly notifier?: Notifier,
  ) {}

  callerOf(auth: RequestContext): Caller {
    return { userId: auth.userId, projectId: auth.projectId ?? '', creds: policyCreds(auth) };
  }

  /** Enforces a policy rule: a 403 in placement's words when denied. */
  authorize(caller: Caller, rule: string, target: PolicyTarget = {}): void {
    const t = { project_id: caller.projectId, user_id: caller.userId, ...target };
    if (!this.policy.enforce(rule, t, caller.creds)) throw placementFault(403, `Policy does not allow ${rule} to be performed.`);
  }

  notify(eventType: string, payload: Record<string, unknown>): void {
    if (!this.notifier) return;
    try { this.notifier(eventType, payload); } catch (err) { this.log.warn({ err, eventType }, 'notification not sent'); }
  }
}

/** Now, as stored in the tables' timestamp columns. */
export const nowIso = (): string => new Date().toISOString();
