// /v3/roles, implied roles and /v3/role_inferences against an in-process identity service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { adminApi, uniq } from './assignments-fixtures.js';

let h: IdentityHarness;
let api: ReturnType<typeof adminApi>;
before(async () => { h = await startIdentity(); api = adminApi(h); });
after(async () => { await h?.close(); });

test('create returns the role exactly as get and list show it', async () => {
  const name = uniq('role');
  const created = await api.call('POST', '/v3/roles', { role: { name, description: 'd', 'x-extra': 7 } }, 201);
  const role = created.body.role;
  assert.match(role.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(role, {
    id: role.id, name, domain_id: null, description: 'd', options: {}, x_extra: 7, links: { self: `http://localhost:80/v3/roles/${role.id}` },
  });
  assert.deepEqual((await api.call('GET', `/v3/roles/${role.id}`, undefined, 200)).body.role, role);
  const list = (await api.call('GET', '/v3/roles', undefined, 200)).body;
  assert.ok(list.roles.some((r: unknown) => JSON.stringify(r) === JSON.stringify(role)));
  assert.deepEqual(list.links, { self: 'http://localhost:80/v3/roles', previous: null, next: null });
  const byName = (await api.call('GET', `/v3/roles?name=${name}`, undefined, 200)).body.roles;
  assert.deepEqual(byName.map((r: { id: string }) => r.id), [role.id]);
  assert.equal((await api.call('HEAD', `/v3/roles/${role.id}`)).status, 200);
});

test('validation: name required and not blank, description a string, options restricted', async () => {
  assert.equal((await api.call('POST', '/v3/roles', { role: {} })).status, 400);
  assert.equal((await api.call('POST', '/v3/roles', { role: { name: '   ' } })).status, 400);
  assert.equal((await api.call('POST', '/v3/roles', { role: { name: 'x'.repeat(256) } })).status, 400);
  assert.equal((await api.call('POST', '/v3/roles', { role: { name: uniq('r'), description: null } })).status, 400);
  assert.equal((await api.call('POST', '/v3/roles', { role: { name: uniq('r'), options: { bogus: true } } })).status, 400);
  assert.equal((await api.call('POST', '/v3/roles', { role: { name: uniq('r'), options: { immutable: 'yes' } } })).status, 400);
  const r = await api.role();
  assert.equal((await api.call('PATCH', `/v3/roles/${r.id}`, { role: {} })).status, 400);
  const changeId = await api.call('PATCH', `/v3/roles/${r.id}`, { role: { id: 'other' } });
  assert.equal(changeId.status, 400);
  assert.equal(changeId.body.error.message, 'Cannot change ID');
});

test('names are unique per domain, without regard to case; domain roles are listed only by domain', async () => {
  const name = uniq('Dup');
  await api.call('POST', '/v3/roles', { role: { name } }, 201);
  const dup = await api.call('POST', '/v3/roles', { role: { name: name.toLowerCase() } }, 409);
  assert.equal(dup.body.error.message, `Conflict occurred attempting to store role - Duplicate entry found with name ${name.toLowerCase()}.`);
  const d1 = await api.domain();
  const d2 = await api.domain();
  const r1 = (await api.call('POST', '/v3/roles', { role: { name, domain_id: d1.id } }, 201)).body.role;
  await api.call('POST', '/v3/roles', { role: { name, domain_id: d2.id } }, 201);
  assert.equal(r1.domain_id, d1.id);
  await api.call('POST', '/v3/roles', { role: { name, domain_id: d1.id } }, 409);
  const global = (await api.call('GET', '/v3/roles', undefined, 200)).body.roles;
  assert.ok(global.every((r: { domain_id: unknown }) => r.domain_id === null));
  const inD1 = (await api.call('GET', `/v3/roles?domain_id=${d1.id}`, undefined, 200)).body.roles;
  assert.deepEqual(inD1, [r1]);
  const moved = await api.call('PATCH', `/v3/roles/${r1.id}`, { role: { domain_id: d2.id } }, 400);
  assert.equal(moved.body.error.message, 'Update of `domain_id` is not allowed.');
  const renamed = await api.call('PATCH', `/v3/roles/${r1.id}`, { role: { name: 'renamed', description: 'now' } }, 200);
  assert.equal(renamed.body.role.name, 'renamed');
  assert.equal(renamed.body.role.description, 'now');
  assert.equal(renamed.body.role.domain_id, d1.id);
});

test('immutable roles refuse updates and deletion until the option is cleared', async () => {
  const r = (await api.call('POST', '/v3/roles', { role: { name: uniq('imm'), options: { immutable: true } } }, 201)).body.role;
  assert.deepEqual(r.options, { immutable: true });
  assert.equal((await api.call('PATCH', `/v3/roles/${r.id}`, { role: { name: 'nope' } })).status, 403);
  assert.equal((await api.call('PATCH', `/v3/roles/${r.id}`, { role: { name: 'nope', options: { immutable: false } } })).status, 403);
  const del = await api.call('DELETE', `/v3/roles/${r.id}`, undefined, 403);
  assert.match(del.body.error.message, /^Unable to delete immutable role resource/);
  const cleared = await api.call('PATCH', `/v3/roles/${r.id}`, { role: { options: { immutable: null } } }, 200);
  assert.deepEqual(cleared.body.role.options, {});
  await api.call('DELETE', `/v3/roles/${r.id}`, undefined, 204);
  await api.call('GET', `/v3/roles/${r.id}`, undefined, 404);
});

test('implied roles: create, check, show, list, delete', async () => {
  const [a, b, c] = [await api.role(), await api.role(), await api.role()];
  const put = await api.call('PUT', `/v3/roles/${a.id}/implies/${b.id}`, undefined, 201);
  const base = 'http://localhost:80/v3';
  assert.deepEqual(put.body, {
    role_inference: {
      prior_role: { id: a.id, links: { self: `${base}/roles/${a.id}` }, name: a.name },
      implies: { id: b.id, links: { self: `${base}/roles/${b.id}` }, name: b.name },
    },
    links: { self: `${base}/roles/${a.id}/implies/${b.id}` },
  });
  assert.equal((await api.call('PUT', `/v3/roles/${a.id}/implies/${b.id}`)).status, 409);
  await api.call('PUT', `/v3/roles/${a.id}/implies/${c.id}`, undefined, 201);
  const head = await api.call('HEAD', `/v3/roles/${a.id}/implies/${b.id}`);
  assert.equal(head.status, 204);
  assert.deepEqual((await api.call('GET', `/v3/roles/${a.id}/implies/${b.id}`, undefined, 200)).body, put.body);
  const list = (await api.call('GET', `/v3/roles/${a.id}/implies`, undefined, 200)).body;
  assert.deepEqual(list.role_inference.implies.map((r: { id: string }) => r.id).sort(), [b.id, c.id].sort());
  assert.equal(list.links.self, `${base}/roles/${a.id}/implies`);
  const all = (await api.call('GET', '/v3/role_inferences', undefined, 200)).body.role_inferences;
  const mine = all.find((r: { prior_role: { id: string } }) => r.prior_role.id === a.id);
  assert.equal(mine.implies.length, 2);
  // Bootstrap's admin ⊃ member ⊃ reader rules are listed too.
  assert.ok(all.some((r: { prior_role: { name: string } }) => r.prior_role.name === 'admin'));
  await api.call('DELETE', `/v3/roles/${a.id}/implies/${b.id}`, undefined, 204);
  const gone = await api.call('GET', `/v3/roles/${a.id}/implies/${b.id}`, undefined, 404);
  assert.equal(gone.body.error.message, `${a.id} does not imply ${b.id}.`);
  await api.call('DELETE', `/v3/roles/${a.id}/implies/${b.id}`, undefined, 404);
  await api.call('PUT', `/v3/roles/${a.id}/implies/${'0'.repeat(32)}`, undefined, 404);
});

test('implied roles: admin is prohibited, global roles cannot imply domain roles', async () => {
  const adminRole = (await api.call('GET', '/v3/roles?name=admin', undefined, 200)).body.roles[0];
  const g = await api.role();
  const refused = await api.call('PUT', `/v3/roles/${g.id}/implies/${adminRole.id}`, undefined, 403);
  assert.equal(refused.body.error.message, `${adminRole.id} cannot be an implied roles.`);
  const d = await api.domain();
  const dr1 = await api.role({ domain_id: d.id });
  const dr2 = await api.role({ domain_id: d.id });
  const other = await api.role({ domain_id: (await api.domain()).id });
  await api.call('PUT', `/v3/roles/${dr1.id}/implies/${dr2.id}`, undefined, 201);
  await api.call('PUT', `/v3/roles/${dr1.id}/implies/${other.id}`, undefined, 201);
  await api.call('PUT', `/v3/roles/${dr1.id}/implies/${g.id}`, undefined, 201);
  await api.call('PUT', `/v3/roles/${g.id}/implies/${dr1.id}`, undefined, 403);
});

test('deleting a role removes its assignments and implication rules', async () => {
  const [r, implied] = [await api.role(), await api.role()];
  const p = await api.project();
  const u = await api.user();
  await api.call('PUT', `/v3/roles/${r.id}/implies/${implied.id}`, undefined, 201);
  await api.call('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${r.id}`, undefined, 204);
  await api.call('DELETE', `/v3/roles/${r.id}`, undefined, 204);
  const rows = await h.id.db.selectFrom('assignment').selectAll().where('role_id', '=', r.id).execute();
  assert.equal(rows.length, 0);
  const rules = await h.id.db.selectFrom('implied_role').selectAll().where('prior_role_id', '=', r.id).execute();
  assert.equal(rules.length, 0);
  await api.call('GET', `/v3/roles/${implied.id}`, undefined, 200);
  await api.call('DELETE', `/v3/roles/${r.id}`, undefined, 404);
});

test('policy: a member may not manage roles; no token is a 401', async () => {
  const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  assert.equal((await h.request('POST', '/v3/roles', { token: demo, body: { role: { name: uniq('x') } } })).status, 403);
  assert.equal((await h.request('GET', '/v3/roles', { token: demo })).status, 403);
  assert.equal((await h.request('GET', '/v3/role_inferences', { token: demo })).status, 403);
  assert.equal((await h.request('GET', '/v3/roles')).status, 401);
});
