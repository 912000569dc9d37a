import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import type { Database } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { Enforcer } from '../platform/policy/index.js';
import { identityMigrations } from './store/migrations.js';
import type { IdentityDB } from './store/schema.js';
import { identityPolicyDefaults } from './policy-defaults.js';
import { Identity, type Notifier } from './identity.js';
import { TokenService } from './auth/tokens.js';
import { TokenCodec } from './tokens/index.js';
import { initialize as initKeys } from './tokens/key-repository.js';
import { createIdentityApp } from './app.js';
import { ldapPasswordCheck } from './ldap/auth.js';

/** A running (or ready-to-listen) identity service. */
export interface IdentityService {
  readonly identity: Identity;
  readonly tokens: TokenService;
  readonly app: FastifyInstance;
}

/** Applies the identity migrations (start and `nephos db sync`). */
export const migrateIdentity = (database: Database) => migrateToLatest(database.db, 'identity', identityMigrations);

/**
 * Builds the identity service on an open database: migrations, the token key repository,
 * policy (defaults + the operator's policy file), the token service and the HTTP app.
 */
export async function createIdentityService(cfg: Config, database: Database<IdentityDB>, log: Logger, notify?: Notifier): Promise<IdentityService> {
  await migrateIdentity(database);
  initKeys(cfg.identity.key_repository!);
  const policy = new Enforcer(identityPolicyDefaults, { policyFile: cfg.identity.policy_file ?? undefined });
  const identity = new Identity(database.db, database.engine, cfg, log.child({ service: 'identity' }), policy, notify);
  const tokens = new TokenService(identity, new TokenCodec(cfg.identity.key_repository!));
  identity.tokens = tokens;
  tokens.externalPassword = ldapPasswordCheck(identity);
  await tokens.start();
  const app = createIdentityApp(identity);
  return { identity, tokens, app };
}
