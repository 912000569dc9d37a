import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { findEc2Credential } from '../../src/identity/credentials/ec2.js';
import { memberOnProject } from './delegation-fixtures.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('credentials and OS-EC2 credentials', () => {
  let h: IdentityHarness;
  let admin: string;
  let alice: Awaited<ReturnType<typeof memberOnProject>>;
  let bob: Awaited<ReturnType<typeof memberOnProject>>;

  before(async () => {
    h = await startIdentity();
    admin = await h.adminToken();
    alice = await memberOnProject(h, 'alice');
    bob = await memberOnProject(h, 'bob');
  });
  after(async () => { await h?.close(); });

  it('creates an ec2 credential whose id is the sha256 of its access key, and refuses a duplicate', async () => {
    const blob = JSON.stringify({ access: 'AK-one', secret: 'S-one' });
    const res = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { user_id: alice.userId, project_id: alice.projectId, type: 'ec2', blob } } });
    assert.equal(res.status, 201);
    assert.equal(res.body.credential.id, sha256('AK-one'));
    assert.equal(res.body.credential.blob, blob);
    assert.equal(res.body.credential.user_id, alice.userId);
    assert.match(res.body.credential.links.self, new RegExp(`/v3/credentials/${sha256('AK-one')}$`));
    const again = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { user_id: alice.userId, project_id: alice.projectId, type: 'ec2', blob } } });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /Duplicate entry/);
  });

  it('stores blobs encrypted at rest and decrypts them on read', async () => {
    const row = await h.id.db.selectFrom('credential').selectAll().where('id', '=', sha256('AK-one')).executeTakeFirstOrThrow();
    assert.ok(row.key_hash, 'key_hash set');
    assert.ok(!row.blob.includes('S-one'), 'secret not stored in clear');
    const got = await h.request('GET', `/v3/credentials/${row.id}`, { token: admin });
    assert.equal(got.status, 200);
    assert.equal(JSON.parse(got.body.credential.blob).secret, 'S-one');
  });

  it('validates ec2 blobs and requires project_id for ec2', async () => {
    const base = { user_id: alice.userId, project_id: alice.projectId, type: 'ec2' };
    for (const blob of ['not json', '{}', '{"secret":"x"}']) {
      const r = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { ...base, blob } } });
      assert.equal(r.status, 400, blob);
    }
    const noProject = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { user_id: alice.userId, type: 'ec2', blob: '{"access":"a"}' } } });
    assert.equal(noProject.status, 400);
    const noType = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { user_id: alice.userId, blob: 'x' } } });
    assert.equal(noType.status, 400);
  });

  it('lets a user manage only their own credentials', async () => {
    const own = await h.request('POST', '/v3/credentials', { token: alice.token, body: { credential: { user_id: alice.userId, type: 'cert', blob: 'alice-cert', extra_attr: 'kept' } } });
    assert.equal(own.status, 201);
    assert.equal(own.body.credential.extra_attr, 'kept');
    assert.match(own.body.credential.id, /^[0-9a-f]{32}$/);
    const forOther = await h.request('POST', '/v3/credentials', { token: alice.token, body: { credential: { user_id: bob.userId, type: 'cert', blob: 'x' } } });
    assert.equal(forOther.status, 403);
    const bobs = await h.request('POST', '/v3/credentials', { token: bob.token, body: { credential: { user_id: bob.userId, type: 'cert', blob: 'bob-cert' } } });
    assert.equal(bobs.status, 201);

    const list = await h.request('GET', '/v3/credentials', { token: alice.token });
    assert.equal(list.status, 200);
    assert.ok(list.body.credentials.length >= 2);
    assert.ok(list.body.credentials.every((c: { user_id: string }) => c.user_id === alice.userId));
    assert.equal((await h.request('GET', `/v3/credentials/${bobs.body.credential.id}`, { token: alice.token })).status, 403);
    assert.equal((await h.request('DELETE', `/v3/credentials/${bobs.body.credential.id}`, { token: alice.token })).status, 403);
    assert.equal((await h.request('PATCH', `/v3/credentials/${own.body.credential.id}`, { token: alice.token, body: { credential: { user_id: bob.userId } } })).status, 403);

    const all = await h.request('GET', '/v3/credentials?type=cert', { token: admin });
    const ids = all.body.credentials.map((c: { id: string }) => c.id);
    assert.ok(ids.includes(own.body.credential.id) && ids.includes(bobs.body.credential.id));
    assert.ok(all.body.credentials.every((c: { type: string }) => c.type === 'cert'));
    const byUser = await h.request('GET', `/v3/credentials?user_id=${bob.userId}`, { token: admin });
    assert.deepEqual(byUser.body.credentials.map((c: { id: string }) => c.id), [bobs.body.credential.id]);
  });

  it('updates a credential keeping its id, and deletes it', async () => {
    const made = await h.request('POST', '/v3/credentials', { token: admin, body: { credential: { user_id: alice.userId, project_id: alice.projectId, type: 'ec2', blob: '{"access":"AK-upd","secret":"s1"}' } } });
    const credId = made.body.credential.id;
    const upd = await h.request('PATCH', `/v3/credentials/${credId}`, { token: admin, body: { credential: { blob: '{"access":"AK-new","secret":"s2"}', project_id: bob.projectId, type: 'ec2' } } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.credential.id, credId);
    assert.equal(upd.body.credential.project_id, bob.projectId);
    assert.equal(JSON.parse(upd.body.credential.blob).secret, 's2');
    const shown = await h.request('GET', `/v3/credentials/${credId}`, { token: admin });
    assert.equal(JSON.parse(shown.body.credential.blob).access, 'AK-new');
    assert.equal((await h.request('PATCH', `/v3/credentials/${credId}`, { token: admin, body: { credential: { id: 'other' } } })).status, 400);
    assert.equal((await h.request('PATCH', `/v3/credentials/${credId}`, { token: admin, body: { credential: {} } })).status, 400);
    assert.equal((await h.request('DELETE', `/v3/credentials/${credId}`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `/v3/credentials/${credId}`, { token: admin })).status, 404);
    assert.equal((await h.request('DELETE', `/v3/credentials/${credId}`, { token: admin })).status, 404);
  });

  it('creates, lists, shows and deletes OS-EC2 credentials that the generic API also sees', async () => {
    const base = `/v3/users/${alice.userId}/credentials/OS-EC2`;
    const made = await h.request('POST', base, { token: alice.token, body: { tenant_id: alice.projectId } });
    assert.equal(made.status, 201);
    const c = made.body.credential;
    assert.equal(c.user_id, alice.userId);
    assert.equal(c.tenant_id, alice.projectId);
    assert.equal(c.trust_id, null);
    assert.match(c.access, /^[0-9a-f]{32}$/);
    assert.match(c.secret, /^[0-9a-f]{32}$/);
    assert.match(c.links.self, new RegExp(`${base}/${c.access}$`));

    const generic = await h.request('GET', `/v3/credentials/${sha256(c.access)}`, { token: alice.token });
    assert.equal(generic.status, 200);
    assert.equal(generic.body.credential.type, 'ec2');
    assert.deepEqual(JSON.parse(generic.body.credential.blob), { access: c.access, secret: c.secret, trust_id: null });

    const found = await findEc2Credential(h.id, c.access);
    assert.equal(found?.secret, c.secret);
    assert.equal(found?.project_id, alice.projectId);
    assert.equal(await findEc2Credential(h.id, 'no-such-key'), undefined);

    const list = await h.request('GET', base, { token: alice.token });
    assert.equal(list.status, 200);
    assert.ok(list.body.credentials.some((x: { access: string }) => x.access === c.access));
    const shown = await h.request('GET', `${base}/${c.access}`, { token: alice.token });
    assert.equal(shown.body.credential.secret, c.secret);

    assert.equal((await h.request('GET', `${base}/${c.access}`, { token: bob.token })).status, 403);
    assert.equal((await h.request('GET', base, { token: bob.token })).status, 403);
    assert.equal((await h.request('POST', base, { token: bob.token, body: { tenant_id: bob.projectId } })).status, 403);
    assert.equal((await h.request('POST', base, { token: alice.token, body: { tenant_id: 'nope' } })).status, 404);
    assert.equal((await h.request('POST', base, { token: alice.token, body: {} })).status, 404);

    assert.equal((await h.request('DELETE', `${base}/${c.access}`, { token: alice.token })).status, 204);
    assert.equal((await h.request('GET', `${base}/${c.access}`, { token: alice.token })).status, 404);
    assert.equal(await findEc2Credential(h.id, c.access), undefined);
  });

  it('answers POST /v3/ec2tokens with a clear 501', async () => {
    const r = await h.request('POST', '/v3/ec2tokens', { body: { credentials: {} } });
    assert.equal(r.status, 501);
    assert.match(r.body.error.message, /not implemented/);
  });
});
