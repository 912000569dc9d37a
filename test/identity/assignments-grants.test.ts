// Grants on projects, domains (plain and OS-INHERIT) and the system, and their effect on tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { adminApi } from './assignments-fixtures.js';

let h: IdentityHarness;
let api: ReturnType<typeof adminApi>;
before(async () => { h = await startIdentity(); api = adminApi(h); });
after(async () => { await h?.close(); });

const missing = '0'.repeat(32);

test('user grant on a project: put, check (HEAD and GET), list, revoke', async () => {
  const [p, u, r] = [await api.project(), await api.user(), await api.role()];
  const url = `/v3/projects/${p.id}/users/${u.id}/roles/${r.id}`;
  await api.call('HEAD', url, undefined, 404);
  const put = await api.call('PUT', url, undefined, 204);
  assert.equal(put.body, undefined);
  await api.call('PUT', url, undefined, 204); // granting twice is silent
  await api.call('HEAD', url, undefined, 204);
  await api.call('GET', url, undefined, 204);
  const list = (await api.call('GET', `/v3/projects/${p.id}/users/${u.id}/roles`, undefined, 200)).body;
  assert.deepEqual(list.roles, [r]);
  assert.equal(list.links.self, `http://localhost:80/v3/projects/${p.id}/users/${u.id}/roles`);
  await api.call('DELETE', url, undefined, 204);
  const gone = await api.call('GET', url, undefined, 404);
  assert.equal(gone.body.error.message, `Could not find role assignment with role: ${r.id}, user or group: ${u.id}, project, domain, or system: ${p.id}.`);
  await api.call('DELETE', url, undefined, 404);
});

test('missing entities are 404s in Keystone order', async () => {
  const [p, u, r] = [await api.project(), await api.user(), await api.role()];
  const roleMsg = (await api.call('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${missing}`, undefined, 404)).body.error.message;
  assert.equal(roleMsg, `Could not find role: ${missing}.`);
  const userMsg = (await api.call('PUT', `/v3/projects/${p.id}/users/${missing}/roles/${r.id}`, undefined, 404)).body.error.message;
  assert.equal(userMsg, `Could not find user: ${missing}.`);
  await api.call('PUT', `/v3/projects/${missing}/users/${u.id}/roles/${r.id}`, undefined, 404);
  await api.call('PUT', `/v3/domains/${missing}/users/${u.id}/roles/${r.id}`, undefined, 404);
  await api.call('PUT', `/v3/domains/${p.id}/users/${u.id}/roles/${r.id}`, undefined, 404); // a project is not a domain
  await api.call('GET', `/v3/projects/${p.id}/groups/${missing}/roles`, undefined, 404);
  // Revoking for a deleted actor reaches the assignment check rather than failing on the user.
  const rev = await api.call('DELETE', `/v3/projects/${p.id}/users/${missing}/roles/${r.id}`, undefined, 404);
  assert.match(rev.body.error.message, /^Could not find role assignment/);
});

test('group grants on a domain and on a project give members token roles; revoking takes them away', async () => {
  const d = await api.domain();
  const p = await api.project(d.id);
  const g = await api.group(d.id);
  const u = await api.user(d.id, 'member-pw-1');
  const r = await api.role();
  await api.addMember(g.id, u.id);
  await api.call('PUT', `/v3/domains/${d.id}/groups/${g.id}/roles/${r.id}`, undefined, 204);
  await api.call('HEAD', `/v3/domains/${d.id}/groups/${g.id}/roles/${r.id}`, undefined, 204);
  assert.deepEqual((await api.call('GET', `/v3/domains/${d.id}/groups/${g.id}/roles`, undefined, 200)).body.roles.map((x: { id: string }) => x.id), [r.id]);
  await api.call('PUT', `/v3/projects/${p.id}/groups/${g.id}/roles/${r.id}`, undefined, 204);
  const token = await h.tokenFor({ id: u.id }, 'member-pw-1', { projectId: p.id });
  const seen = await h.request('GET', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': token } });
  assert.deepEqual(seen.body.token.roles.map((x: { id: string }) => x.id), [r.id]);
  await api.call('DELETE', `/v3/projects/${p.id}/groups/${g.id}/roles/${r.id}`, undefined, 204);
  const after = await h.request('GET', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': token } });
  assert.equal(after.status, 404, 'a project token whose user lost every role there is no longer valid');
  await api.call('DELETE', `/v3/domains/${d.id}/groups/${g.id}/roles/${r.id}`, undefined, 204);
  await api.call('GET', `/v3/domains/${d.id}/groups/${g.id}/roles/${r.id}`, undefined, 404);
});

test('OS-INHERIT grants on domains and projects are separate from plain ones', async () => {
  const d = await api.domain();
  const parent = await api.project(d.id);
  const u = await api.user(d.id);
  const g = await api.group(d.id);
  const r = await api.role();
  const dUrl = `/v3/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/${r.id}/inherited_to_projects`;
  await api.call('PUT', dUrl, undefined, 204);
  await api.call('HEAD', dUrl, undefined, 204);
  assert.deepEqual((await api.call('GET', `/v3/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/inherited_to_projects`, undefined, 200)).body.roles.map((x: { id: string }) => x.id), [r.id]);
  assert.deepEqual((await api.call('GET', `/v3/domains/${d.id}/users/${u.id}/roles`, undefined, 200)).body.roles, []);
  await api.call('HEAD', `/v3/domains/${d.id}/users/${u.id}/roles/${r.id}`, undefined, 404);
  await api.call('DELETE', dUrl, undefined, 204);
  await api.call('HEAD', dUrl, undefined, 404);

  const gDomain = `/v3/OS-INHERIT/domains/${d.id}/groups/${g.id}/roles/${r.id}/inherited_to_projects`;
  await api.call('PUT', gDomain, undefined, 204);
  assert.equal((await api.call('GET', `/v3/OS-INHERIT/domains/${d.id}/groups/${g.id}/roles/inherited_to_projects`, undefined, 200)).body.roles.length, 1);
  await api.call('DELETE', gDomain, undefined, 204);

  for (const actor of [`users/${u.id}`, `groups/${g.id}`]) {
    const pUrl = `/v3/OS-INHERIT/projects/${parent.id}/${actor}/roles/${r.id}/inherited_to_projects`;
    await api.call('PUT', pUrl, undefined, 204);
    await api.call('HEAD', pUrl, undefined, 204);
    await api.call('HEAD', `/v3/projects/${parent.id}/${actor}/roles/${r.id}`, undefined, 404);
    await api.call('DELETE', pUrl, undefined, 204);
    await api.call('GET', pUrl, undefined, 404);
  }
  // Keystone has no list form for grants inherited from a project.
  await api.call('GET', `/v3/OS-INHERIT/projects/${parent.id}/users/${u.id}/roles/inherited_to_projects`, undefined, 404);
});

test('domain-specific roles: only on projects of their domain, never on the system', async () => {
  const d = await api.domain();
  const own = await api.project(d.id);
  const foreign = await api.project();
  const u = await api.user();
  const dr = await api.role({ domain_id: d.id });
  await api.call('PUT', `/v3/projects/${own.id}/users/${u.id}/roles/${dr.id}`, undefined, 204);
  const refused = await api.call('PUT', `/v3/projects/${foreign.id}/users/${u.id}/roles/${dr.id}`, undefined, 403);
  assert.equal(refused.body.error.message, `Project ${foreign.id} must be in the same domain as the role ${dr.id} being assigned.`);
  const sys = await api.call('PUT', `/v3/system/users/${u.id}/roles/${dr.id}`, undefined, 400);
  assert.match(sys.body.error.message, /is a domain-specific role/);
});

test('system grants for users and groups', async () => {
  const [u, g, r] = [await api.user(), await api.group(), await api.role()];
  for (const [kind, actor] of [['users', u.id], ['groups', g.id]]) {
    const url = `/v3/system/${kind}/${actor}/roles/${r.id}`;
    await api.call('HEAD', url, undefined, 404);
    await api.call('PUT', url, undefined, 204);
    await api.call('GET', url, undefined, 204);
    assert.deepEqual((await api.call('GET', `/v3/system/${kind}/${actor}/roles`, undefined, 200)).body.roles, [r]);
    await api.call('DELETE', url, undefined, 204);
    await api.call('DELETE', url, undefined, 404);
    assert.deepEqual((await api.call('GET', `/v3/system/${kind}/${actor}/roles`, undefined, 200)).body.roles, []);
  }
  await api.call('GET', `/v3/system/users/${missing}/roles`, undefined, 404);
  await api.call('PUT', `/v3/system/users/${u.id}/roles/${missing}`, undefined, 404);
});

test('policy: a member cannot grant, check or list grants', async () => {
  const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  const [p, u, r] = [await api.project(), await api.user(), await api.role()];
  const url = `/v3/projects/${p.id}/users/${u.id}/roles/${r.id}`;
  assert.equal((await h.request('PUT', url, { token: demo })).status, 403);
  assert.equal((await h.request('HEAD', url, { token: demo })).status, 403);
  assert.equal((await h.request('GET', `/v3/projects/${p.id}/users/${u.id}/roles`, { token: demo })).status, 403);
  assert.equal((await h.request('PUT', `/v3/system/users/${u.id}/roles/${r.id}`, { token: demo })).status, 403);
  assert.equal((await h.request('PUT', url)).status, 401);
});
