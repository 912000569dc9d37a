import type { Identity } from '../identity.js';

/**
 * What a write must do once its transaction has committed: revocation events (written through
 * the token service, which uses its own connection) and notifications. Collected while the
 * transaction runs so nothing is announced for a write that rolls back.
 */
export class Effects {
  readonly users = new Set<string>();
  readonly projects = new Set<string>();
  readonly domains = new Set<string>();
  readonly trusts = new Set<string>();
  readonly events: [string, Record<string, unknown>][] = [];

  notify(eventType: string, resourceId: string, extra: Record<string, unknown> = {}): void {
    this.events.push([eventType, { resource_info: resourceId, ...extra }]);
  }

  /** Writes the revocation events, invalidates caches and sends the notifications. */
  async apply(id: Identity): Promise<void> {
    for (const user_id of this.users) await id.revoke({ user_id });
    for (const project_id of this.projects) await id.revoke({ project_id });
    for (const domain_id of this.domains) await id.revoke({ domain_id });
    for (const trust_id of this.trusts) await id.revoke({ trust_id });
    id.changed();
    for (const [type, payload] of this.events) {
      try { id.notify(type, payload); } catch (err) { id.log.warn({ err, type }, 'notification failed'); }
    }
  }
}
