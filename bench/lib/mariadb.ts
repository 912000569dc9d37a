/**
 * A throwaway database on the machine's MariaDB server for a peer (Neutron's migrations do not
 * run on SQLite). Connects with mysql2, as the Nephos MySQL dialect does.
 */
import type { MariadbServer } from './neutron-conf.js';

/** The server a bench peer uses: NEPHOS_BENCH_MARIADB_URL, else root without password on loopback. */
export const DEFAULT_MARIADB_URL = 'mysql://root@127.0.0.1:3306';

async function withConnection<T>(server: MariadbServer, fn: (query: (sql: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, connectTimeout: 10_000 });
  try {
    return await fn((sql) => conn.query(sql));
  } finally {
    await conn.end();
  }
}

/** Names go into SQL unquoted by parameters (DDL takes none): accept only a safe alphabet. */
function checkName(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`unsafe database name ${JSON.stringify(name)}`);
  return name;
}

/** Creates database `name` (utf8mb4); fails if it exists, so a stale one is never silently reused. */
export async function createDatabase(server: MariadbServer, name: string): Promise<void> {
  await withConnection(server, (q) => q(`CREATE DATABASE \`${checkName(name)}\` CHARACTER SET utf8mb4`));
}

/** Drops database `name` if it exists. */
export async function dropDatabase(server: MariadbServer, name: string): Promise<void> {
  await withConnection(server, (q) => q(`DROP DATABASE IF EXISTS \`${checkName(name)}\``));
}
