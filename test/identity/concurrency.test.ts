// Concurrent writers on the SQLite default: 8 clients create, grant, authenticate and delete users
// and projects for a fixed time. Real Keystone on SQLite answered HTTP 500 ("database is locked")
// here; Nephos must answer no 5xx and leave a consistent database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

const SECONDS = Number(process.env.NEPHOS_CONCURRENCY_SECONDS ?? 30);
let h: IdentityHarness;
before(async () => { h = await startIdentity(); });
after(async () => { await h?.close(); });

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${h.url}${path}`, {
    method, headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

test(`8 concurrent writers for ${SECONDS} s: zero 5xx, consistent database`, async (t) => {
  const admin = await h.adminToken();
  const roles = (await call('GET', '/v3/roles?name=member', admin)).json.roles;
  const member = roles[0].id;
  const deadline = Date.now() + SECONDS * 1000;
  const statuses = new Map<number, number>();
  const fives: string[] = [];
  const note = (s: number, what: string) => {
    statuses.set(s, (statuses.get(s) ?? 0) + 1);
    if (s >= 500) fives.push(`${s} ${what}`);
  };
  let cycles = 0;
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < deadline && i < 100_000; i++) {
      const tag = `w${w}-${i}`;
      const p = await call('POST', '/v3/projects', admin, { project: { name: `p-${tag}`, domain_id: 'default' } });
      note(p.status, 'create project');
      const u = await call('POST', '/v3/users', admin, { user: { name: `u-${tag}`, domain_id: 'default', password: `pw-${tag}` } });
      note(u.status, 'create user');
      if (p.status === 201 && u.status === 201) {
        note((await call('PUT', `/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${member}`, admin)).status, 'grant');
        // Same-name create races against itself: a 409, never a 500.
        note((await call('POST', '/v3/users', admin, { user: { name: `u-${tag}`, domain_id: 'default' } })).status, 'duplicate user');
        note((await call('DELETE', `/v3/users/${u.json.user.id}`, admin)).status, 'delete user');
        note((await call('DELETE', `/v3/projects/${p.json.project.id}`, admin)).status, 'delete project');
      }
      cycles++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  t.diagnostic(`${cycles} cycles; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.deepEqual(fives.slice(0, 10), []);
  assert.ok(cycles > 8, 'the writers made progress');
  assert.equal(statuses.get(409), cycles, 'every duplicate create was a 409');

  // Consistency: nothing left behind by the deleted users and projects.
  const db = h.id.db;
  const leftoverUsers = await db.selectFrom('user_account').select('name').where('name', 'like', 'u-w%').execute();
  const leftoverProjects = await db.selectFrom('project').select('name').where('name', 'like', 'p-w%').execute();
  assert.deepEqual([leftoverUsers.length, leftoverProjects.length], [0, 0]);
  const ids = new Set([...(await db.selectFrom('user_account').select('id').execute()).map((r) => r.id),
    ...(await db.selectFrom('user_group').select('id').execute()).map((r) => r.id),
    ...(await db.selectFrom('project').select('id').execute()).map((r) => r.id), 'system']);
  const orphans = (await db.selectFrom('assignment').selectAll().execute()).filter((a) => !ids.has(a.actor_id) || !ids.has(a.target_id));
  assert.deepEqual(orphans, []);
  const orphanPasswords = (await db.selectFrom('user_password').select('user_id').execute()).filter((p) => !ids.has(p.user_id));
  assert.deepEqual(orphanPasswords, []);
});
