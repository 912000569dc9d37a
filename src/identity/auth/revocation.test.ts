import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../platform/db/connect.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { identityMigrations } from '../store/migrations.js';
import type { IdentityDB, RevocationEventRow } from '../store/schema.js';
import { RevocationList, type RevocableToken } from './revocation.js';

const token = (over: Partial<RevocableToken> = {}): RevocableToken => ({
  userId: 'u1', projectId: 'p1', domainIds: ['default'], roleIds: ['r1'], auditIds: ['a1', 'chain'], issuedAtMs: 1_000, ...over,
});
const event = (over: Partial<RevocationEventRow>): RevocationEventRow => ({
  id: Math.random().toString(16).slice(2), domain_id: null, project_id: null, user_id: null, role_id: null, trust_id: null,
  consumer_id: null, access_token_id: null, audit_id: null, audit_chain_id: null, expires_at: null,
  issued_before: new Date(2_000).toISOString(), revoked_at: new Date(2_000).toISOString(), ...over,
});

test('an event revokes tokens matching all its fields and issued before it, to the millisecond', async () => {
  const database = await openDatabase<IdentityDB>('sqlite://:memory:');
  await migrateToLatest(database.db, 'identity', identityMigrations);
  const list = new RevocationList(database.db, 1000);
  await list.load();
  await list.add(event({ user_id: 'u1', project_id: 'p1' }));
  assert.equal(list.isRevoked(token()), true);
  assert.equal(list.isRevoked(token({ projectId: 'p2' })), false, 'another project of the same user');
  assert.equal(list.isRevoked(token({ userId: 'u2' })), false);
  assert.equal(list.isRevoked(token({ issuedAtMs: 2_000 })), true, 'issued in the same millisecond');
  assert.equal(list.isRevoked(token({ issuedAtMs: 2_001 })), false, 'issued a millisecond later');
  await list.add(event({ audit_chain_id: 'chain' }));
  assert.equal(list.isRevoked(token({ userId: 'u9', projectId: 'px' })), true, 'the whole rescoped chain');
  await list.add(event({ consumer_id: 'ac1' }));
  assert.equal(list.isRevoked(token({ userId: 'u9', projectId: 'px', auditIds: ['z'], appCredId: 'ac1' })), true);

  // Another process sees the events after a reload from the database.
  const other = new RevocationList(database.db, 0);
  await other.load();
  assert.equal(other.size, 3);
  assert.equal(other.isRevoked(token()), true);
  await database.close();
});
