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

const req = (method: string, path: string, body?: unknown, token = admin) => h.request(method, path, { token, body });
let seq = 0;
const uniq = (p: string) => `${p}-${process.pid}-${++seq}`;

describe('domains', () => {
  it('creates, shows, lists, updates and deletes a domain', async () => {
    const name = uniq('dom');
    const c = await req('POST', '/v3/domains', { domain: { name, description: 'd1', color: 'blue' } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const d = c.body.domain;
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.deepEqual({ name: d.name, description: d.description, enabled: d.enabled, tags: d.tags, options: d.options, color: d.color },
      { name, description: 'd1', enabled: true, tags: [], options: {}, color: 'blue' });
    assert.match(d.links.self, new RegExp(`^http://[^/]+/v3/domains/${d.id}$`));
    const shown = await req('GET', `/v3/domains/${d.id}`);
    assert.deepEqual(shown.body.domain, d);
    const listed = await req('GET', `/v3/domains?name=${name}`);
    assert.deepEqual(listed.body.domains, [d]);
    const enabledOnly = await req('GET', '/v3/domains?enabled=false');
    assert.ok(!enabledOnly.body.domains.some((x: { id: string }) => x.id === d.id));
    const active = await req('DELETE', `/v3/domains/${d.id}`);
    assert.equal(active.status, 403);
    const up = await req('PATCH', `/v3/domains/${d.id}`, { domain: { name: `${name}-new`, description: 'd2', enabled: false } });
    assert.equal(up.status, 200);
    assert.equal(up.body.domain.name, `${name}-new`);
    assert.equal(up.body.domain.enabled, false);
    assert.equal(up.body.domain.color, 'blue');
    assert.equal((await req('DELETE', `/v3/domains/${d.id}`)).status, 204);
    assert.equal((await req('GET', `/v3/domains/${d.id}`)).status, 404);
    assert.equal((await req('DELETE', `/v3/domains/${d.id}`)).status, 404);
  });
});

/** Grants a role directly in the database (the assignments API is another module's). */
async function grant(type: string, actor: string, target: string, roleName: string, inherited = false): Promise<void> {
  const role = await h.id.db.selectFrom('role').select('id').where('name', '=', roleName).executeTakeFirstOrThrow();
  await h.id.db.insertInto('assignment').values({ type, actor_id: actor, target_id: target, role_id: role.id, inherited: inherited ? 1 : 0 }).execute();
  h.id.changed();
}

async function mkDomain(extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await req('POST', '/v3/domains', { domain: { name: uniq('dom'), ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.domain;
}
async function mkProject(extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await req('POST', '/v3/projects', { project: { name: uniq('proj'), ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.project;
}
async function mkUser(extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await req('POST', '/v3/users', { user: { name: uniq('user'), ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.user;
}
async function mkGroup(extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await req('POST', '/v3/groups', { group: { name: uniq('grp'), ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.group;
}
const validate = (token: string) => h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('domain validation and cascade', () => {
  it('rejects bad names and duplicates as Keystone', async () => {
    assert.equal((await req('POST', '/v3/domains', { domain: { name: '' } })).status, 400);
    assert.equal((await req('POST', '/v3/domains', { domain: { name: '   ' } })).status, 400);
    assert.equal((await req('POST', '/v3/domains', { domain: { name: 'a'.repeat(65) } })).status, 400);
    assert.equal((await req('POST', '/v3/domains', { domain: { name: 'x', enabled: 'yes' } })).status, 400);
    assert.equal((await req('POST', '/v3/domains', { domain: {} })).status, 400);
    assert.equal((await req('POST', '/v3/domains', { domain: { name: 'x', explicit_domain_id: 'not-a-uuid' } })).status, 400);
    const d = await mkDomain();
    const dup = await req('POST', '/v3/domains', { domain: { name: d.name } });
    assert.equal(dup.status, 409);
    assert.match(dup.body.error.message, /Conflict occurred attempting to store project/);
  });

  it('creates a domain with an explicit id', async () => {
    const wanted = 'ab'.repeat(16);
    const r = await req('POST', '/v3/domains', { domain: { name: uniq('dom'), explicit_domain_id: wanted } });
    assert.equal(r.status, 201);
    assert.equal(r.body.domain.id, wanted);
  });

  it('refuses to delete the enabled default domain', async () => {
    assert.equal((await req('DELETE', '/v3/domains/default')).status, 403);
    assert.equal((await req('GET', '/v3/domains/default')).body.domain.enabled, true);
  });

  it('deleting a domain removes its projects, users, groups and domain roles', async () => {
    const d = await mkDomain();
    const top = await mkProject({ domain_id: d.id });
    const child = await mkProject({ domain_id: d.id, parent_id: top.id });
    const u = await mkUser({ domain_id: d.id, password: 'secret-one' });
    const g = await mkGroup({ domain_id: d.id });
    await h.id.db.insertInto('role').values({ id: 'f'.repeat(32), name: uniq('drole'), domain_id: d.id, description: null, options: '{}', extra: '{}' }).execute();
    await grant('UserDomain', u.id, d.id, 'member');
    assert.equal((await req('PATCH', `/v3/domains/${d.id}`, { domain: { enabled: false } })).status, 200);
    assert.equal((await req('DELETE', `/v3/domains/${d.id}`)).status, 204);
    for (const path of [`/v3/domains/${d.id}`, `/v3/projects/${top.id}`, `/v3/projects/${child.id}`, `/v3/users/${u.id}`, `/v3/groups/${g.id}`]) {
      assert.equal((await req('GET', path)).status, 404, path);
    }
    assert.equal((await h.id.db.selectFrom('role').select('id').where('domain_id', '=', d.id).execute()).length, 0);
    assert.equal((await h.id.db.selectFrom('assignment').select('role_id').where('actor_id', '=', u.id).execute()).length, 0);
  });

  it('a non-admin cannot create domains', async () => {
    const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
    assert.equal((await req('POST', '/v3/domains', { domain: { name: uniq('dom') } }, demo)).status, 403);
    assert.equal((await req('GET', '/v3/domains', undefined, demo)).status, 403);
  });

  // Keystone's get_domain rule checks token.project.domain.id, so the policy credentials must carry the token.
  it('a member can show the domain of their project', async () => {
    const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
    assert.equal((await req('GET', '/v3/domains/default', undefined, demo)).status, 200);
  });
});

describe('projects', () => {
  it('creates top-level and child projects with Keystone defaults', async () => {
    const d = await mkDomain();
    const top = await mkProject({ domain_id: d.id, description: 'top' });
    assert.equal(top.parent_id, d.id);
    assert.equal(top.domain_id, d.id);
    assert.equal(top.is_domain, false);
    assert.equal(top.enabled, true);
    assert.deepEqual(top.options, {});
    const child = await mkProject({ parent_id: top.id, domain_id: d.id });
    assert.equal(child.parent_id, top.id);
    const implicit = await mkProject();
    assert.equal(implicit.domain_id, 'default');
    assert.equal(implicit.parent_id, 'default');
  });

  it('validates parents, domains and names', async () => {
    const d = await mkDomain();
    const other = await mkProject();
    assert.equal((await req('POST', '/v3/projects', { project: { name: uniq('p'), domain_id: d.id, parent_id: other.id } })).status, 400);
    assert.equal((await req('POST', '/v3/projects', { project: { name: uniq('p'), domain_id: 'f00' } })).status, 400);
    assert.equal((await req('POST', '/v3/projects', { project: { name: uniq('p'), parent_id: 'f00' } })).status, 400);
    assert.equal((await req('POST', '/v3/projects', { project: { name: '' } })).status, 400);
    assert.equal((await req('POST', '/v3/projects', { project: { name: 'a'.repeat(65) } })).status, 400);
    assert.equal((await req('POST', '/v3/projects', { project: { name: 'x', options: { bogus: true } } })).status, 400);
    assert.equal((await req('POST', '/v3/projects', { project: { name: 'x', domain_id: 'bad/id' } })).status, 400);
    const dup = await req('POST', '/v3/projects', { project: { name: other.name } });
    assert.equal(dup.status, 409);
    const disabled = await mkProject({ enabled: false });
    assert.equal((await req('POST', '/v3/projects', { project: { name: uniq('p'), parent_id: disabled.id } })).status, 400);
  });

  it('limits the hierarchy depth to Keystone\'s default of 5', async () => {
    let parent = await mkProject();
    for (let i = 2; i <= 5; i++) parent = await mkProject({ parent_id: parent.id });
    const tooDeep = await req('POST', '/v3/projects', { project: { name: uniq('p'), parent_id: parent.id } });
    assert.equal(tooDeep.status, 403);
    assert.match(tooDeep.body.error.message, /Max hierarchy depth/);
  });

  it('shows the same project as the list, tags included', async () => {
    const p = await mkProject({ tags: ['a', 'c', 'b', 'd'], owner: 'ops' });
    const shown = (await req('GET', `/v3/projects/${p.id}`)).body.project;
    const listed = (await req('GET', '/v3/projects')).body.projects.find((x: { id: string }) => x.id === p.id);
    assert.deepEqual(shown, listed);
    assert.deepEqual(shown, p);
    assert.equal(shown.owner, 'ops');
    assert.deepEqual([...shown.tags].sort(), ['a', 'b', 'c', 'd']);
  });

  it('filters lists by enabled, parent_id, name, domain_id, is_domain and tags', async () => {
    const d = await mkDomain();
    const p1 = await mkProject({ domain_id: d.id, enabled: false, tags: ['red', 'blue'] });
    const p2 = await mkProject({ domain_id: d.id, tags: ['red'] });
    const p3 = await mkProject({ domain_id: d.id, parent_id: p2.id });
    const ids = async (q: string) => (await req('GET', `/v3/projects?${q}`)).body.projects.map((x: { id: string }) => x.id).sort();
    assert.deepEqual(await ids(`domain_id=${d.id}`), [p1.id, p2.id, p3.id].sort());
    assert.deepEqual(await ids(`domain_id=${d.id}&enabled=false`), [p1.id]);
    assert.deepEqual(await ids(`parent_id=${p2.id}`), [p3.id]);
    assert.deepEqual(await ids(`name=${p1.name}`), [p1.id]);
    assert.deepEqual(await ids(`domain_id=${d.id}&tags=red,blue`), [p1.id]);
    assert.deepEqual(await ids(`domain_id=${d.id}&tags-any=red,blue`), [p1.id, p2.id].sort());
    assert.deepEqual(await ids(`domain_id=${d.id}&not-tags=red,blue`), [p2.id, p3.id].sort());
    assert.deepEqual(await ids(`domain_id=${d.id}&not-tags-any=red`), [p3.id]);
    assert.ok((await ids('is_domain=true')).includes(d.id));
    assert.ok(!(await ids('')).includes(d.id));
    assert.deepEqual(await ids(`domain_id=${d.id}&name__startswith=${p1.name.slice(0, -2)}`).then((x) => x.includes(p1.id)), true);
  });

  it('creates a domain through is_domain and shows it in both APIs', async () => {
    const r = await req('POST', '/v3/projects', { project: { name: uniq('isdom'), domain_id: null, is_domain: true } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.project.is_domain, true);
    assert.equal(r.body.project.domain_id, null);
    assert.equal((await req('GET', `/v3/domains/${r.body.project.id}`)).status, 200);
    assert.equal((await req('DELETE', `/v3/projects/${r.body.project.id}`)).status, 403);
    assert.equal((await req('PATCH', `/v3/projects/${r.body.project.id}`, { project: { enabled: false } })).status, 200);
    assert.equal((await req('DELETE', `/v3/projects/${r.body.project.id}`)).status, 204);
    assert.equal((await req('GET', `/v3/domains/${r.body.project.id}`)).status, 404);
  });

  it('enforces Keystone update rules', async () => {
    const parent = await mkProject();
    const child = await mkProject({ parent_id: parent.id });
    const other = await mkProject();
    assert.equal((await req('PATCH', `/v3/projects/${child.id}`, { project: { parent_id: other.id } })).status, 403);
    assert.equal((await req('PATCH', `/v3/projects/${child.id}`, { project: { is_domain: true } })).status, 400);
    assert.equal((await req('PATCH', `/v3/projects/${child.id}`, { project: { domain_id: 'other' } })).status, 400);
    assert.equal((await req('PATCH', `/v3/projects/${child.id}`, { project: { id: other.id } })).status, 400);
    assert.equal((await req('PATCH', `/v3/projects/${child.id}`, { project: {} })).status, 400);
    assert.equal((await req('PATCH', `/v3/projects/${parent.id}`, { project: { enabled: false } })).status, 403);
    assert.equal((await req('DELETE', `/v3/projects/${parent.id}`)).status, 403);
    const up = await req('PATCH', `/v3/projects/${child.id}`, { project: { name: uniq('renamed'), description: 'new', enabled: false, extra1: 1 } });
    assert.equal(up.status, 200);
    assert.equal(up.body.project.enabled, false);
    assert.equal(up.body.project.extra1, 1);
    assert.equal((await req('PATCH', `/v3/projects/${parent.id}`, { project: { enabled: false } })).status, 200);
    assert.equal((await req('PATCH', `/v3/projects/${child.id}`, { project: { enabled: true } })).status, 403);
    assert.equal((await req('DELETE', `/v3/projects/${child.id}`)).status, 204);
    assert.equal((await req('DELETE', `/v3/projects/${parent.id}`)).status, 204);
    assert.equal((await req('DELETE', `/v3/projects/${parent.id}`)).status, 404);
  });

  it('honours the immutable option', async () => {
    const p = await mkProject({ options: { immutable: true } });
    assert.deepEqual(p.options, { immutable: true });
    assert.equal((await req('PATCH', `/v3/projects/${p.id}`, { project: { description: 'x' } })).status, 403);
    assert.equal((await req('DELETE', `/v3/projects/${p.id}`)).status, 403);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags/t1`)).status, 403);
    const unset = await req('PATCH', `/v3/projects/${p.id}`, { project: { options: { immutable: null } } });
    assert.equal(unset.status, 200);
    assert.deepEqual(unset.body.project.options, {});
    assert.equal((await req('DELETE', `/v3/projects/${p.id}`)).status, 204);
  });

  it('expands parents and subtree', async () => {
    const a = await mkProject();
    const b = await mkProject({ parent_id: a.id });
    const c = await mkProject({ parent_id: b.id });
    const up = (await req('GET', `/v3/projects/${c.id}?parents_as_ids`)).body.project;
    assert.deepEqual(up.parents, { [b.id]: { [a.id]: { default: null } } });
    const down = (await req('GET', `/v3/projects/${a.id}?subtree_as_ids`)).body.project;
    assert.deepEqual(down.subtree, { [b.id]: { [c.id]: null } });
    assert.equal((await req('GET', `/v3/projects/${a.id}?subtree_as_ids&subtree_as_list`)).status, 400);
    const admin = await h.id.db.selectFrom('user_account').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow();
    await grant('UserProject', admin.id, b.id, 'member');
    const list = (await req('GET', `/v3/projects/${c.id}?parents_as_list`)).body.project;
    assert.deepEqual(list.parents.map((p: { project: { id: string } }) => p.project.id), [b.id]);
    const sub = (await req('GET', `/v3/projects/${a.id}?subtree_as_list`)).body.project;
    assert.deepEqual(sub.subtree.map((p: { project: { id: string } }) => p.project.id), [b.id]);
  });

  it('lets members read only their own project', async () => {
    const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
    const demoProject = await h.id.db.selectFrom('project').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow();
    assert.equal((await req('GET', `/v3/projects/${demoProject.id}`, undefined, demo)).status, 200);
    const p = await mkProject();
    assert.equal((await req('GET', `/v3/projects/${p.id}`, undefined, demo)).status, 403);
    assert.equal((await req('GET', '/v3/projects', undefined, demo)).status, 403);
    assert.equal((await req('POST', '/v3/projects', { project: { name: uniq('p') } }, demo)).status, 403);
    assert.equal((await req('DELETE', `/v3/projects/${p.id}`, undefined, demo)).status, 403);
  });
});

describe('project tags', () => {
  it('adds, checks, replaces, lists and deletes tags', async () => {
    const p = await mkProject();
    const add = await req('PUT', `/v3/projects/${p.id}/tags/alpha`);
    assert.equal(add.status, 201);
    assert.match(String(add.headers.location), new RegExp(`/v3/projects/${p.id}/tags/alpha$`));
    assert.equal((await req('GET', `/v3/projects/${p.id}/tags/alpha`)).status, 204);
    assert.equal((await req('HEAD', `/v3/projects/${p.id}/tags/alpha`)).status, 204);
    assert.equal((await req('GET', `/v3/projects/${p.id}/tags/beta`)).status, 404);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags/alpha`)).status, 400);
    const all = await req('PUT', `/v3/projects/${p.id}/tags`, { tags: ['x', 'y', 'z'] });
    assert.equal(all.status, 200);
    assert.deepEqual([...all.body.tags].sort(), ['x', 'y', 'z']);
    assert.match(all.body.links.self, /\/tags$/);
    assert.deepEqual([...(await req('GET', `/v3/projects/${p.id}/tags`)).body.tags].sort(), ['x', 'y', 'z']);
    assert.equal((await req('DELETE', `/v3/projects/${p.id}/tags/x`)).status, 204);
    assert.equal((await req('DELETE', `/v3/projects/${p.id}/tags/x`)).status, 404);
    assert.equal((await req('DELETE', `/v3/projects/${p.id}/tags`)).status, 204);
    assert.deepEqual((await req('GET', `/v3/projects/${p.id}/tags`)).body.tags, []);
  });

  it('validates tags as Keystone', async () => {
    const p = await mkProject();
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags/a,b`)).status, 400);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags/a%2Fb`)).status, 400);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags/${'t'.repeat(256)}`)).status, 400);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags`, { tags: Array.from({ length: 81 }, (_, i) => `t${i}`) })).status, 400);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags`, { tags: ['a', 'a'] })).status, 400);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags`, { tags: 'a' })).status, 400);
    assert.equal((await req('PUT', `/v3/projects/${p.id}/tags`, { tags: [1] })).status, 400);
    assert.equal((await req('GET', '/v3/projects/nope/tags')).status, 404);
  });
});

describe('users', () => {
  it('creates and shows users as Keystone renders them', async () => {
    const name = uniq('user');
    const r = await req('POST', '/v3/users', { user: { name, password: 'pw-1-secret', email: `${name}@example.com`, description: 'desc', project_id: 'p1', enabled: false } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const u = r.body.user;
    assert.equal(u.domain_id, 'default');
    assert.equal(u.enabled, false);
    assert.equal(u.email, `${name}@example.com`);
    assert.equal(u.description, 'desc');
    assert.equal(u.project_id, 'p1');
    assert.equal(u.password_expires_at, null);
    assert.deepEqual(u.options, {});
    assert.equal(u.password, undefined);
    assert.equal('default_project_id' in u, false);
    assert.match(u.links.self, new RegExp(`/v3/users/${u.id}$`));
    assert.deepEqual((await req('GET', `/v3/users/${u.id}`)).body.user, u);
    const hash = await h.id.db.selectFrom('user_password').select('hash').where('user_id', '=', u.id).executeTakeFirstOrThrow();
    assert.ok(await h.id.verifyPassword('pw-1-secret', hash.hash));
  });

  it('validates user bodies', async () => {
    const d = await mkDomain();
    assert.equal((await req('POST', '/v3/users', { user: { name: uniq('u'), domain_id: 'f'.repeat(32) } })).status, 404);
    assert.equal((await req('POST', '/v3/users', { user: { name: '' } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'a'.repeat(256) } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', enabled: 1 } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', password: 5 } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', options: { nope: true } } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', options: { lock_password: 'yes' } } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', options: { multi_factor_auth_rules: [['password', 'password']] } } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', default_project_id: d.id } })).status, 400);
    assert.equal((await req('POST', '/v3/users', { user: { name: 'x', federated: [{ idp_id: 'idp', protocols: [] }] } })).status, 400);
    assert.equal((await req('POST', '/v3/users', 'not json')).status, 400);
    const u = await mkUser({ options: { ignore_password_expiry: true, multi_factor_auth_rules: [['password', 'totp']] } });
    assert.deepEqual(u.options, { ignore_password_expiry: true, multi_factor_auth_rules: [['password', 'totp']] });
    assert.equal((await req('POST', '/v3/users', { user: { name: u.name } })).status, 409);
    const inOther = await mkUser({ name: u.name, domain_id: d.id });
    assert.equal(inOther.domain_id, d.id);
  });

  it('updates users, merging options and extra, and revokes on disable', async () => {
    const u = await mkUser({ password: 'first-secret', color: 'red', options: { lock_password: true } });
    const p = await mkProject();
    await grant('UserProject', u.id, p.id, 'member');
    const token = await h.tokenFor({ id: u.id }, 'first-secret', { projectId: p.id });
    assert.equal((await validate(token)).status, 200);
    const newName = uniq('renamed');
    const up = await req('PATCH', `/v3/users/${u.id}`, { user: { name: newName, email: 'n@example.com', default_project_id: p.id, enabled: false, options: { lock_password: null, ignore_lockout_failure_attempts: true } } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.user.name, newName);
    assert.equal(up.body.user.default_project_id, p.id);
    assert.equal(up.body.user.enabled, false);
    assert.equal(up.body.user.color, 'red');
    assert.deepEqual(up.body.user.options, { ignore_lockout_failure_attempts: true });
    assert.equal((await validate(token)).status, 404);
    assert.equal((await req('PATCH', `/v3/users/${u.id}`, { user: { domain_id: 'other' } })).status, 400);
    assert.equal((await req('PATCH', `/v3/users/${u.id}`, { user: { id: 'other' } })).status, 400);
    assert.equal((await req('PATCH', `/v3/users/${u.id}`, { user: {} })).status, 400);
    assert.equal((await req('PATCH', '/v3/users/nope', { user: { name: 'x' } })).status, 404);
  });

  it('resets passwords by admin without history checks', async () => {
    const u = await mkUser({ password: 'orig-secret' });
    assert.equal((await req('PATCH', `/v3/users/${u.id}`, { user: { password: 'second-secret' } })).status, 200);
    assert.equal((await req('PATCH', `/v3/users/${u.id}`, { user: { password: 'second-secret' } })).status, 200);
    await h.tokenFor({ id: u.id }, 'second-secret');
    await assert.rejects(h.tokenFor({ id: u.id }, 'orig-secret'));
  });

  it('lists users with filters', async () => {
    const d = await mkDomain();
    const a = await mkUser({ domain_id: d.id });
    const b = await mkUser({ domain_id: d.id, enabled: false });
    const ids = async (q: string) => (await req('GET', `/v3/users?${q}`)).body.users.map((x: { id: string }) => x.id).sort();
    assert.deepEqual(await ids(`domain_id=${d.id}`), [a.id, b.id].sort());
    assert.deepEqual(await ids(`domain_id=${d.id}&enabled=false`), [b.id]);
    assert.deepEqual(await ids(`name=${a.name}`), [a.id]);
    assert.deepEqual(await ids(`domain_id=${d.id}&name__contains=${a.name.slice(-6)}`), [a.id]);
    assert.deepEqual(await ids('idp_id=x'), []);
    assert.equal((await req('GET', '/v3/users?password_expires_at=bogus:2020-01-01T00:00:00Z')).status, 400);
    assert.equal((await req('GET', '/v3/users?password_expires_at=lt:notatime')).status, 400);
    assert.deepEqual(await ids(`domain_id=${d.id}&password_expires_at=lt:2999-01-01T00:00:00Z`), []);
    const listed = (await req('GET', `/v3/users?domain_id=${d.id}`)).body;
    assert.match(listed.links.self, /\/v3\/users\?domain_id=/);
    const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
    assert.equal((await req('GET', '/v3/users', undefined, demo)).status, 403);
  });

  it('applies password expiry and first-use rules from the configuration', async () => {
    const h2 = await startIdentity({ overrides: { identity: { password_expires_days: 10, change_password_upon_first_use: true, password_regex: '^(?=.*\\d).{8,}$', password_regex_description: 'at least 8 characters and a digit' } } });
    try {
      const tok = await h2.adminToken();
      const weak = await h2.request('POST', '/v3/users', { token: tok, body: { user: { name: 'weak', password: 'short' } } });
      assert.equal(weak.status, 400);
      assert.match(weak.body.error.message, /does not match the requirements: at least 8 characters and a digit/);
      const r = await h2.request('POST', '/v3/users', { token: tok, body: { user: { name: 'first', password: 'abcdefg1' } } });
      assert.equal(r.status, 201);
      const exp = Date.parse(`${r.body.user.password_expires_at}Z`);
      assert.ok(Math.abs(exp - Date.now()) < 60_000, 'first-use password expires now');
      const ignore = await h2.request('POST', '/v3/users', { token: tok, body: { user: { name: 'svc', password: 'abcdefg1', options: { ignore_change_password_upon_first_use: true } } } });
      const exp2 = Date.parse(`${ignore.body.user.password_expires_at}Z`);
      assert.ok(Math.abs(exp2 - (Date.now() + 10 * 86_400_000)) < 60_000, 'expires after password_expires_days');
      const later = await h2.request('GET', `/v3/users?password_expires_at=gt:${new Date(Date.now() + 86_400_000).toISOString()}`, { token: tok });
      assert.deepEqual(later.body.users.map((u: { name: string }) => u.name), ['svc']);
      const change = await h2.request('POST', `/v3/users/${r.body.user.id}/password`, { body: { user: { original_password: 'abcdefg1', password: 'abcdefg2' } } });
      assert.equal(change.status, 204, JSON.stringify(change.body));
      const after = await h2.request('GET', `/v3/users/${r.body.user.id}`, { token: tok });
      assert.ok(Date.parse(`${after.body.user.password_expires_at}Z`) > Date.now() + 9 * 86_400_000);
    } finally {
      await h2.close();
    }
  });

  it('deletes users with their memberships, assignments and credentials', async () => {
    const u = await mkUser({ password: 'del-secret' });
    const g = await mkGroup();
    const p = await mkProject();
    assert.equal((await req('PUT', `/v3/groups/${g.id}/users/${u.id}`)).status, 204);
    await grant('UserProject', u.id, p.id, 'member');
    await h.id.db.insertInto('credential').values({ id: uniq('cred'), user_id: u.id, project_id: null, type: 'cert', blob: 'x', key_hash: null, extra: '{}' }).execute();
    const token = await h.tokenFor({ id: u.id }, 'del-secret', { projectId: p.id });
    assert.equal((await req('DELETE', `/v3/users/${u.id}`)).status, 204);
    assert.equal((await req('GET', `/v3/users/${u.id}`)).status, 404);
    assert.equal((await req('DELETE', `/v3/users/${u.id}`)).status, 404);
    assert.equal((await validate(token)).status, 404);
    for (const table of ['group_membership', 'credential', 'user_password'] as const) {
      assert.equal((await h.id.db.selectFrom(table).selectAll().where('user_id', '=', u.id).execute()).length, 0, table);
    }
    assert.equal((await h.id.db.selectFrom('assignment').selectAll().where('actor_id', '=', u.id).execute()).length, 0);
  });

  it('lets users read themselves but not others', async () => {
    const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
    const me = await h.id.db.selectFrom('user_account').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow();
    assert.equal((await req('GET', `/v3/users/${me.id}`, undefined, demo)).status, 200);
    const other = await mkUser();
    assert.equal((await req('GET', `/v3/users/${other.id}`, undefined, demo)).status, 403);
    assert.equal((await req('PATCH', `/v3/users/${me.id}`, { user: { name: 'x' } }, demo)).status, 403);
    assert.equal((await req('GET', `/v3/users/${me.id}/projects`, undefined, demo)).status, 200);
    assert.equal((await req('GET', `/v3/users/${other.id}/projects`, undefined, demo)).status, 403);
    assert.equal((await req('GET', `/v3/users/${me.id}/groups`, undefined, demo)).status, 200);
  });
});

describe('self-service password change', () => {
  it('changes the password, revokes tokens and enforces history', async () => {
    const u = await mkUser({ password: 'pass-one-1' });
    const token = await h.tokenFor({ id: u.id }, 'pass-one-1');
    const change = (original: string, password: string, extra: Record<string, unknown> = {}) =>
      h.request('POST', `/v3/users/${u.id}/password`, { body: { user: { original_password: original, password, ...extra } } });
    const wrong = await change('not-it', 'pass-two-2');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error.message, /Error when changing user password/);
    assert.equal((await change('pass-one-1', 'pass-two-2', { name: 'x' })).status, 400);
    assert.equal((await h.request('POST', `/v3/users/${u.id}/password`, { body: { user: { password: 'x' } } })).status, 400);
    assert.equal((await change('pass-one-1', 'pass-two-2')).status, 204);
    assert.equal((await validate(token)).status, 404);
    await sleep(1100);
    await h.tokenFor({ id: u.id }, 'pass-two-2');
    await assert.rejects(h.tokenFor({ id: u.id }, 'pass-one-1'));
    // unique_last_password_count defaults to 2: the current and previous passwords are refused.
    const same = await change('pass-two-2', 'pass-two-2');
    assert.equal(same.status, 400);
    assert.match(same.body.error.message, /cannot be identical to a previous password/);
    assert.equal((await change('pass-two-2', 'pass-one-1')).status, 400);
    assert.equal((await change('pass-two-2', 'pass-three-3')).status, 204);
    assert.equal((await change('pass-three-3', 'pass-one-1')).status, 204);
    assert.equal((await h.request('GET', `/v3/users/${u.id}/password`, { token: admin })).status, 405);
    assert.equal((await change('x', 'y').then(() => h.request('POST', '/v3/users/nope/password', { body: { user: { original_password: 'a', password: 'b' } } }))).status, 401);
  });

  it('refuses self-service changes when lock_password is set', async () => {
    const u = await mkUser({ password: 'locked-pw-1', options: { lock_password: true } });
    const r = await h.request('POST', `/v3/users/${u.id}/password`, { body: { user: { original_password: 'locked-pw-1', password: 'other-pw-2' } } });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /password policy disallowing password changes/);
  });

  it('refuses a disabled user', async () => {
    const u = await mkUser({ password: 'dis-pw-1', enabled: false });
    const r = await h.request('POST', `/v3/users/${u.id}/password`, { body: { user: { original_password: 'dis-pw-1', password: 'other-pw-2' } } });
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /disabled/);
  });
});

describe('groups', () => {
  it('creates, updates, shows and lists groups', async () => {
    const d = await mkDomain();
    const g = await mkGroup({ domain_id: d.id, description: 'first', tier: 'gold' });
    assert.equal(g.domain_id, d.id);
    assert.equal(g.tier, 'gold');
    const up = await req('PATCH', `/v3/groups/${g.id}`, { group: { name: uniq('g2'), description: 'second' } });
    assert.equal(up.status, 200);
    const one = await req('PATCH', `/v3/groups/${g.id}`, { group: { name: uniq('g3') } });
    assert.equal(one.body.group.description, 'second');
    assert.equal(one.body.group.domain_id, d.id);
    assert.deepEqual((await req('GET', `/v3/groups/${g.id}`)).body.group, one.body.group);
    const listed = (await req('GET', `/v3/groups?domain_id=${d.id}`)).body.groups;
    assert.deepEqual(listed, [one.body.group]);
    assert.equal((await req('POST', '/v3/groups', { group: { name: one.body.group.name, domain_id: d.id } })).status, 409);
    assert.equal((await req('POST', '/v3/groups', { group: { name: 'x', domain_id: 'f'.repeat(32) } })).status, 404);
    assert.equal((await req('POST', '/v3/groups', { group: { name: '' } })).status, 400);
    assert.equal((await req('PATCH', `/v3/groups/${g.id}`, { group: { domain_id: 'default' } })).status, 400);
    assert.equal((await mkGroup()).description, '');
    assert.equal((await req('DELETE', `/v3/groups/${g.id}`)).status, 204);
    assert.equal((await req('DELETE', `/v3/groups/${g.id}`)).status, 404);
  });

  it('manages membership and revokes on removal', async () => {
    const g = await mkGroup();
    const users = [await mkUser({ password: 'member-pw-1' }), await mkUser(), await mkUser()];
    for (const u of users) {
      assert.equal((await req('PUT', `/v3/groups/${g.id}/users/${u.id}`)).status, 204);
      assert.equal((await req('PUT', `/v3/groups/${g.id}/users/${u.id}`)).status, 204);
    }
    const members = (await req('GET', `/v3/groups/${g.id}/users`)).body.users;
    const byName = (a: Record<string, any>, b: Record<string, any>) => String(a.name).localeCompare(String(b.name));
    assert.deepEqual([...members].sort(byName), [...users].sort(byName));
    const groups = (await req('GET', `/v3/users/${users[0].id}/groups`)).body.groups;
    assert.deepEqual(groups.map((x: { id: string; membership_expires_at: null }) => [x.id, x.membership_expires_at]), [[g.id, null]]);
    const token = await h.tokenFor({ id: users[0].id }, 'member-pw-1');
    assert.equal((await req('GET', `/v3/groups/${g.id}/users/${users[0].id}`)).status, 204);
    assert.equal((await req('HEAD', `/v3/groups/${g.id}/users/${users[0].id}`)).status, 204);
    assert.equal((await req('DELETE', `/v3/groups/${g.id}/users/${users[0].id}`)).status, 204);
    assert.equal((await validate(token)).status, 404);
    assert.equal((await req('GET', `/v3/groups/${g.id}/users/${users[0].id}`)).status, 404);
    assert.equal((await req('DELETE', `/v3/groups/${g.id}/users/${users[0].id}`)).status, 404);
    assert.equal((await req('PUT', `/v3/groups/${g.id}/users/nope`)).status, 404);
    assert.equal((await req('PUT', `/v3/groups/nope/users/${users[1].id}`)).status, 404);
    assert.equal((await req('GET', '/v3/groups/nope/users')).status, 404);
    const other = await mkDomain();
    const foreign = await mkUser({ domain_id: other.id });
    assert.equal((await req('PUT', `/v3/groups/${g.id}/users/${foreign.id}`)).status, 204);
  });
});

describe('projects of a user', () => {
  it('includes direct, group and inherited assignments', async () => {
    const d = await mkDomain();
    const u = await mkUser({ domain_id: d.id });
    const g = await mkGroup({ domain_id: d.id });
    await req('PUT', `/v3/groups/${g.id}/users/${u.id}`);
    const direct = await mkProject({ domain_id: d.id });
    const viaGroup = await mkProject({ domain_id: d.id });
    const parent = await mkProject({ domain_id: d.id });
    const child = await mkProject({ domain_id: d.id, parent_id: parent.id });
    const d2 = await mkDomain();
    const inD2 = await mkProject({ domain_id: d2.id });
    await mkProject({ domain_id: d.id });
    await grant('UserProject', u.id, direct.id, 'reader');
    await grant('GroupProject', g.id, viaGroup.id, 'member');
    await grant('UserProject', u.id, parent.id, 'member', true);
    await grant('GroupDomain', g.id, d2.id, 'member', true);
    const ids = (await req('GET', `/v3/users/${u.id}/projects`)).body.projects.map((p: { id: string }) => p.id).sort();
    assert.deepEqual(ids, [direct.id, viaGroup.id, child.id, inD2.id].sort());
    const filtered = (await req('GET', `/v3/users/${u.id}/projects?domain_id=${d2.id}`)).body.projects;
    assert.deepEqual(filtered.map((p: { id: string }) => p.id), [inD2.id]);
    assert.match(filtered[0].links.self, new RegExp(`/v3/projects/${inD2.id}$`));
  });
});
