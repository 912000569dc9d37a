import { test } from 'node:test';
import { randomBytes } from 'node:crypto';

/** A throwaway PostgreSQL database on the machine's server (trust auth, user root). */
export async function tempPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `nephos_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://root@127.0.0.1:5432/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A throwaway MariaDB database on the machine's server (root, empty password). */
export async function tempMariadb(): Promise<{ url: string; drop(): Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const name = `nephos_test_${randomBytes(4).toString('hex')}`;
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
  await conn.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await conn.end();
  return {
    url: `mysql://root@127.0.0.1:3306/${name}`,
    drop: async () => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

/**
 * Registers one test per shared engine (PostgreSQL, MariaDB): a whole cloud on a throwaway
 * database of that engine, where transactions really run concurrently; dropped afterwards.
 */
export function testOnSharedEngines(title: (engine: string) => string, body: (h: import('./identity-harness.js').IdentityHarness) => Promise<void>): void {
  for (const [engine, make] of [['PostgreSQL', tempPostgres], ['MariaDB', tempMariadb]] as const) {
    test(title(engine), async () => {
      const { startIdentity } = await import('./identity-harness.js');
      const db = await make();
      const h = await startIdentity({ databaseUrl: db.url });
      try {
        await body(h);
      } finally {
        await h.close();
        await db.drop();
      }
    });
  }
}
