// Generated: walks every identity route with hostile ids, bodies and headers. Expectation: never a
// 5xx, always Keystone's error body on 4xx, and no state change from a rejected call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { routesOf } from '../../src/platform/http/server.js';

let h: IdentityHarness;
before(async () => { h = await startIdentity(); });
after(async () => { await h?.close(); });

const TABLES = ['project', 'project_tag', 'user_account', 'user_password', 'user_group', 'group_membership', 'role', 'implied_role',
  'assignment', 'region', 'catalog_service', 'endpoint', 'endpoint_group', 'project_endpoint_group', 'project_endpoint', 'policy_blob',
  'credential', 'app_credential', 'app_credential_role', 'access_rule', 'trust', 'trust_role', 'domain_config', 'oauth_consumer'] as const;

async function snapshot(): Promise<string> {
  const counts: number[] = [];
  for (const t of TABLES) {
    const r = await h.id.db.selectFrom(t as never).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst() as { n: number | string };
    counts.push(Number(r.n));
  }
  return counts.join(',');
}

const hostileIds = ['x'.repeat(300), '..%2F..%2Fetc%2Fpasswd', '%00', 'ünïcødé-☃', "' OR 1=1 --", 'default'];
const hostileBodies: (string | undefined)[] = [
  '{bad json', '[]', 'null', '"string"', '12', '{}', JSON.stringify({ a: 'x'.repeat(70000) }),
  JSON.stringify({ __proto__: { polluted: true } }), '{"constructor":{"prototype":{"polluted":true}}}',
];
/** Bodies shaped like the route's entity but with wrong types, lengths and values. */
function entityBodies(url: string): string[] {
  const seg = url.split('/').filter((s) => s && !s.startsWith(':') && s !== 'v3');
  const last = (seg[seg.length - 1] ?? 'x').replace(/s$/, '').replace(/ie$/, 'y');
  const keys = [last, 'user', 'project', 'domain', 'role', 'group', 'credential', 'application_credential', 'trust', 'auth', 'config', 'tags', 'region', 'endpoint', 'service', 'policy', 'consumer', 'endpoint_group', 'role_inference'];
  const out: string[] = [];
  for (const k of keys) {
    out.push(JSON.stringify({ [k]: 'str' }), JSON.stringify({ [k]: [] }), JSON.stringify({ [k]: null }),
      JSON.stringify({ [k]: { name: 12, enabled: 'yes', domain_id: 5, id: {}, password: 7, description: [] } }),
      JSON.stringify({ [k]: { name: 'n'.repeat(300), parent_id: 'nope', project_id: 'nope', type: 'x'.repeat(300), blob: 3 } }),
      JSON.stringify({ [k]: { name: '   ', roles: 'admin', expires_at: 'yesterday', interface: 'bogus', url: 7, service_id: [] } }),
      JSON.stringify({ [k]: { name: '\u0000\ud800', trustor_user_id: 1, impersonation: 'true', remaining_uses: -1 } }));
  }
  out.push(JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 3 } } } } }),
    JSON.stringify({ auth: { identity: { methods: 'password' } } }),
    JSON.stringify({ auth: { identity: { methods: ['token'], token: { id: 'gAAAAAnope' } }, scope: { project: { id: [] } } } }),
    JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'wrong' } } }, scope: 'system' } }),
    JSON.stringify({ tags: ['a/b', 'x'.repeat(300)] }), JSON.stringify({ tags: 'nope' }));
  return out;
}

test('every route answers hostile input with a 4xx in Keystone form, never a 5xx, and rejected calls change nothing', async (t) => {
  const admin = await h.adminToken();
  const routes = routesOf(h.app).filter((r) => r.method !== 'HEAD' || true);
  assert.ok(routes.length > 40, `expected the whole API, got ${routes.length} routes`);
  const failures: string[] = [];
  let calls = 0;
  let state = await snapshot();
  for (const r of routes) {
    const paths = r.url.includes(':') ? hostileIds.map((v) => r.url.replace(/:[A-Za-z_]+/g, v)) : [r.url];
    const bodies = ['POST', 'PUT', 'PATCH'].includes(r.method) ? [...hostileBodies, ...entityBodies(r.url)] : [undefined];
    for (const path of paths) {
      for (const body of bodies) {
        for (const token of [admin, undefined, 'gAAAAABnot-a-token']) {
          if (token !== admin && body !== bodies[0]) continue;
          calls++;
          const res = await h.app.inject({
            method: r.method as never, url: path, payload: body,
            headers: { ...(token ? { 'x-auth-token': token } : {}), 'content-type': 'application/json', 'x-subject-token': 'gAAAAABbogus' },
          });
          const where = `${r.method} ${path.slice(0, 80)} body=${(body ?? '').slice(0, 60)} token=${token === admin ? 'admin' : token ?? 'none'}`;
          if (res.statusCode >= 500 && res.statusCode !== 501) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`);
          if (res.statusCode >= 400 && r.method !== 'HEAD') {
            let parsed: any;
            try { parsed = JSON.parse(res.body); } catch { /* checked below */ }
            if (!parsed?.error || parsed.error.code !== res.statusCode || typeof parsed.error.message !== 'string') failures.push(`bad fault body ${where}: ${res.body.slice(0, 120)}`);
          }
          const now = await snapshot();
          if (res.statusCode >= 400 && now !== state) failures.push(`state changed by a rejected call (${res.statusCode}) ${where}`);
          state = now;
        }
      }
    }
  }
  t.diagnostic(`${calls} hostile calls over ${routes.length} routes`);
  assert.deepEqual(failures.slice(0, 25), []);
  // The admin token still works: nothing was broken along the way.
  const check = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': admin } });
  assert.equal(check.status, 200);
});

test('an oversized body is refused with 413 in Keystone form', async () => {
  const big = JSON.stringify({ user: { name: 'big', description: 'x'.repeat(2 * 1024 * 1024) } });
  const res = await h.request('POST', '/v3/users', { token: await h.adminToken(), body: big });
  assert.equal(res.status, 413);
  assert.equal(res.body.error.code, 413);
});
