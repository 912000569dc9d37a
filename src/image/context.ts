/**
 * What every part of the image service shares: the database, configuration, policy, the stores
 * and the notification hook; and the caller of a request as Glance's RequestContext sees it.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import type { Engine } from '../platform/db/connect.js';
import { policyCreds, type RequestContext } from '../platform/auth/index.js';
import type { Enforcer, PolicyCredentials, PolicyTarget } from '../platform/policy/index.js';
import { forbidden, notFound } from '../platform/http/faults.js';
import type { ImageStore } from './data/store.js';
import type { ImageDB, ImageRow } from './store/schema.js';

/** Sends a notification (best effort; never fails the caller). */
export type Notifier = (eventType: string, payload: Record<string, unknown>) => void;

/** The caller of an image API request. */
export interface Caller {
  readonly userId: string;
  /** Glance's `context.owner`: the token's project (null for domain/system-scoped tokens). */
  readonly projectId: string | null;
  /** Glance's `context.is_admin`: policy `context_is_admin` (the admin role). */
  readonly isAdmin: boolean;
  readonly creds: PolicyCredentials;
  readonly requestId?: string;
}

export class ImageContext {
  constructor(
    readonly db: Kysely<ImageDB>,
    readonly engine: Engine,
    readonly config: Config,
    readonly log: Logger,
    readonly policy: Enforcer,
    /** Where image data lives (the default store). */
    readonly store: ImageStore,
    /** Where interoperable import stages data. */
    readonly staging: ImageStore,
    private readonly notifier?: Notifier,
  ) {}

  /** Imports running in this process, by image id (the import lock's liveness). */
  readonly imports = new Map<string, Promise<void>>();

  /** The caller of an authenticated request. */
  callerOf(auth: RequestContext): Caller {
    const creds = policyCreds(auth);
    return {
      userId: auth.userId, projectId: auth.projectId ?? null, creds, requestId: auth.requestId,
      isAdmin: this.policy.enforce('context_is_admin', {}, creds),
    };
  }

  /** Whether `rule` allows the caller on `target`. */
  allows(caller: Caller, rule: string, target: PolicyTarget): boolean {
    return this.policy.enforce(rule, target, caller.creds);
  }

  /** 403 unless `rule` allows the caller on `target`. */
  enforce(caller: Caller, rule: string, target: PolicyTarget, message?: string): void {
    if (!this.allows(caller, rule, target)) throw forbidden(message ?? `You are not authorized to complete ${rule} action.`);
  }

  notify(eventType: string, payload: Record<string, unknown>): void {
    if (!this.notifier) return;
    try { this.notifier(eventType, payload); } catch (err) { this.log.warn({ err, eventType }, 'notification not sent'); }
  }
}

/** Glance's ImageTarget: the image's attributes and extra properties, `project_id` = owner. */
export function imageTarget(row: ImageRow, extra: Readonly<Record<string, string>> = {}, memberId?: string | null): PolicyTarget {
  return {
    ...extra, ...row, id: row.id, project_id: row.owner, owner: row.owner, visibility: row.visibility,
    protected: row.protected === 1, member_id: memberId ?? null,
  };
}

/** 404 as Glance words it for an image the caller cannot see or that does not exist. */
export const imageNotFound = (id: string) => notFound(`No image found with ID ${id}`);

/** Glance's legacy ownership check (enforce_secure_rbac off): admin, or the image's owner. */
export function checkMutable(caller: Caller, row: ImageRow): void {
  if (caller.isAdmin) return;
  if (row.owner === null || caller.projectId === null || row.owner !== caller.projectId) throw forbidden('You do not own this image');
}
