/**
 * What every part of the compute service shares: the database, configuration, policy, logging,
 * notifications, and the hooks through which later parts (servers, scheduler, the compute agent)
 * feed usage and host facts in; and the caller of a request as Nova's RequestContext sees it.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import type { Engine } from '../platform/db/connect.js';
import { policyCreds, type RequestContext } from '../platform/auth/index.js';
import type { Enforcer, PolicyCredentials, PolicyTarget } from '../platform/policy/index.js';
import type { ComputeDB } from './store/schema.js';
import { policyDenied } from './faults.js';

/** Sends a notification (best effort; never fails the caller). */
export type Notifier = (eventType: string, payload: Record<string, unknown>) => void;

/** The caller of a compute API request. */
export interface Caller {
  readonly userId: string;
  /** The token's project ('' for domain- or system-scoped tokens). */
  readonly projectId: string;
  /** Nova's `context.is_admin`: policy `context_is_admin`. */
  readonly isAdmin: boolean;
  readonly creds: PolicyCredentials;
  readonly requestId?: string;
}

/** Usage of the per-project countable resources that live outside this module (servers, groups). */
export interface InstanceUsage { readonly instances: number; readonly cores: number; readonly ram: number }

/** A server on a host, as the hypervisor views list it. */
export interface HostedServer { readonly uuid: string; readonly name: string }

/**
 * Hooks the servers, server-group and placement code install. Until they do, usage is 0 and no
 * host runs servers — which is true while servers do not exist.
 */
export interface ComputeHooks {
  /** Instances, VCPUs and RAM (MiB) held by a project, or by one user of it when `userId` is given. */
  instanceUsage?: (projectId: string, userId?: string) => Promise<InstanceUsage>;
  /** Server groups of a project (or one user of it). */
  serverGroupUsage?: (projectId: string, userId?: string) => Promise<number>;
  /** Servers whose host is `host`. */
  serversOnHost?: (host: string) => Promise<readonly HostedServer[]>;
  /**
   * Told after an aggregate's hosts or metadata changed (placement mirrors aggregates onto
   * resource providers). Failures are logged, never returned to the API caller (as Nova does).
   */
  aggregateChanged?: (aggregate: { readonly uuid: string; readonly hosts: readonly string[]; readonly metadata: Readonly<Record<string, string>> }, removedHosts: readonly string[]) => Promise<void>;
  /** Told after a compute service row was deleted (placement drops the host's resource provider). */
  computeServiceDeleted?: (service: { readonly host: string; readonly nodeUuids: readonly string[] }) => Promise<void>;
}

export class ComputeContext {
  /** Installed hooks (see {@link ComputeHooks}); replaced wholesale or per key. */
  hooks: ComputeHooks = {};

  constructor(
    readonly db: Kysely<ComputeDB>,
    readonly engine: Engine,
    readonly config: Config,
    readonly log: Logger,
    readonly policy: Enforcer,
    private readonly notifier?: Notifier,
  ) {}

  /** Nova's `CONF.api.max_limit`: the largest page a list returns. */
  readonly maxLimit = 1000;

  /** The caller of an authenticated request. */
  callerOf(auth: RequestContext): Caller {
    const creds = policyCreds(auth);
    return {
      userId: auth.userId, projectId: auth.projectId ?? '', creds, requestId: auth.requestId,
      isAdmin: this.policy.enforce('context_is_admin', {}, creds),
    };
  }

  /** Whether `rule` allows the caller on `target` (Nova's `context.can(..., fatal=False)`). */
  allows(caller: Caller, rule: string, target: PolicyTarget = {}): boolean {
    // Nova's default target is the caller's own project and user.
    return this.policy.enforce(rule, { project_id: caller.projectId, user_id: caller.userId, ...target }, caller.creds);
  }

  /** 403 (Nova's PolicyNotAuthorized) unless `rule` allows the caller on `target`. */
  authorize(caller: Caller, rule: string, target: PolicyTarget = {}): void {
    if (!this.allows(caller, rule, target)) throw policyDenied(rule);
  }

  notify(eventType: string, payload: Record<string, unknown>): void {
    if (!this.notifier) return;
    try { this.notifier(eventType, payload); } catch (err) { this.log.warn({ err, eventType }, 'notification not sent'); }
  }
}
