// End to end: Debian's unmodified `openstack` CLI against the identity service. The same suite
// runs on SQLite (identity-cli.test.ts), PostgreSQL and MariaDB (identity-cli-*.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);

/** Defines the suite; `database` gives a database URL (and a cleanup) or undefined for SQLite. */
export function identityCliSuite(database?: () => Promise<{ url: string; drop(): Promise<void> }>): void {
let h: IdentityHarness;
let admin: CliAuth;
let db: { url: string; drop(): Promise<void> } | undefined;

before(async () => {
  db = database ? await database() : undefined;
  h = await startIdentity({ databaseUrl: db?.url });
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
});
after(async () => { await h?.close(); await db?.drop(); });

test('token issue, validate through the API, revoke', async () => {
  const r = await openstack(admin, 'token', 'issue', '-f', 'json');
  ok(r, 'token issue');
  assert.match(r.json.id, /^gAAAAA/);
  assert.equal(r.json.project_id, (await h.request('GET', '/v3/auth/tokens', { token: r.json.id, headers: { 'x-subject-token': r.json.id } })).body.token.project.id);
  ok(await openstack(admin, 'token', 'revoke', r.json.id), 'token revoke');
  const after = await h.request('GET', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': r.json.id } });
  assert.equal(after.status, 404);
});

test('catalog list and endpoint list show the identity service in RegionOne', async () => {
  const cat = await openstack(admin, 'catalog', 'list', '-f', 'json');
  ok(cat, 'catalog list');
  const identity = cat.json.find((s: any) => s.Type === 'identity');
  assert.ok(identity, 'identity in catalog');
  const eps = await openstack(admin, 'endpoint', 'list', '-f', 'json');
  ok(eps, 'endpoint list');
  const mine = eps.json.filter((e: any) => e['Service Type'] === 'identity');
  assert.deepEqual(mine.map((e: any) => e.Interface).sort(), ['admin', 'internal', 'public']);
  assert.ok(mine.every((e: any) => e.Region === 'RegionOne' && e.URL === `${h.url}/v3`));
});

test('domain, project, user, group and role lifecycle', async () => {
  ok(await openstack(admin, 'domain', 'create', '--description', 'e2e', 'e2e-dom'), 'domain create');
  const proj = await openstack(admin, 'project', 'create', '--domain', 'e2e-dom', '--description', 'p', 'e2e-proj', '-f', 'json');
  ok(proj, 'project create');
  assert.equal(proj.json.name, 'e2e-proj');
  const user = await openstack(admin, 'user', 'create', '--domain', 'e2e-dom', '--password', 'pw-e2e-1', '--email', 'u@example.org', 'e2e-user', '-f', 'json');
  ok(user, 'user create');
  const group = await openstack(admin, 'group', 'create', '--domain', 'e2e-dom', 'e2e-group', '-f', 'json');
  ok(group, 'group create');
  ok(await openstack(admin, 'group', 'add', 'user', '--group-domain', 'e2e-dom', '--user-domain', 'e2e-dom', 'e2e-group', 'e2e-user'), 'group add user');
  const role = await openstack(admin, 'role', 'create', 'e2e-role', '-f', 'json');
  ok(role, 'role create');
  ok(await openstack(admin, 'role', 'add', '--project', 'e2e-proj', '--project-domain', 'e2e-dom', '--user', 'e2e-user', '--user-domain', 'e2e-dom', 'e2e-role'), 'role add');

  const users = await openstack(admin, 'user', 'list', '--domain', 'e2e-dom', '-f', 'json');
  ok(users, 'user list');
  assert.deepEqual(users.json.map((u: any) => u.Name), ['e2e-user']);
  const shown = await openstack(admin, 'project', 'show', '--domain', 'e2e-dom', 'e2e-proj', '-f', 'json');
  ok(shown, 'project show');
  assert.equal(shown.json.description, 'p');
  ok(await openstack(admin, 'project', 'set', '--domain', 'e2e-dom', '--description', 'changed', 'e2e-proj'), 'project set');
  assert.equal((await openstack(admin, 'project', 'show', '--domain', 'e2e-dom', 'e2e-proj', '-f', 'json')).json.description, 'changed');
  ok(await openstack(admin, 'user', 'set', '--domain', 'e2e-dom', '--email', 'v@example.org', 'e2e-user'), 'user set');

  // The new user authenticates in its own domain, scoped to the project it has a role on.
  const me = await openstack({ authUrl: admin.authUrl, username: 'e2e-user', password: 'pw-e2e-1', userDomain: 'e2e-dom', projectName: 'e2e-proj', projectDomain: 'e2e-dom' }, 'token', 'issue', '-f', 'json');
  ok(me, 'token issue as the new user');

  const assignments = await openstack(admin, 'role', 'assignment', 'list', '--names', '--effective', '--user', 'e2e-user', '--user-domain', 'e2e-dom', '-f', 'json');
  ok(assignments, 'role assignment list');
  assert.deepEqual(assignments.json.map((a: any) => [a.Role, a.User, a.Project]), [['e2e-role', 'e2e-user@e2e-dom', 'e2e-proj@e2e-dom']]);

  ok(await openstack(admin, 'role', 'remove', '--project', 'e2e-proj', '--project-domain', 'e2e-dom', '--user', 'e2e-user', '--user-domain', 'e2e-dom', 'e2e-role'), 'role remove');
  const none = await openstack(admin, 'role', 'assignment', 'list', '--user', 'e2e-user', '--user-domain', 'e2e-dom', '-f', 'json');
  assert.deepEqual(none.json, []);
  // Its token lost its only role: it fails validation at once.
  const check = await h.request('GET', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': me.json.id } });
  assert.equal(check.status, 404);

  ok(await openstack(admin, 'group', 'delete', '--domain', 'e2e-dom', 'e2e-group'), 'group delete');
  ok(await openstack(admin, 'user', 'delete', '--domain', 'e2e-dom', 'e2e-user'), 'user delete');
  ok(await openstack(admin, 'project', 'delete', '--domain', 'e2e-dom', 'e2e-proj'), 'project delete');
  ok(await openstack(admin, 'role', 'delete', 'e2e-role'), 'role delete');
  ok(await openstack(admin, 'domain', 'set', '--disable', 'e2e-dom'), 'domain disable');
  ok(await openstack(admin, 'domain', 'delete', 'e2e-dom'), 'domain delete');
  const domains = await openstack(admin, 'domain', 'list', '-f', 'json');
  assert.ok(!domains.json.some((d: any) => d.Name === 'e2e-dom'));
});

test('cross-domain role: a Default-domain user gets a role on a project of another domain', async () => {
  ok(await openstack(admin, 'domain', 'create', 'xdom'), 'domain create');
  ok(await openstack(admin, 'project', 'create', '--domain', 'xdom', 'xproj'), 'project create');
  ok(await openstack(admin, 'user', 'create', '--domain', 'default', '--password', 'x-pass-1', 'xuser'), 'user create');
  ok(await openstack(admin, 'role', 'add', '--project', 'xproj', '--project-domain', 'xdom', '--user', 'xuser', '--user-domain', 'default', 'member'), 'role add');
  const t = await openstack({ authUrl: admin.authUrl, username: 'xuser', password: 'x-pass-1', userDomain: 'Default', projectName: 'xproj', projectDomain: 'xdom' }, 'token', 'issue', '-f', 'json');
  ok(t, 'token issue across domains');
  const body = (await h.request('GET', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': t.json.id } })).body;
  assert.equal(body.token.project.domain.name, 'xdom');
  assert.deepEqual(body.token.roles.map((r: any) => r.name).sort(), ['member', 'reader']);
});

test('implied roles', async () => {
  ok(await openstack(admin, 'role', 'create', 'imp-a'), 'role create');
  ok(await openstack(admin, 'role', 'create', 'imp-b'), 'role create');
  ok(await openstack(admin, 'implied', 'role', 'create', '--implied-role', 'imp-b', 'imp-a'), 'implied role create');
  const list = await openstack(admin, 'implied', 'role', 'list', '-f', 'json');
  ok(list, 'implied role list');
  assert.ok(list.json.some((r: any) => r['Prior Role Name'] === 'imp-a' && r['Implied Role Name'] === 'imp-b'));
  ok(await openstack(admin, 'implied', 'role', 'delete', '--implied-role', 'imp-b', 'imp-a'), 'implied role delete');
});

test('application credential: create (with implied roles) and authenticate with it', async () => {
  const ac = await openstack(admin, 'application', 'credential', 'create', 'e2e-ac', '-f', 'json');
  ok(ac, 'application credential create');
  assert.ok(ac.json.secret && ac.json.id);
  const t = await openstack({ authUrl: admin.authUrl, appCredId: ac.json.id, appCredSecret: ac.json.secret }, 'token', 'issue', '-f', 'json');
  ok(t, 'token issue with the application credential');
  const body = (await h.request('GET', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': t.json.id } })).body;
  assert.equal(body.token.application_credential.id, ac.json.id);
  assert.deepEqual(body.token.methods, ['application_credential']);
  const list = await openstack(admin, 'application', 'credential', 'list', '-f', 'json');
  assert.ok(list.json.some((c: any) => c.Name === 'e2e-ac'));
  ok(await openstack(admin, 'application', 'credential', 'delete', 'e2e-ac'), 'application credential delete');
});

test('EC2 credentials create and list', async () => {
  const c = await openstack(admin, 'ec2', 'credentials', 'create', '-f', 'json');
  ok(c, 'ec2 credentials create');
  assert.match(c.json.access, /^[0-9a-f]{32}$/);
  const list = await openstack(admin, 'ec2', 'credentials', 'list', '-f', 'json');
  ok(list, 'ec2 credentials list');
  assert.ok(list.json.some((x: any) => x.Access === c.json.access));
  const generic = await openstack(admin, 'credential', 'list', '--type', 'ec2', '-f', 'json');
  ok(generic, 'credential list');
  assert.ok(generic.json.length >= 1);
});
}
