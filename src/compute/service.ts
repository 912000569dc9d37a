import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Config } from '../platform/config/config.js';
import type { Database } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { Enforcer } from '../platform/policy/index.js';
import type { TokenValidator } from '../platform/auth/index.js';
import { computeMigrations } from './store/migrations.js';
import type { ComputeDB } from './store/schema.js';
import { ComputeContext, type ComputeHooks, type Notifier } from './context.js';
import { createComputeApp } from './app.js';
import { computePolicyDefaults } from './policy-defaults.js';
import { heartbeat } from './services.js';
import { reportHypervisor, type ComputeNode, type HypervisorReport } from './hypervisors.js';
import type { ServiceRow } from './store/schema.js';
import { createServersRuntime, type ServersRuntime, type ServersRuntimeOptions } from './servers/runtime.js';
import { registerServers } from './servers/api.js';
import { serverPolicyDefaults } from './servers/policy-defaults.js';

/** A running (or ready-to-listen) compute API service, and the entry points other parts call. */
export interface ComputeService {
  readonly ctx: ComputeContext;
  readonly app: FastifyInstance;
  /** Servers: API deps, this host's agent, the metadata service (when configured to serve them). */
  readonly servers?: ServersRuntime;
  /** Installs hooks (servers' usage counters, servers per host, placement mirroring); merges with those set before. */
  setHooks(hooks: ComputeHooks): void;
  /** A service's periodic "I am alive" (the compute agent: binary `nova-compute`). */
  heartbeat(host: string, binary: string): Promise<ServiceRow>;
  /** The compute agent's report of its hypervisor (capacity, usage, CPU). */
  reportHypervisor(host: string, report: HypervisorReport): Promise<ComputeNode>;
  close(): Promise<void>;
}

/** Applies the compute migrations (start and `nephos db sync`). */
export const migrateCompute = (database: Database): Promise<string[]> => migrateToLatest(database.db, 'compute', computeMigrations(database.engine));

/**
 * Builds the compute service on an open database: migrations, policy (Nova's defaults and the
 * operator's `compute.policy_file`) and the HTTP app authenticating with `validator`.
 */
export async function createComputeService(
  cfg: Config, database: Database, log: Logger,
  opts: {
    validator: TokenValidator; notify?: Notifier; projectExists?: (projectId: string) => Promise<boolean | undefined>;
    /** Serve servers too (the all-in-one): placement and the other services' URLs. */
    servers?: ServersRuntimeOptions;
  },
): Promise<ComputeService> {
  await migrateCompute(database);
  const policy = new Enforcer([...computePolicyDefaults, ...serverPolicyDefaults], { policyFile: cfg.compute.policy_file ?? undefined });
  const ctx = new ComputeContext(database.db as Kysely<ComputeDB>, database.engine, cfg, log.child({ service: 'compute' }), policy, opts.notify);
  const servers = opts.servers ? createServersRuntime(ctx, opts.servers) : undefined;
  const app = createComputeApp(ctx, {
    validator: opts.validator, projectExists: opts.projectExists,
    ...(servers ? { extraRoutes: (routes) => registerServers(routes, servers.deps) } : {}),
  });
  return {
    ctx, app, servers,
    setHooks: (hooks) => { ctx.hooks = { ...ctx.hooks, ...hooks }; },
    heartbeat: (host, binary) => heartbeat(ctx, host, binary),
    reportHypervisor: (host, report) => reportHypervisor(ctx, host, report),
    close: async () => { await servers?.close(); await app.close(); },
  };
}
