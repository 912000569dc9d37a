import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

let h: IdentityHarness;
let admin: string;
before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
});
after(async () => { await h.close(); });

const junk: unknown[] = [
  null, 0, -1, 1e308, true, 'x', '', [], [1, 2], {}, { a: { b: { c: [] } } }, 'a'.repeat(70_000), '\u0000', '../../etc', 'é漢字🙂',
];

/** Bodies built from junk under every field name the APIs know, plus malformed envelopes. */
function bodies(key: string, fields: string[]): unknown[] {
  const out: unknown[] = [null, 'str', [], 5, { [key]: null }, { [key]: [] }, { [key]: 'x' }];
  for (const f of fields) for (const v of junk) out.push({ [key]: { name: `n${Math.random()}`, [f]: v } });
  out.push({ [key]: { name: 'ok', __proto__: { admin: true }, 'a:b-c': 1 } });
  return out;
}

const FIELDS = ['name', 'description', 'enabled', 'domain_id', 'parent_id', 'is_domain', 'tags', 'options', 'password',
  'default_project_id', 'email', 'federated', 'explicit_domain_id', 'id', 'links'];

describe('hostile input never yields a 5xx', () => {
  it('creates and updates', async () => {
    const p = await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'victim' } } });
    const u = await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'victim' } } });
    const g = await h.request('POST', '/v3/groups', { token: admin, body: { group: { name: 'victim' } } });
    const d = await h.request('POST', '/v3/domains', { token: admin, body: { domain: { name: 'victim' } } });
    const targets: [string, string, string][] = [
      ['POST', '/v3/domains', 'domain'], ['PATCH', `/v3/domains/${d.body.domain.id}`, 'domain'],
      ['POST', '/v3/projects', 'project'], ['PATCH', `/v3/projects/${p.body.project.id}`, 'project'],
      ['POST', '/v3/users', 'user'], ['PATCH', `/v3/users/${u.body.user.id}`, 'user'],
      ['POST', '/v3/groups', 'group'], ['PATCH', `/v3/groups/${g.body.group.id}`, 'group'],
      ['POST', `/v3/users/${u.body.user.id}/password`, 'user'], ['PUT', `/v3/projects/${p.body.project.id}/tags`, 'tags'],
    ];
    for (const [method, path, key] of targets) {
      for (const body of bodies(key, FIELDS)) {
        const r = await h.request(method, path, { token: admin, body: typeof body === 'string' ? JSON.stringify(body) : body });
        assert.ok(r.status < 500, `${method} ${path} ${JSON.stringify(body).slice(0, 200)} -> ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  });

  it('paths and queries', async () => {
    const ids = ['x', '%00', 'a'.repeat(1000), '..%2F..', '%F0%9F%99%82', "'; drop table project; --"];
    const queries = ['enabled=maybe', 'name=&name=b', 'password_expires_at=lt:', 'password_expires_at=zz:2020-01-01',
      'password_expires_at=2020-99-99', 'tags=,,,', 'not-tags-any=', 'parents_as_list&parents_as_ids', 'is_domain=nope',
      'name__contains=%25', 'domain_id=' + 'z'.repeat(500), 'enabled[]=1'];
    const paths = (x: string) => [`/v3/domains/${x}`, `/v3/projects/${x}`, `/v3/projects/${x}/tags`, `/v3/projects/${x}/tags/${x}`,
      `/v3/users/${x}`, `/v3/users/${x}/groups`, `/v3/users/${x}/projects`, `/v3/groups/${x}`, `/v3/groups/${x}/users`, `/v3/groups/${x}/users/${x}`];
    for (const x of ids) {
      for (const path of paths(x)) {
        for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']) {
          const r = await h.request(method, path, { token: admin, body: method === 'PUT' || method === 'PATCH' ? { x: 1 } : undefined });
          assert.ok(r.status < 500, `${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
        }
      }
    }
    for (const base of ['/v3/domains', '/v3/projects', '/v3/users', '/v3/groups', '/v3/projects/default']) {
      for (const q of queries) {
        const r = await h.request('GET', `${base}?${q}`, { token: admin });
        assert.ok(r.status < 500, `GET ${base}?${q} -> ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  });
});
