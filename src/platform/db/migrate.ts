import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

/**
 * Applies a service's versioned migrations (named so that they sort in order, e.g. `0001_initial`).
 * Each service keeps its own bookkeeping tables, so services migrate independently.
 */
export async function migrateToLatest(db: Kysely<any>, service: string, migrations: Record<string, Migration>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: `${service}_migration`,
    migrationLockTableName: `${service}_migration_lock`,
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`${service} migration ${failed?.migrationName ?? ''} failed: ${(result.error as Error).message ?? result.error}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
