import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase } from './connect.js';
import { tempPostgres } from '../../../test/lib/databases.js';

test('PostgreSQL: the server ending idle connections neither crashes the process nor breaks the next query', async () => {
  const tmp = await tempPostgres();
  const database = await openDatabase(tmp.url);
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(w.message); };
  process.on('warning', onWarning);
  try {
    // Two idle pooled connections, then the server terminates every backend of this database.
    await Promise.all([sql`SELECT pg_sleep(0.05)`.execute(database.db), sql`SELECT pg_sleep(0.05)`.execute(database.db)]);
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: tmp.url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    const dbName = new URL(tmp.url).pathname.slice(1);
    const ended = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1) t', [dbName]);
    await admin.end();
    assert.ok(ended.rows[0].n >= 1, 'the pool had idle connections to end');
    // Each ended connection is reported once the pool has read the server's notice (then dropped).
    const reported = (): number => warnings.filter((w) => w.includes('PostgreSQL closed an idle connection: terminating connection')).length;
    for (let i = 0; i < 100 && reported() < ended.rows[0].n; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(reported(), ended.rows[0].n, `every loss is reported: ${warnings.join(' | ')}`);
    const r = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
    assert.equal(Number(r.rows[0]!.one), 1, 'the next query runs on a fresh connection');
  } finally {
    process.off('warning', onWarning);
    await database.close();
    await tmp.drop();
  }
});
