// Debian's unmodified `openstack` CLI against roles, implied roles and role assignments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { openstack, type CliAuth, type CliResult } from '../lib/openstack-cli.js';

let h: IdentityHarness;
let admin: CliAuth;
const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
const os = async (...cmd: string[]) => { const r = await openstack(admin, ...cmd); ok(r, cmd.join(' ')); return r; };

before(async () => {
  h = await startIdentity();
  admin = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
});
after(async () => { await h?.close(); });

test('roles, implied roles and effective assignments with names', async () => {
  await os('role', 'create', 'cli-prior');
  await os('role', 'create', 'cli-implied');
  await os('implied', 'role', 'create', 'cli-prior', '--implied-role', 'cli-implied');
  const rules = (await os('implied', 'role', 'list', '-f', 'json')).json;
  assert.ok(rules.some((r: Record<string, string>) => r['Prior Role Name'] === 'cli-prior' && r['Implied Role Name'] === 'cli-implied'));
  await os('user', 'create', '--password', 'cli-pw-1', 'cli-user');
  await os('role', 'add', '--user', 'cli-user', '--project', 'demo', 'cli-prior');
  await os('role', 'add', '--user', 'cli-user', '--domain', 'default', '--inherited', 'cli-prior');
  await os('role', 'add', '--user', 'cli-user', '--system', 'all', 'reader');

  const eff = (await os('role', 'assignment', 'list', '--user', 'cli-user', '--names', '--effective', '-f', 'json')).json as Record<string, unknown>[];
  const rows = eff.map((r) => `${r.Role}|${r.Project}|${r.Inherited}`).sort();
  // Direct on demo, plus the domain-inherited grant on each of admin/demo/service, each with its implied role.
  assert.deepEqual(rows, [
    'cli-implied|admin@Default|true', 'cli-implied|demo@Default|false', 'cli-implied|demo@Default|true', 'cli-implied|service@Default|true',
    'cli-prior|admin@Default|true', 'cli-prior|demo@Default|false', 'cli-prior|demo@Default|true', 'cli-prior|service@Default|true',
  ]);
  const direct = (await os('role', 'assignment', 'list', '--user', 'cli-user', '--names', '-f', 'json')).json as Record<string, unknown>[];
  assert.deepEqual(direct.map((r) => `${r.Role}|${r.Project}|${r.Domain}|${r.System}|${r.Inherited}`).sort(), [
    'cli-prior||Default||true', 'cli-prior|demo@Default|||false', 'reader|||all|false',
  ].sort());

  await os('role', 'remove', '--user', 'cli-user', '--project', 'demo', 'cli-prior');
  await os('role', 'remove', '--user', 'cli-user', '--domain', 'default', '--inherited', 'cli-prior');
  await os('role', 'remove', '--user', 'cli-user', '--system', 'all', 'reader');
  assert.deepEqual((await os('role', 'assignment', 'list', '--user', 'cli-user', '-f', 'json')).json, []);
});

test('domain roles and immutable roles', async () => {
  await os('role', 'create', '--domain', 'default', 'cli-domrole');
  const listed = (await os('role', 'list', '--domain', 'default', '-f', 'json')).json;
  assert.deepEqual(listed.map((r: Record<string, string>) => r.Name), ['cli-domrole']);
  await os('role', 'create', '--immutable', 'cli-imm');
  const refused = await openstack(admin, 'role', 'delete', 'cli-imm');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /immutable/);
  await os('role', 'set', '--no-immutable', 'cli-imm');
  await os('role', 'delete', 'cli-imm');
});
