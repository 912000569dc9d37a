import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { consumeTrustUse, getUsableTrust } from '../../src/identity/trusts/usable.js';
import { grant, imply, makeProject, makeRole, makeUser, revokeGrant } from './delegation-fixtures.js';

describe('OS-TRUST trusts', () => {
  let h: IdentityHarness;
  let projectId: string;
  let trustor: string;
  let trustee: string;
  let stranger: string;
  let trustorToken: string;
  let trusteeToken: string;
  let strangerToken: string;
  let delegated: string;
  let notDelegated: string;
  let impliedRole: string;

  const trustBody = (over: Record<string, unknown> = {}) => ({
    trust: { trustor_user_id: trustor, trustee_user_id: trustee, project_id: projectId, impersonation: true, roles: [{ name: 'Delegated' }], ...over },
  });
  const post = (token: string, over: Record<string, unknown> = {}) => h.request('POST', '/v3/OS-TRUST/trusts', { token, body: trustBody(over) });
  const trustToken = (token: string, trustId: string) => h.request('POST', '/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['token'], token: { id: token } }, scope: { 'OS-TRUST:trust': { id: trustId } } } },
  });

  before(async () => {
    h = await startIdentity();
    projectId = await makeProject(h, 'trust-project');
    trustor = await makeUser(h, 'trustor', 'trustor-pw');
    trustee = await makeUser(h, 'trustee', 'trustee-pw');
    stranger = await makeUser(h, 'stranger', 'stranger-pw');
    delegated = await makeRole(h, 'Delegated');
    notDelegated = await makeRole(h, 'NotDelegated');
    impliedRole = await makeRole(h, 'ImpliedByDelegated');
    await imply(h, delegated, impliedRole);
    await grant(h, trustor, projectId, delegated);
    await grant(h, trustor, projectId, notDelegated);
    trustorToken = await h.tokenFor('trustor', 'trustor-pw', { projectId });
    trusteeToken = await h.tokenFor('trustee', 'trustee-pw');
    strangerToken = await h.tokenFor('stranger', 'stranger-pw');
  });
  after(async () => { await h?.close(); });

  it('creates a trust shaped as Keystone\'s, and shows it to trustor and trustee only', async () => {
    const res = await post(trustorToken);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const t = res.body.trust;
    assert.match(t.id, /^[0-9a-f]{32}$/);
    assert.equal(t.trustor_user_id, trustor);
    assert.equal(t.trustee_user_id, trustee);
    assert.equal(t.project_id, projectId);
    assert.equal(t.impersonation, true);
    assert.equal(t.expires_at, null);
    assert.equal(t.remaining_uses, null);
    assert.equal(t.deleted_at, null);
    assert.equal(t.redelegated_trust_id, null);
    assert.equal(t.redelegation_count, 0);
    assert.equal('allow_redelegation' in t, false);
    assert.match(t.links.self, new RegExp(`/v3/OS-TRUST/trusts/${t.id}$`));
    assert.deepEqual(t.roles.map((r: { name: string }) => r.name), ['Delegated']);
    assert.match(t.roles[0].links.self, new RegExp(`/v3/roles/${delegated}$`));
    assert.deepEqual(t.roles_links, { self: t.roles_links.self, next: null, previous: null });

    for (const token of [trustorToken, trusteeToken]) {
      const got = await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token });
      assert.equal(got.status, 200);
      assert.equal(got.body.trust.roles[0].id, delegated);
    }
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: strangerToken })).status, 403);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${'f'.repeat(32)}`, { token: strangerToken })).status, 404);

    const roles = await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}/roles`, { token: trustorToken });
    assert.equal(roles.status, 200);
    assert.deepEqual(roles.body.roles.map((r: { id: string }) => r.id), [delegated]);
    const role = await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}/roles/${delegated}`, { token: trustorToken });
    assert.equal(role.status, 200);
    assert.equal(role.body.role.name, 'Delegated');
    assert.equal((await h.request('HEAD', `/v3/OS-TRUST/trusts/${t.id}/roles/${delegated}`, { token: trustorToken })).status, 200);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}/roles/${notDelegated}`, { token: trustorToken })).status, 404);
    assert.equal((await h.request('HEAD', `/v3/OS-TRUST/trusts/${t.id}/roles/${notDelegated}`, { token: trustorToken })).status, 404);

    assert.equal((await h.request('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trusteeToken })).status, 403);
    assert.equal((await h.request('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 204);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 404);
  });

  it('formats expires_at as Keystone and refuses bad or past times', async () => {
    const res = await post(trustorToken, { expires_at: '2099-03-04T05:06:07.891234Z' });
    assert.equal(res.status, 201);
    assert.equal(res.body.trust.expires_at, '2099-03-04T05:06:07.000000Z');
    assert.equal((await post(trustorToken, { expires_at: 'bad.123Z' })).status, 400);
    assert.equal((await post(trustorToken, { expires_at: '2000-01-01T00:00:00Z' })).status, 400);
  });

  it('refuses invalid trusts with Keystone\'s statuses', async () => {
    assert.equal((await post(strangerToken)).status, 403, 'caller is not the trustor');
    assert.equal((await post(trustorToken, { roles: [] })).status, 403, 'project without roles');
    assert.equal((await post(trustorToken, { roles: [{ id: await makeRole(h, 'Unheld') }] })).status, 404, 'role not held');
    assert.equal((await post(trustorToken, { roles: [{ name: 'NoSuchRole' }] })).status, 404);
    assert.equal((await post(trustorToken, { trustee_user_id: 'nobody' })).status, 404);
    assert.equal((await post(trustorToken, { impersonation: undefined })).status, 400);
    assert.equal((await post(trustorToken, { impersonation: 'yes' })).status, 400);
    assert.equal((await post(trustorToken, { remaining_uses: 0 })).status, 400);
    assert.equal((await post(trustorToken, { allow_redelegation: true, remaining_uses: 2 })).status, 400);
    assert.equal((await post(trustorToken, { allow_redelegation: true, redelegation_count: 4 })).status, 403);
  });

  it('lists trusts by trustor or trustee, and all trusts for admins', async () => {
    const made = (await post(trustorToken, { impersonation: false })).body.trust;
    const byTrustor = await h.request('GET', `/v3/OS-TRUST/trusts?trustor_user_id=${trustor}`, { token: trustorToken });
    assert.equal(byTrustor.status, 200);
    assert.ok(byTrustor.body.trusts.some((t: { id: string }) => t.id === made.id));
    assert.ok(byTrustor.body.trusts.every((t: { roles?: unknown }) => t.roles === undefined));
    const byTrustee = await h.request('GET', `/v3/OS-TRUST/trusts?trustee_user_id=${trustee}`, { token: trusteeToken });
    assert.ok(byTrustee.body.trusts.some((t: { id: string }) => t.id === made.id));
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts?trustor_user_id=${trustor}`, { token: strangerToken })).status, 403);
    assert.equal((await h.request('GET', '/v3/OS-TRUST/trusts', { token: strangerToken })).status, 403);
    const all = await h.request('GET', '/v3/OS-TRUST/trusts', { token: await h.adminToken() });
    assert.equal(all.status, 200);
    assert.ok(all.body.trusts.some((t: { id: string }) => t.id === made.id));
  });

  it('issues trust-scoped tokens with the delegated and implied roles, and revokes them with the trust', async () => {
    const t = (await post(trustorToken)).body.trust;
    const res = await trustToken(trusteeToken, t.id);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.token.roles.map((r: { name: string }) => r.name).sort(), ['Delegated', 'ImpliedByDelegated']);
    const token = String(res.headers['x-subject-token']);
    assert.equal((await trustToken(strangerToken, t.id)).status, 403);

    const usable = await getUsableTrust(h.id, t.id, trustee);
    assert.deepEqual(usable.roles.map((r) => r.id).sort(), [delegated, impliedRole].sort());
    await assert.rejects(getUsableTrust(h.id, t.id, stranger), { status: 403 });

    const admin = await h.adminToken();
    const validate = () => h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': token } });
    assert.equal((await validate()).status, 200);
    assert.equal((await h.request('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 204);
    const ev = await h.id.db.selectFrom('revocation_event').selectAll().where('trust_id', '=', t.id).execute();
    assert.equal(ev.length, 1);
    assert.equal((await validate()).status, 404);
    await assert.rejects(getUsableTrust(h.id, t.id, trustee), { status: 404 });
  });

  it('refuses a trust whose trustor lost a delegated role', async () => {
    const t = (await post(trustorToken, { roles: [{ name: 'NotDelegated' }] })).body.trust;
    assert.equal((await getUsableTrust(h.id, t.id, trustee)).roles[0].id, notDelegated);
    await revokeGrant(h, trustor, projectId, notDelegated);
    await assert.rejects(getUsableTrust(h.id, t.id, trustee), { status: 403 });
    await grant(h, trustor, projectId, notDelegated);
  });

  it('counts remaining uses atomically and keeps the last token valid', async () => {
    const t = (await post(trustorToken, { remaining_uses: 1 })).body.trust;
    assert.equal(t.remaining_uses, 1);
    const first = await trustToken(trusteeToken, t.id);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const admin = await h.adminToken();
    const check = await h.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': String(first.headers['x-subject-token']) } });
    assert.equal(check.status, 200);
    assert.notEqual((await trustToken(trusteeToken, t.id)).status, 201);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 404);

    const limited = (await post(trustorToken, { remaining_uses: 5 })).body.trust;
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => consumeTrustUse(h.id, limited.id)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.status === 403));
    const row = await h.id.db.selectFrom('trust').select('remaining_uses').where('id', '=', limited.id).executeTakeFirstOrThrow();
    assert.equal(row.remaining_uses, 0);

    const unlimited = (await post(trustorToken)).body.trust;
    await consumeTrustUse(h.id, unlimited.id);
    const still = await h.id.db.selectFrom('trust').select('remaining_uses').where('id', '=', unlimited.id).executeTakeFirstOrThrow();
    assert.equal(still.remaining_uses, null);
  });

  it('redelegates within the parent trust\'s limits, and deletes the chain with its parent', async () => {
    const parent = (await post(trustorToken, { allow_redelegation: true, expires_at: '2098-01-01T00:00:00Z' })).body.trust;
    assert.equal(parent.redelegation_count, 3);
    const tok = await trustToken(trusteeToken, parent.id);
    assert.equal(tok.status, 201, JSON.stringify(tok.body));
    const delegatedToken = String(tok.headers['x-subject-token']);
    const stranger2 = await makeUser(h, 'next-trustee', 'nt-pw');
    const chained = (over: Record<string, unknown>) => h.request('POST', '/v3/OS-TRUST/trusts', {
      token: delegatedToken, body: trustBody({ trustee_user_id: stranger2, allow_redelegation: true, ...over }),
    });
    assert.equal((await chained({ expires_at: '2099-01-01T00:00:00Z' })).status, 403, 'outlives its parent');
    assert.equal((await chained({ roles: [{ name: 'NotDelegated' }] })).status, 403, 'widens the roles');
    assert.equal((await chained({ redelegation_count: 1 })).status, 403, 'changes the depth');
    const child = await chained({});
    assert.equal(child.status, 201, JSON.stringify(child.body));
    assert.equal(child.body.trust.redelegated_trust_id, parent.id);
    assert.equal(child.body.trust.redelegation_count, 2);
    assert.equal(child.body.trust.expires_at, '2098-01-01T00:00:00.000000Z');

    assert.equal((await h.request('DELETE', `/v3/OS-TRUST/trusts/${parent.id}`, { token: trustorToken })).status, 204);
    const gone = await h.id.db.selectFrom('trust').select('deleted_at').where('id', '=', child.body.trust.id).executeTakeFirstOrThrow();
    assert.ok(gone.deleted_at, 'child deleted with its parent');
  });

  it('keeps trusts away from application-credential tokens', async () => {
    const ac = await h.request('POST', `/v3/users/${trustor}/application_credentials`, { token: trustorToken, body: { application_credential: { name: 'no-trusts', unrestricted: true } } });
    assert.equal(ac.status, 201);
    const acTok = await h.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.body.application_credential.id, secret: ac.body.application_credential.secret } } } },
    });
    const token = String(acTok.headers['x-subject-token']);
    assert.equal((await post(token)).status, 403);
    assert.equal((await h.request('GET', `/v3/OS-TRUST/trusts?trustor_user_id=${trustor}`, { token })).status, 403);
  });
});
