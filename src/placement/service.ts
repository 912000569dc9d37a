import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Config } from '../platform/config/config.js';
import type { Database } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import type { TokenValidator } from '../platform/auth/index.js';
import { Enforcer } from '../platform/policy/index.js';
import { placementMigrations } from './store/migrations.js';
import type { PlacementDB } from './store/schema.js';
import { PlacementContext, type Notifier } from './context.js';
import { createPlacementApp } from './app.js';
import { placementPolicyDefaults } from './policy.js';
import { ensureStandardNames } from './traits.js';
import { InProcessPlacement } from './client.js';

/** A running (or ready-to-listen) placement service. */
export interface PlacementService {
  readonly ctx: PlacementContext;
  readonly app: FastifyInstance;
  /** The in-process API (what the scheduler and the compute agents of this process call). */
  readonly client: InProcessPlacement;
  close(): Promise<void>;
}

/** Applies the placement migrations (start and `nephos db sync`). */
export const migratePlacement = (database: Database): Promise<string[]> => migrateToLatest(database.db, 'placement', placementMigrations);

/**
 * Builds the placement service on an open database: migrations, the standard resource classes
 * and traits, policy (placement's defaults + the operator's file) and the HTTP app.
 */
export async function createPlacementService(cfg: Config, database: Database, log: Logger, opts: { validator: TokenValidator; notify?: Notifier }): Promise<PlacementService> {
  await migratePlacement(database);
  const policy = new Enforcer(placementPolicyDefaults, { policyFile: cfg.placement.policy_file ?? undefined });
  const ctx = new PlacementContext(database.db as Kysely<PlacementDB>, database.engine, cfg, log.child({ service: 'placement' }), policy, opts.notify);
  await ensureStandardNames(ctx);
  const app = createPlacementApp(ctx, opts.validator);
  return { ctx, app, client: new InProcessPlacement(ctx), close: async () => { await app.close(); } };
}
