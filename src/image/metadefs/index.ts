/**
 * Glance's metadata-definition catalogue (`/v2/metadefs/…` and `/v2/schemas/metadefs/…`):
 * namespaces (public/private, `protected` against deletion) holding objects, properties, tags and
 * resource type associations, used by dashboards to offer well-known image/flavor/volume keys.
 *
 * Interface for the image service:
 *
 *   await migrateMetadefs(database);                  // own tables + bookkeeping ('image-metadefs'), seeds resource types
 *   registerMetadefRoutes(app, { db: database.db, enforce });
 *   // enforce(rule, target, req) checks a policy rule for the caller (authOf(req)) and throws a
 *   // 403 Fault when denied; the rules and their Zed defaults are `metadefPolicyDefaults`, to be
 *   // merged into the image service's Enforcer defaults.
 *
 * Routes expect authentication to have run (`authOf(req)`); faults are `Fault`s the app renders.
 * Optional deps: `limitDefault` (25) and `limitMax` (1000) for namespace lists.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/connect.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { refuseNul, type Ctx, type MetadefDeps } from './context.js';
import { registerNamespaceRoutes } from './routes-namespaces.js';
import { registerObjectRoutes, registerPropertyRoutes, registerResourceTypeRoutes, registerSchemaRoutes, registerTagRoutes } from './routes-contents.js';
import { metadefMigrations, type MetadefDB } from './tables.js';

export type { MetadefDeps } from './context.js';
export { metadefPolicyDefaults } from './policy.js';
export { metadefSchemaDocuments } from './schemas.js';
export { SEEDED_RESOURCE_TYPES } from './tables.js';

/** Creates or upgrades the metadef tables (SQLite, PostgreSQL, MariaDB); returns the migrations applied. */
export function migrateMetadefs(database: Pick<Database, 'db'>): Promise<string[]> {
  return migrateToLatest(database.db, 'image-metadefs', metadefMigrations);
}

/**
 * Registers every metadef route (and the metadef schema documents) on the image API server, in
 * their own plugin scope (loaded at `ready()`/`listen()`), whose one hook refuses NUL characters.
 */
export function registerMetadefRoutes(app: FastifyInstance, deps: MetadefDeps): void {
  const ctx: Ctx = { db: deps.db as Kysely<MetadefDB>, deps };
  void app.register(async (scope) => {
    scope.addHook('preHandler', refuseNul);
    registerNamespaceRoutes(scope, ctx);
    registerObjectRoutes(scope, ctx);
    registerPropertyRoutes(scope, ctx);
    registerTagRoutes(scope, ctx);
    registerResourceTypeRoutes(scope, ctx);
    registerSchemaRoutes(scope);
  });
}
