/**
 * What every part of the network service shares: the database, configuration, logging,
 * notifications, and the change signal the agents listen to; and the caller of a request.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import type { Engine } from '../platform/db/connect.js';
import type { RequestContext } from '../platform/auth/index.js';
import { policyCreds } from '../platform/auth/index.js';
import type { PolicyCredentials } from '../platform/policy/index.js';
import type { NetworkDB } from './store/schema.js';

/** Sends a notification (best effort; never fails the caller). */
export type Notifier = (eventType: string, payload: Record<string, unknown>) => void;

/** The caller of a network API request, as Neutron's context sees it. */
export interface Caller {
  readonly userId: string;
  /** The token's project (Neutron's `context.project_id`). */
  readonly projectId: string;
  readonly isAdmin: boolean;
  readonly creds: PolicyCredentials;
  readonly requestId?: string;
}

export class NetworkContext {
  /** Listeners told (synchronously, cheaply) that the data plane's desired state changed. */
  readonly #changeListeners = new Set<(what: { readonly kind: string; readonly id: string }) => void>();

  constructor(
    readonly db: Kysely<NetworkDB>,
    readonly engine: Engine,
    readonly config: Config,
    readonly log: Logger,
    private readonly notifier?: Notifier,
  ) {}

  callerOf(auth: RequestContext): Caller {
    const creds = policyCreds(auth);
    const roles = (auth.roles ?? []).map((r) => r.toLowerCase());
    return { userId: auth.userId, projectId: auth.projectId ?? '', isAdmin: roles.includes('admin'), creds, requestId: auth.requestId };
  }

  notify(eventType: string, payload: Record<string, unknown>): void {
    if (!this.notifier) return;
    try { this.notifier(eventType, payload); } catch (err) { this.log.warn({ err, eventType }, 'notification not sent'); }
  }

  /** Subscribes to data-plane changes (the agent uses it to converge promptly). */
  onChange(listener: (what: { readonly kind: string; readonly id: string }) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  changed(kind: string, id: string): void {
    for (const l of this.#changeListeners) {
      try { l({ kind, id }); } catch (err) { this.log.warn({ err }, 'change listener failed'); }
    }
  }
}
