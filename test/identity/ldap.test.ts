// LDAP-backed identity domains against a real OpenLDAP slapd started on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack } from '../lib/openstack-cli.js';
import { startSlapd, type Slapd } from '../lib/slapd.js';

let h: IdentityHarness;
let slapd: Slapd;
let admin: string;
let domainId: string;
let projectId: string;
let memberRoleId: string;
let readerRoleId: string;
const ids: Record<string, string> = {};

const call = (method: string, path: string, body?: unknown, token = admin) => h.request(method, path, { token, body });
/** Keystone's sha256 public id: hex SHA-256 of domain_id + entity_type + local_id. */
const keystoneId = (type: string, localId: string) => createHash('sha256').update(domainId + type + localId).digest('hex');
const names = (list: { name: string }[]) => list.map((x) => x.name).sort();

async function passwordToken(user: Record<string, unknown>, password: string, scope?: unknown) {
  const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user: { ...user, password } } } };
  if (scope) auth.scope = scope;
  return h.request('POST', '/v3/auth/tokens', { body: { auth } });
}

before(async () => {
  slapd = await startSlapd({
    users: [
      { cn: 'alice', sn: 'alice', password: 'alice-secret', mail: 'alice@nephos.test', description: 'Alice from LDAP' },
      { cn: 'bob', sn: 'bob', password: 'bob-secret' },
      { cn: 'carol', sn: 'carol', password: 'carol-secret', attributes: { employeeType: 'TRUE' } },
      // Disabled through the configured enabled attribute (Keystone's user_enabled_attribute).
      { cn: 'dave', sn: 'dave', password: 'dave-secret', attributes: { employeeType: 'FALSE' } },
    ],
    groups: [
      { cn: 'devs', description: 'Developers', members: ['alice', 'carol'] },
      { cn: 'ops', members: ['bob'] },
    ],
  });
  h = await startIdentity();
  admin = await h.adminToken();
  const d = await call('POST', '/v3/domains', { domain: { name: 'ldapdom', description: 'backed by LDAP' } });
  assert.equal(d.status, 201);
  domainId = d.body.domain.id;
  const cfg = await call('PUT', `/v3/domains/${domainId}/config`, {
    config: {
      identity: { driver: 'ldap' },
      ldap: {
        url: slapd.url, user: slapd.serviceDn, password: slapd.servicePassword, suffix: slapd.suffix,
        user_tree_dn: slapd.usersDn, group_tree_dn: slapd.groupsDn, group_name_attribute: 'cn', use_tls: false,
        user_enabled_attribute: 'employeeType', page_size: 2,
      },
    },
  });
  assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
  const p = await call('POST', '/v3/projects', { project: { name: 'ldap-proj', domain_id: domainId } });
  assert.equal(p.status, 201);
  projectId = p.body.project.id;
  const roles = (await call('GET', '/v3/roles')).body.roles as { id: string; name: string }[];
  memberRoleId = roles.find((r) => r.name === 'member')!.id;
  readerRoleId = roles.find((r) => r.name === 'reader')!.id;
}, { timeout: 60_000 });

after(async () => {
  await h?.close();
  await slapd?.stop();
});

test('directory users and groups are listed with Keystone public ids', { timeout: 30_000 }, async () => {
  const users = await call('GET', `/v3/users?domain_id=${domainId}`);
  assert.equal(users.status, 200);
  assert.deepEqual(names(users.body.users), ['alice', 'bob', 'carol', 'dave']);
  for (const u of users.body.users) {
    ids[u.name] = u.id;
    assert.equal(u.id, keystoneId('user', u.name));
    assert.equal(u.domain_id, domainId);
    assert.equal(u.enabled, u.name !== 'dave', u.name);
    assert.equal(u.password_expires_at, null);
    assert.match(u.links.self, new RegExp(`/v3/users/${u.id}$`));
  }
  const alice = await call('GET', `/v3/users/${ids.alice}`);
  assert.equal(alice.status, 200);
  assert.equal(alice.body.user.name, 'alice');
  assert.equal(alice.body.user.email, 'alice@nephos.test');
  assert.equal(alice.body.user.description, 'Alice from LDAP');
  assert.ok(!('password' in alice.body.user));
  // The mapping rows are Keystone's id_mapping.
  const row = await h.id.db.selectFrom('id_mapping').selectAll().where('public_id', '=', ids.alice).executeTakeFirstOrThrow();
  assert.deepEqual([row.domain_id, row.local_id, row.entity_type], [domainId, 'alice', 'user']);
  // Filters, and no directory users in the SQL default listing.
  assert.deepEqual(names((await call('GET', `/v3/users?domain_id=${domainId}&name=bob`)).body.users), ['bob']);
  assert.deepEqual(names((await call('GET', `/v3/users?domain_id=${domainId}&name__startswith=ca`)).body.users), ['carol']);
  assert.deepEqual(names((await call('GET', `/v3/users?domain_id=${domainId}&enabled=false`)).body.users), ['dave']);
  assert.ok(!(await call('GET', '/v3/users')).body.users.some((u: { id: string }) => u.id === ids.alice));
  assert.equal((await call('GET', `/v3/users/${'0'.repeat(64)}`)).status, 404);

  const groups = await call('GET', `/v3/groups?domain_id=${domainId}`);
  assert.equal(groups.status, 200);
  assert.deepEqual(names(groups.body.groups), ['devs', 'ops']);
  for (const g of groups.body.groups) {
    ids[`group:${g.name}`] = g.id;
    assert.equal(g.id, keystoneId('group', g.name));
  }
  const devs = ids['group:devs'];
  assert.equal((await call('GET', `/v3/groups/${devs}`)).body.group.description, 'Developers');
  assert.deepEqual(names((await call('GET', `/v3/groups/${devs}/users`)).body.users), ['alice', 'carol']);
  assert.deepEqual(names((await call('GET', `/v3/users/${ids.alice}/groups`)).body.groups), ['devs']);
  assert.deepEqual(names((await call('GET', `/v3/users/${ids.bob}/groups`)).body.groups), ['ops']);
  assert.equal((await call('HEAD', `/v3/groups/${devs}/users/${ids.alice}`)).status, 204);
  assert.equal((await call('HEAD', `/v3/groups/${devs}/users/${ids.bob}`)).status, 404);
});

test('an LDAP user gets a token by name or id; wrong, empty or unknown passwords are 401', { timeout: 30_000 }, async () => {
  const byName = await passwordToken({ name: 'alice', domain: { name: 'ldapdom' } }, 'alice-secret');
  assert.equal(byName.status, 201, JSON.stringify(byName.body));
  assert.equal(byName.body.token.user.id, ids.alice);
  assert.equal(byName.body.token.user.name, 'alice');
  assert.deepEqual(byName.body.token.user.domain, { id: domainId, name: 'ldapdom' });
  const token = String(byName.headers['x-subject-token']);
  const validated = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } });
  assert.equal(validated.status, 200);
  assert.equal(validated.body.token.user.id, ids.alice);
  // The LDAP user's own token passes policy on its own user record.
  assert.equal((await call('GET', `/v3/users/${ids.alice}`, undefined, token)).status, 200);

  const byId = await passwordToken({ id: ids.bob }, 'bob-secret');
  assert.equal(byId.status, 201);
  assert.equal(byId.body.token.user.name, 'bob');

  assert.equal((await passwordToken({ name: 'alice', domain: { name: 'ldapdom' } }, 'wrong')).status, 401);
  assert.equal((await passwordToken({ id: ids.alice }, 'bob-secret')).status, 401);
  // An empty password would be an anonymous bind, which LDAP accepts: it must never authenticate.
  assert.equal((await passwordToken({ name: 'alice', domain: { name: 'ldapdom' } }, '')).status, 401);
  assert.equal((await passwordToken({ name: 'nobody', domain: { name: 'ldapdom' } }, 'x')).status, 401);
  // A disabled directory user cannot get a token even with the right password.
  assert.equal((await passwordToken({ name: 'dave', domain: { name: 'ldapdom' } }, 'dave-secret')).status, 401);
  // A directory user is not a user of the SQL Default domain.
  assert.equal((await passwordToken({ name: 'alice', domain: { id: 'default' } }, 'alice-secret')).status, 401);
});

test('a Default (SQL) user with a role on a project of the LDAP domain authenticates into it', { timeout: 90_000 }, async () => {
  const u = await call('POST', '/v3/users', { user: { name: 'sql-in-ldap', domain_id: 'default', password: 'sql-secret-1' } });
  assert.equal(u.status, 201);
  assert.equal((await call('PUT', `/v3/projects/${projectId}/users/${u.body.user.id}/roles/${memberRoleId}`)).status, 204);
  const scope = { project: { name: 'ldap-proj', domain: { name: 'ldapdom' } } };
  const t = await passwordToken({ name: 'sql-in-ldap', domain: { name: 'Default' } }, 'sql-secret-1', scope);
  assert.equal(t.status, 201, JSON.stringify(t.body));
  assert.equal(t.body.token.project.id, projectId);
  assert.deepEqual(t.body.token.project.domain, { id: domainId, name: 'ldapdom' });
  assert.ok(t.body.token.roles.some((r: { name: string }) => r.name === 'member'));

  // The same with Debian's openstack CLI (OS_USER_DOMAIN_NAME=Default, OS_PROJECT_DOMAIN_NAME=ldapdom).
  const cli = await openstack({ authUrl: `${h.url}/v3`, username: 'sql-in-ldap', password: 'sql-secret-1', userDomain: 'Default', projectName: 'ldap-proj', projectDomain: 'ldapdom' },
    'token', 'issue', '-f', 'json');
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.json.project_id, projectId);
  assert.equal(cli.json.user_id, u.body.user.id);
});

test('roles granted to an LDAP group reach its members\' tokens; direct grants to LDAP users work', { timeout: 90_000 }, async () => {
  const devs = ids['group:devs'];
  const scope = { project: { id: projectId } };
  assert.equal((await passwordToken({ id: ids.alice }, 'alice-secret', scope)).status, 401, 'no role yet');
  assert.equal((await call('PUT', `/v3/projects/${projectId}/groups/${devs}/roles/${memberRoleId}`)).status, 204);
  const alice = await passwordToken({ name: 'alice', domain: { name: 'ldapdom' } }, 'alice-secret', scope);
  assert.equal(alice.status, 201, JSON.stringify(alice.body));
  assert.deepEqual(alice.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
  // bob is not in devs.
  assert.equal((await passwordToken({ id: ids.bob }, 'bob-secret', scope)).status, 401);

  const eff = await call('GET', `/v3/role_assignments?effective&user.id=${ids.alice}`);
  assert.equal(eff.status, 200);
  assert.ok(eff.body.role_assignments.some((a: any) => a.scope.project?.id === projectId && a.role.id === memberRoleId
    && a.links.membership?.includes(devs)), JSON.stringify(eff.body));
  const named = await call('GET', `/v3/role_assignments?group.id=${devs}&include_names`);
  assert.equal(named.body.role_assignments[0].group.name, 'devs');
  assert.equal(named.body.role_assignments[0].group.domain.name, 'ldapdom');
  const projects = await call('GET', `/v3/users/${ids.alice}/projects`);
  assert.deepEqual(projects.body.projects.map((p: { id: string }) => p.id), [projectId]);

  // An LDAP user gets a token through Debian's openstack CLI.
  const cli = await openstack({ authUrl: `${h.url}/v3`, username: 'alice', password: 'alice-secret', userDomain: 'ldapdom', projectName: 'ldap-proj', projectDomain: 'ldapdom' },
    'token', 'issue', '-f', 'json');
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.json.user_id, ids.alice);
  assert.equal(cli.json.project_id, projectId);

  // A direct grant to an LDAP user.
  assert.equal((await call('PUT', `/v3/projects/${projectId}/users/${ids.bob}/roles/${readerRoleId}`)).status, 204);
  const bob = await passwordToken({ id: ids.bob }, 'bob-secret', scope);
  assert.equal(bob.status, 201);
  assert.deepEqual(bob.body.token.roles.map((r: { name: string }) => r.name), ['reader']);
});

test('writes to the LDAP domain are refused as Keystone refuses them on a read-only backend', { timeout: 30_000 }, async () => {
  const readOnly = (r: { status: number; body: any }, what: string) => {
    assert.equal(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.message, 'LDAP does not support write operations', what);
  };
  readOnly(await call('POST', '/v3/users', { user: { name: 'erin', domain_id: domainId, password: 'erin-secret' } }), 'create user');
  readOnly(await call('PATCH', `/v3/users/${ids.alice}`, { user: { description: 'x' } }), 'update user');
  readOnly(await call('DELETE', `/v3/users/${ids.alice}`), 'delete user');
  readOnly(await call('POST', '/v3/groups', { group: { name: 'g', domain_id: domainId } }), 'create group');
  readOnly(await call('PATCH', `/v3/groups/${ids['group:ops']}`, { group: { description: 'x' } }), 'update group');
  readOnly(await call('DELETE', `/v3/groups/${ids['group:ops']}`), 'delete group');
  readOnly(await call('PUT', `/v3/groups/${ids['group:ops']}/users/${ids.alice}`), 'add member');
  readOnly(await call('DELETE', `/v3/groups/${ids['group:ops']}/users/${ids.bob}`), 'remove member');
  const sqlUser = (await call('GET', '/v3/users?name=admin')).body.users[0].id;
  const cross = await call('PUT', `/v3/groups/${ids['group:ops']}/users/${sqlUser}`);
  assert.equal(cross.status, 403);
  assert.match(cross.body.error.message, /across backend boundaries/);
  const pw = (original: string) => h.request('POST', `/v3/users/${ids.carol}/password`, { body: { user: { original_password: original, password: 'new-secret' } } });
  assert.equal((await pw('wrong')).status, 401);
  readOnly(await pw('carol-secret'), 'change password');
  assert.equal((await passwordToken({ id: ids.carol }, 'carol-secret')).status, 201, 'password unchanged');
  assert.deepEqual(names((await call('GET', `/v3/users?domain_id=${domainId}`)).body.users), ['alice', 'bob', 'carol', 'dave']);
});

test('a second domain on the same directory: its own public ids, user_filter applies, deletion drops its mappings', { timeout: 30_000 }, async () => {
  const d = await call('POST', '/v3/domains', { domain: { name: 'ldapdom2' } });
  assert.equal(d.status, 201);
  const other = d.body.domain.id;
  const cfg = await call('PUT', `/v3/domains/${other}/config`, {
    config: {
      identity: { driver: 'ldap' },
      ldap: { url: slapd.url, user: slapd.serviceDn, password: slapd.servicePassword, suffix: slapd.suffix, user_filter: '(mail=*)' },
    },
  });
  assert.equal(cfg.status, 201);
  const users = (await call('GET', `/v3/users?domain_id=${other}`)).body.users;
  assert.deepEqual(names(users), ['alice']);
  assert.notEqual(users[0].id, ids.alice);
  assert.equal(users[0].id, createHash('sha256').update(`${other}useralice`).digest('hex'));
  // Keystone's default group tree (ou=UserGroups) does not exist in this directory.
  assert.deepEqual((await call('GET', `/v3/groups?domain_id=${other}`)).body.groups, []);
  assert.equal((await passwordToken({ name: 'alice', domain: { name: 'ldapdom2' } }, 'alice-secret')).status, 201);
  assert.equal((await passwordToken({ name: 'bob', domain: { name: 'ldapdom2' } }, 'bob-secret')).status, 401, 'filtered out');

  assert.equal((await call('PATCH', `/v3/domains/${other}`, { domain: { enabled: false } })).status, 200);
  assert.equal((await call('DELETE', `/v3/domains/${other}`)).status, 204);
  const left = await h.id.db.selectFrom('id_mapping').select('public_id').where('domain_id', '=', other).execute();
  assert.deepEqual(left, []);
  assert.equal((await call('GET', `/v3/users/${users[0].id}`)).status, 404);
});

test('token validation of LDAP users is served from cache, not the directory', { timeout: 30_000 }, async () => {
  const t = await passwordToken({ id: ids.alice }, 'alice-secret', { project: { id: projectId } });
  assert.equal(t.status, 201);
  const token = String(t.headers['x-subject-token']);
  await slapd.stop();
  // Force a rebuild of the token's context (the write generation changes), with the directory gone.
  h.id.changed();
  const v = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  assert.deepEqual(v.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
  // A password cannot be checked without the directory.
  assert.equal((await passwordToken({ id: ids.alice }, 'alice-secret')).status, 401);
});
