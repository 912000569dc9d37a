import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addCascadeTriggers, enableWal } from './keystone-sqlite.js';

test('cascade triggers delete children of ON DELETE CASCADE keys (foreign_keys stays off)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peer-sqlite-'));
  const file = join(dir, 'k.db');
  try {
    const db = new Database(file);
    db.exec(`
      CREATE TABLE "user" (id TEXT PRIMARY KEY, domain_id TEXT, UNIQUE (id, domain_id));
      CREATE TABLE local_user (id INTEGER PRIMARY KEY, user_id TEXT, domain_id TEXT,
        FOREIGN KEY (user_id, domain_id) REFERENCES "user" (id, domain_id) ON DELETE CASCADE);
      CREATE TABLE note (id INTEGER PRIMARY KEY, user_id TEXT REFERENCES "user" (id));
      INSERT INTO "user" VALUES ('u1', 'd'), ('u2', 'd');
      INSERT INTO local_user (user_id, domain_id) VALUES ('u1', 'd'), ('u2', 'd');
      INSERT INTO note (user_id) VALUES ('u1');`);
    db.close();
    assert.equal(addCascadeTriggers(file), 1);
    assert.equal(addCascadeTriggers(file), 1, 'idempotent');
    const again = new Database(file);
    // better-sqlite3 turns foreign keys on; Python's sqlite3 (Keystone) leaves them off.
    again.pragma('foreign_keys = OFF');
    again.exec(`DELETE FROM "user" WHERE id = 'u1'`);
    assert.deepEqual(again.prepare('SELECT user_id FROM local_user').pluck().all(), ['u2']);
    assert.equal(again.prepare('SELECT count(*) FROM note').pluck().get(), 1, 'NO ACTION keys are left alone');
    again.close();
    assert.equal(enableWal(file), 'wal');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
