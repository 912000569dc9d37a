import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Config } from '../platform/config/config.js';
import type { Database } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import type { TokenValidator } from '../platform/auth/index.js';
import { networkMigrations } from './store/migrations.js';
import type { NetworkDB } from './store/schema.js';
import { NetworkContext, type Notifier } from './context.js';
import { createNetworkApp } from './app.js';
import type { Bus } from '../platform/bus/index.js';
import { serveAgentContract } from './agent/bus-server.js';

/** A running (or ready-to-listen) network service. */
export interface NetworkService {
  readonly ctx: NetworkContext;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Applies the network migrations (start and `nephos db sync`). */
export const migrateNetwork = (database: Database): Promise<string[]> => migrateToLatest(database.db, 'network', networkMigrations);

/**
 * Builds the network service on an open database: migrations and the HTTP app; with a `bus`, it
 * also answers the network agents of other hosts there and fans data-plane changes out to them.
 */
export async function createNetworkService(cfg: Config, database: Database, log: Logger, opts: { validator: TokenValidator; notify?: Notifier; bus?: Bus }): Promise<NetworkService> {
  await migrateNetwork(database);
  const ctx = new NetworkContext(database.db as Kysely<NetworkDB>, database.engine, cfg, log.child({ service: 'network' }), opts.notify);
  const app = createNetworkApp(ctx, opts.validator);
  const agents = opts.bus ? await serveAgentContract(ctx, opts.bus) : undefined;
  return { ctx, app, close: async () => { await agents?.stop(); await app.close(); } };
}
