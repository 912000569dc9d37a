import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { verifyApplicationCredential } from '../../src/identity/app-creds/verify.js';
import { grant, makeUser, memberOnProject, revokeGrant, roleId } from './delegation-fixtures.js';

describe('application credentials and access rules', () => {
  let h: IdentityHarness;
  let alice: Awaited<ReturnType<typeof memberOnProject>>;
  let bob: Awaited<ReturnType<typeof memberOnProject>>;
  const acUrl = (userId: string) => `/v3/users/${userId}/application_credentials`;

  const appCredToken = async (acId: string, secret: string) => h.request('POST', '/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: acId, secret } } } },
  });
  const create = (token: string, userId: string, body: Record<string, unknown>) =>
    h.request('POST', acUrl(userId), { token, body: { application_credential: body } });

  before(async () => {
    h = await startIdentity();
    alice = await memberOnProject(h, 'alice');
    bob = await memberOnProject(h, 'bob');
  });
  after(async () => { await h?.close(); });

  it('creates with the token roles by default; the secret shows only once', async () => {
    const res = await create(alice.token, alice.userId, { name: 'ci', description: 'for CI' });
    assert.equal(res.status, 201);
    const ac = res.body.application_credential;
    assert.equal(ac.secret.length, 86);
    assert.match(ac.secret, /^[A-Za-z0-9_-]+$/);
    assert.equal(ac.project_id, alice.projectId);
    assert.equal(ac.user_id, alice.userId);
    assert.equal(ac.unrestricted, false);
    assert.equal(ac.expires_at, null);
    assert.equal(ac.description, 'for CI');
    assert.deepEqual(ac.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    assert.equal(ac.access_rules, undefined);
    assert.match(ac.links.self, new RegExp(`/v3/application_credentials/${ac.id}$`));
    const hash = await h.id.db.selectFrom('app_credential').select('secret_hash').where('id', '=', ac.id).executeTakeFirstOrThrow();
    assert.ok(hash.secret_hash.startsWith('$2'), 'bcrypt hash stored');

    const shown = await h.request('GET', `${acUrl(alice.userId)}/${ac.id}`, { token: alice.token });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.application_credential.secret, undefined);
    assert.equal(shown.body.application_credential.name, 'ci');

    const dup = await create(alice.token, alice.userId, { name: 'ci' });
    assert.equal(dup.status, 409);
  });

  it('lists a user\'s credentials, filtered by name, and hides them from others', async () => {
    await create(alice.token, alice.userId, { name: 'second', secret: 'my-own-secret' });
    const all = await h.request('GET', acUrl(alice.userId), { token: alice.token });
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.application_credentials.map((a: { name: string }) => a.name).sort(), ['ci', 'second']);
    const one = await h.request('GET', `${acUrl(alice.userId)}?name=second`, { token: alice.token });
    assert.deepEqual(one.body.application_credentials.map((a: { name: string }) => a.name), ['second']);
    assert.equal((await h.request('GET', acUrl(alice.userId), { token: bob.token })).status, 403);
    const id = all.body.application_credentials[0].id;
    // Naming oneself in the path does not help: ownership is the credential's.
    assert.equal((await h.request('GET', `${acUrl(bob.userId)}/${id}`, { token: bob.token })).status, 403);
    assert.equal((await h.request('DELETE', `${acUrl(bob.userId)}/${id}`, { token: bob.token })).status, 403);
    assert.equal((await create(bob.token, alice.userId, { name: 'x' })).status, 403);
  });

  it('keeps expires_at to the microsecond and refuses past or malformed times', async () => {
    const when = '2099-05-06T07:08:09.123456';
    const res = await create(alice.token, alice.userId, { name: 'expiring', expires_at: when });
    assert.equal(res.status, 201);
    assert.equal(res.body.application_credential.expires_at, when);
    assert.equal((await create(alice.token, alice.userId, { name: 'past', expires_at: '2001-01-01T00:00:00' })).status, 400);
    assert.equal((await create(alice.token, alice.userId, { name: 'bad', expires_at: 'bad.123Z' })).status, 400);
    assert.equal((await create(alice.token, alice.userId, {})).status, 400);
    assert.equal((await create(alice.token, alice.userId, { name: 'r', roles: [{ id: 'a', name: 'b' }] })).status, 400);
  });

  it('only delegates roles the creator\'s token has', async () => {
    const admin = await create(alice.token, alice.userId, { name: 'escalate', roles: [{ name: 'admin' }] });
    assert.equal(admin.status, 400);
    assert.match(admin.body.error.message, /unassigned role/);
    assert.equal((await create(alice.token, alice.userId, { name: 'ghost', roles: [{ name: 'no-such-role' }] })).status, 404);
    const reader = await create(alice.token, alice.userId, { name: 'reader-only', roles: [{ name: 'reader' }] });
    assert.equal(reader.status, 201);
    assert.deepEqual(reader.body.application_credential.roles.map((r: { name: string }) => r.name), ['reader']);
    const member = await create(alice.token, alice.userId, { name: 'member-by-id', roles: [{ id: await roleId(h, 'member') }] });
    assert.equal(member.status, 201);
    assert.deepEqual(member.body.application_credential.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
  });

  it('does not fail with a duplicate entry when roles imply each other (admin → member → reader)', async () => {
    const pw = 'carol-pw';
    const carol = await makeUser(h, 'carol', pw);
    await grant(h, carol, alice.projectId, await roleId(h, 'admin'));
    await grant(h, carol, alice.projectId, await roleId(h, 'member'));
    const token = await h.tokenFor('carol', pw, { projectId: alice.projectId });
    const implicit = await create(token, carol, { name: 'all-roles' });
    assert.equal(implicit.status, 201, JSON.stringify(implicit.body));
    assert.deepEqual(implicit.body.application_credential.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader']);
    const explicit = await create(token, carol, { name: 'listed', roles: [{ name: 'admin' }, { name: 'member' }, { name: 'reader' }, { name: 'member' }] });
    assert.equal(explicit.status, 201, JSON.stringify(explicit.body));
    assert.equal(explicit.body.application_credential.roles.length, 3);
  });

  it('authenticates with the secret, scoped to its project, and tracks the user\'s current roles', async () => {
    const pw = 'dave-pw';
    const dave = await makeUser(h, 'dave', pw);
    const member = await roleId(h, 'member');
    await grant(h, dave, alice.projectId, member);
    const token = await h.tokenFor('dave', pw, { projectId: alice.projectId });
    const ac = (await create(token, dave, { name: 'auth' })).body.application_credential;

    const ok = await appCredToken(ac.id, ac.secret);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.token.project.id, alice.projectId);
    assert.deepEqual(ok.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    assert.equal((await appCredToken(ac.id, 'wrong')).status, 401);
    assert.equal((await appCredToken('0'.repeat(32), ac.secret)).status, 401);

    const byName = await verifyApplicationCredential(h.id, { name: 'auth', user: { name: 'dave', domain: { id: 'default' } }, secret: ac.secret });
    assert.equal(byName.appCred.id, ac.id);
    await assert.rejects(verifyApplicationCredential(h.id, { name: 'auth', user: { id: alice.userId }, secret: ac.secret }), { status: 401 });

    await revokeGrant(h, dave, alice.projectId, member);
    const after = await verifyApplicationCredential(h.id, { id: ac.id, secret: ac.secret });
    assert.deepEqual(after.roles, []);

    await h.id.db.updateTable('app_credential').set({ expires_at: '2001-01-01T00:00:00.000000Z' }).where('id', '=', ac.id).execute();
    await assert.rejects(verifyApplicationCredential(h.id, { id: ac.id, secret: ac.secret }), { status: 401 });
    await h.id.db.updateTable('app_credential').set({ expires_at: null }).where('id', '=', ac.id).execute();
    await h.id.db.updateTable('user_account').set({ enabled: 0 }).where('id', '=', dave).execute();
    h.id.changed();
    await assert.rejects(verifyApplicationCredential(h.id, { id: ac.id, secret: ac.secret }), { status: 401 });
  });

  it('lets only unrestricted application credentials create or delete others', async () => {
    const restricted = (await create(alice.token, alice.userId, { name: 'restricted' })).body.application_credential;
    const rToken = String((await appCredToken(restricted.id, restricted.secret)).headers['x-subject-token']);
    assert.equal((await create(rToken, alice.userId, { name: 'child' })).status, 403);
    assert.equal((await h.request('DELETE', `${acUrl(alice.userId)}/${restricted.id}`, { token: rToken })).status, 403);

    const open = (await create(alice.token, alice.userId, { name: 'unrestricted', unrestricted: true })).body.application_credential;
    assert.equal(open.unrestricted, true);
    const uToken = String((await appCredToken(open.id, open.secret)).headers['x-subject-token']);
    assert.equal((await create(uToken, alice.userId, { name: 'child' })).status, 201);
  });

  it('deletes a credential and revokes its tokens', async () => {
    const ac = (await create(alice.token, alice.userId, { name: 'doomed' })).body.application_credential;
    const token = String((await appCredToken(ac.id, ac.secret)).headers['x-subject-token']);
    const adminToken = await h.adminToken();
    const check = () => h.request('GET', '/v3/auth/tokens', { token: adminToken, headers: { 'x-subject-token': token } });
    assert.equal((await check()).status, 200);
    assert.equal((await h.request('DELETE', `${acUrl(alice.userId)}/${ac.id}`, { token: alice.token })).status, 204);
    const ev = await h.id.db.selectFrom('revocation_event').selectAll().where('consumer_id', '=', ac.id).execute();
    assert.equal(ev.length, 1);
    assert.equal((await check()).status, 404);
    assert.equal((await h.request('GET', `${acUrl(alice.userId)}/${ac.id}`, { token: alice.token })).status, 404);
    assert.equal((await h.request('DELETE', `${acUrl(alice.userId)}/${ac.id}`, { token: alice.token })).status, 404);
  });

  it('creates, reuses, shows and deletes access rules', async () => {
    const rule = { path: '/v2.1/servers/*/ips', method: 'GET', service: 'compute' };
    const first = await create(bob.token, bob.userId, { name: 'rules-1', access_rules: [rule] });
    assert.equal(first.status, 201);
    const got = { ...first.body.application_credential.access_rules[0] };
    const ruleId = got.id;
    delete got.id;
    assert.deepEqual(got, rule);

    const second = await create(bob.token, bob.userId, { name: 'rules-2', access_rules: [rule, { id: ruleId }] });
    assert.equal(second.status, 201);
    assert.deepEqual(second.body.application_credential.access_rules.map((r: { id: string }) => r.id), [ruleId]);
    assert.equal((await create(bob.token, bob.userId, { name: 'rules-3', access_rules: [{ id: 'missing' }] })).status, 404);
    assert.equal((await create(bob.token, bob.userId, { name: 'rules-4', access_rules: [{ ...rule, method: 'FETCH' }] })).status, 400);
    assert.equal((await create(bob.token, bob.userId, { name: 'rules-5', access_rules: [{ ...rule, path: 'no-slash' }] })).status, 400);
    // Another user cannot borrow Bob's rule by id.
    assert.equal((await create(alice.token, alice.userId, { name: 'borrow', access_rules: [{ id: ruleId }] })).status, 404);

    const rulesUrl = `/v3/users/${bob.userId}/access_rules`;
    const list = await h.request('GET', rulesUrl, { token: bob.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.access_rules.map((r: { id: string }) => r.id), [ruleId]);
    assert.match(list.body.access_rules[0].links.self, new RegExp(`/v3/access_rules/${ruleId}$`));
    assert.equal((await h.request('GET', `${rulesUrl}?service=identity`, { token: bob.token })).body.access_rules.length, 0);
    const shown = await h.request('GET', `${rulesUrl}/${ruleId}`, { token: bob.token });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.access_rule.service, 'compute');
    assert.equal((await h.request('GET', rulesUrl, { token: alice.token })).status, 403);
    assert.equal((await h.request('GET', `/v3/users/${alice.userId}/access_rules/${ruleId}`, { token: alice.token })).status, 404);

    assert.equal((await h.request('DELETE', `${rulesUrl}/${ruleId}`, { token: bob.token })).status, 403);
    for (const r of [first, second]) {
      assert.equal((await h.request('DELETE', `${acUrl(bob.userId)}/${r.body.application_credential.id}`, { token: bob.token })).status, 204);
    }
    assert.deepEqual((await h.request('GET', rulesUrl, { token: bob.token })).body.access_rules.map((r: { id: string }) => r.id), [ruleId]);
    assert.equal((await h.request('DELETE', `${rulesUrl}/${ruleId}`, { token: bob.token })).status, 204);
    assert.equal((await h.request('GET', rulesUrl, { token: bob.token })).body.access_rules.length, 0);
    assert.equal((await h.request('DELETE', `${rulesUrl}/${ruleId}`, { token: bob.token })).status, 404);
  });
});
