import { Kysely, SqliteDialect, PostgresDialect, MysqlDialect, sql, type Dialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** The SQL engines Nephos runs on. */
export type Engine = 'sqlite' | 'postgres' | 'mysql';

/** An open database: the Kysely handle, which engine it is, and how to close it. */
export interface Database<DB = any> {
  readonly db: Kysely<DB>;
  readonly engine: Engine;
  close(): Promise<void>;
}

/** Which engine a URL names: sqlite://path, postgres(ql)://…, mysql:// or mariadb://. */
export function engineOf(url: string): Engine {
  if (url.startsWith('sqlite:') || url === ':memory:') return 'sqlite';
  if (/^postgres(ql)?:/.test(url)) return 'postgres';
  if (/^(mysql|mariadb):/.test(url)) return 'mysql';
  throw new Error(`Unsupported database URL ${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))}: use sqlite://, postgres:// or mysql://`);
}

/** Path of a sqlite:// URL (sqlite:///abs/path or sqlite://relative or sqlite://:memory:). */
export const sqlitePath = (url: string): string => (url === ':memory:' ? url : url.replace(/^sqlite:(\/\/)?/, '')) || ':memory:';

/**
 * Opens a database by URL. SQLite runs in-process (better-sqlite3, WAL, one connection — Kysely
 * serialises its use, so concurrent writers never see "database is locked"); PostgreSQL and
 * MariaDB use small pools of their native drivers, loaded only when used.
 */
export async function openDatabase<DB = any>(url: string): Promise<Database<DB>> {
  const engine = engineOf(url);
  let dialect: Dialect;
  if (engine === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3');
    const path = sqlitePath(url);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const conn = new SQLite(path);
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = NORMAL');
    conn.pragma('busy_timeout = 10000');
    conn.pragma('foreign_keys = ON');
    dialect = new SqliteDialect({ database: conn });
  } else if (engine === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // The server ending an idle connection (a restart, an administrator's termination) is an
    // 'error' event on the pool, which would crash the process unheard; the pool has already
    // dropped that connection and opens a fresh one for the next query.
    pool.on('error', (err) => process.emitWarning(`PostgreSQL closed an idle connection: ${err.message}`));
    dialect = new PostgresDialect({ pool });
  } else {
    const mysql = await import('mysql2');
    const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
    dialect = new MysqlDialect({
      pool: mysql.createPool({
        host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password), database: u.pathname.slice(1), connectionLimit: 10, charset: 'utf8mb4',
      }),
    });
  }
  const db = new Kysely<DB>({ dialect });
  if (engine === 'mysql') await sql`SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,ANSI_QUOTES'`.execute(db).catch(() => undefined);
  return { db, engine, close: () => db.destroy() };
}

/** True when an error is a unique-constraint violation on any of the three engines. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; message?: string };
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === '23505'
    || e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062;
}

/** True when an error is a foreign-key violation on any of the three engines. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e?.code === '23503' || e?.errno === 1451 || e?.errno === 1452;
}
