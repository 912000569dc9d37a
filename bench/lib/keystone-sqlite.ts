import Database from 'better-sqlite3';

interface ForeignKeyRow {
  id: number;
  seq: number;
  table: string;
  from: string;
  to: string;
  on_delete: string;
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Adds AFTER DELETE triggers that carry out every `ON DELETE CASCADE` foreign key of an SQLite
 * database. SQLite ignores foreign keys unless each connection enables them, which Keystone
 * only does in its unit tests, so rows such as application_credential_role outlive their
 * parent; a reused rowid then collides with them (409 Conflict). MySQL/PostgreSQL deployments
 * cascade, and the triggers make the SQLite peer behave the same. Returns the trigger count.
 */
export function addCascadeTriggers(dbFile: string): number {
  const db = new Database(dbFile);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    let created = 0;
    const tx = db.transaction(() => {
      for (const { name: child } of tables) {
        const fks = db.prepare('SELECT * FROM pragma_foreign_key_list(?)').all(child) as ForeignKeyRow[];
        const byId = new Map<number, ForeignKeyRow[]>();
        for (const fk of fks) if (fk.on_delete === 'CASCADE') byId.set(fk.id, [...(byId.get(fk.id) ?? []), fk]);
        for (const [id, cols] of byId) {
          cols.sort((a, b) => a.seq - b.seq);
          const parent = cols[0].table;
          const match = cols.map((c) => `${q(c.from)} = OLD.${q(c.to)}`).join(' AND ');
          const trigger = q(`peer_cascade_${child}_${id}`);
          db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
          db.exec(`CREATE TRIGGER ${trigger} AFTER DELETE ON ${q(parent)} FOR EACH ROW BEGIN DELETE FROM ${q(child)} WHERE ${match}; END`);
          created++;
        }
      }
    });
    tx();
    return created;
  } finally {
    db.close();
  }
}

/**
 * Switches the database to write-ahead logging (persistent in the file). With the default
 * rollback journal, two uwsgi workers writing at once often deadlock on lock upgrades and
 * SQLite answers "database is locked" at once, which Keystone turns into a 500 with no body;
 * in WAL mode readers never block a committing writer.
 */
export function enableWal(dbFile: string): string {
  const db = new Database(dbFile);
  try {
    return String(db.pragma('journal_mode = WAL', { simple: true }));
  } finally {
    db.close();
  }
}
