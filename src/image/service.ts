import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Config } from '../platform/config/config.js';
import type { Database } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { Enforcer } from '../platform/policy/index.js';
import type { TokenValidator } from '../platform/auth/index.js';
import { FileStore } from './data/file-store.js';
import { startHashThreads } from './data/off-thread-hash.js';
import { tuneRuntimeForBulkData } from './data/runtime-tuning.js';
import { UPLOAD_HASHES } from './data/upload.js';
import { imageMigrations } from './store/migrations.js';
import type { ImageDB } from './store/schema.js';
import { imagePolicyDefaults } from './policy-defaults.js';
import { metadefPolicyDefaults, migrateMetadefs } from './metadefs/index.js';
import { ImageContext, type Notifier } from './context.js';
import { createImageApp } from './app.js';

/**
 * Data files no image points at (a crash between the store's commit and the database update, or
 * an image row deleted by hand) are removed, so the store never leaks space.
 */
async function removeOrphans(db: Kysely<ImageDB>, store: FileStore, log: Logger): Promise<void> {
  const used = new Set((await db.selectFrom('image').select('location').where('location', 'is not', null).execute()).map((r) => r.location));
  for (const id of await store.storedIds()) {
    const location = store.locationOf(id);
    if (used.has(location)) continue;
    log.warn({ imageId: id, location }, 'removing image data no image points at');
    await store.delete(location);
  }
}

/** A running (or ready-to-listen) image service. */
export interface ImageService {
  readonly ctx: ImageContext;
  readonly app: FastifyInstance;
  /** Stops the API and waits for background imports to settle. */
  close(): Promise<void>;
}

/** Applies the image migrations (start and `nephos db sync`). */
export const migrateImage = async (database: Database): Promise<string[]> => [
  ...await migrateToLatest(database.db, 'image', imageMigrations),
  ...(await migrateMetadefs(database)).map((m) => `metadefs/${m}`),
];

/**
 * Builds the image service on an open database: migrations, the file store and the staging
 * area (partial files of a crash swept), policy (Glance defaults + the operator's file) and the
 * HTTP app authenticating with `validator`.
 */
export async function createImageService(cfg: Config, database: Database, log: Logger, opts: { validator: TokenValidator; notify?: Notifier }): Promise<ImageService> {
  await migrateImage(database);
  const store = new FileStore({ dir: cfg.image.data_dir!, id: 'file', description: 'Filesystem store', isDefault: true });
  const staging = new FileStore({ dir: cfg.image.staging_dir!, id: 'os_glance_staging_store', description: 'Import staging area', isDefault: false });
  await store.sweepPartials();
  await staging.sweepPartials();
  // A crash mid-upload or mid-import left no data behind (the stores commit atomically): such
  // images go back to `queued`, as Glance's revert does, so they can be uploaded again.
  await database.db.updateTable('image').set({ status: 'queued', size: null, virtual_size: null })
    .where('status', 'in', ['saving', 'importing']).execute();
  await removeOrphans(database.db as Kysely<ImageDB>, store, log);
  const policy = new Enforcer([...imagePolicyDefaults, ...metadefPolicyDefaults], { policyFile: cfg.image.policy_file ?? undefined });
  const ctx = new ImageContext(database.db as Kysely<ImageDB>, database.engine, cfg, log.child({ service: 'image' }), policy, store, staging, opts.notify);
  const app = createImageApp(ctx, opts.validator);
  startHashThreads(UPLOAD_HASHES); // ready for the first upload, which then grows memory by its slab only
  tuneRuntimeForBulkData(); // process-wide GC and malloc settings for big uploads: see runtime-tuning.ts
  return {
    ctx, app,
    close: async () => {
      await app.close();
      await Promise.allSettled([...ctx.imports.values()]);
    },
  };
}
