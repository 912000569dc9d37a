import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startIdentity, freePort, type IdentityHarness } from '../../../test/lib/identity-harness.js';
import { buildCatalog } from '../../identity/catalog/build.js';
import { createApiServer } from '../http/server.js';
import { Fault } from '../http/faults.js';
import { silentLogger } from '../log.js';
import { Enforcer } from '../policy/index.js';
import {
  InvalidTokenError, IdentityUnavailableError, RemoteTokenValidator, authOf, inProcessValidator, installAuthentication,
  policyCreds, remoteValidator, type AuthenticateOptions, type TokenValidator,
} from './index.js';

/** node's fetch, recording every call made through it. */
function countingFetch() {
  const calls: { method: string; url: string; authToken?: string; subjectToken?: string }[] = [];
  const state = { failLogins: false };
  const f: typeof fetch = (input, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ method: init?.method ?? 'GET', url: String(input), authToken: headers['x-auth-token'], subjectToken: headers['x-subject-token'] });
    if (state.failLogins && init?.method === 'POST') return Promise.reject(new TypeError('fetch failed'));
    return fetch(input, init);
  };
  const count = (m: string) => calls.filter((c) => c.method === m).length;
  return { f, calls, state, gets: () => count('GET'), logins: () => count('POST') };
}

function fakeClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

describe('platform auth against a real identity service', () => {
  let h: IdentityHarness;
  let demoId: string;
  const svc = { userName: 'svc', password: 'svc-secret' };

  const demoToken = () => h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  const revoke = async (token: string) => {
    const res = await h.request('DELETE', '/v3/auth/tokens', { token: await h.adminToken(), headers: { 'x-subject-token': token } });
    assert.equal(res.status, 204);
  };

  before(async () => {
    h = await startIdentity();
    const admin = await h.adminToken();
    const project = (await h.request('GET', '/v3/projects?name=service', { token: admin })).body.projects[0];
    let role = (await h.request('GET', '/v3/roles?name=service', { token: admin })).body.roles[0];
    role ??= (await h.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'service' } } })).body.role;
    const user = await h.request('POST', '/v3/users', { token: admin, body: { user: { name: 'svc', password: svc.password, domain_id: 'default' } } });
    assert.equal(user.status, 201);
    const g = await h.request('PUT', `/v3/projects/${project.id}/users/${user.body.user.id}/roles/${role.id}`, { token: admin });
    assert.equal(g.status, 204);
    demoId = (await h.cloud.identity.tokens.validate(await demoToken())).userId;
  });
  after(async () => { await h?.close(); });

  describe('in-process validator', () => {
    it('validates without HTTP and gives what handlers and policy need', async () => {
      let calls = 0;
      const source = { validate: (t: string) => { calls++; return h.cloud.identity.tokens.validate(t); } };
      const v = inProcessValidator(source, { catalog: (t) => buildCatalog(h.id, t.project?.id) });
      const demo = await v.validate(await demoToken());
      assert.equal(demo.userName, 'demo');
      assert.equal(demo.userId, demoId);
      assert.equal(demo.userDomainId, 'default');
      assert.equal(demo.projectName, 'demo');
      assert.equal(demo.projectDomainId, 'default');
      assert.equal(demo.domainId, undefined);
      assert.deepEqual([...demo.roles].sort(), ['member', 'reader']);
      assert.equal(demo.roleIds.length, 2);
      assert.equal(demo.isAdmin, false);
      assert.ok(demo.expiresAt.getTime() > Date.now());
      assert.ok(demo.serviceCatalog?.some((s) => s.type === 'identity'));

      const admin = await v.validate(await h.adminToken());
      assert.equal(admin.isAdmin, true);
      assert.ok(admin.roles.includes('admin'));
      await v.validate(await h.adminToken());
      assert.equal(calls, 2, 'the second check of the admin token is a cache hit');

      const enforcer = new Enforcer({ owner: 'project_id:%(project_id)s', admin_only: 'role:admin', member: 'role:Member' });
      assert.equal(enforcer.enforce('owner', { project_id: demo.projectId }, policyCreds(demo)), true);
      assert.equal(enforcer.enforce('owner', { project_id: 'other' }, policyCreds(demo)), false);
      assert.equal(enforcer.enforce('admin_only', {}, policyCreds(demo)), false);
      assert.equal(enforcer.enforce('admin_only', {}, policyCreds(admin)), true);
      assert.equal(enforcer.enforce('member', {}, policyCreds(demo)), true);
    });

    it('refuses bad tokens as InvalidTokenError, and a broken identity as IdentityUnavailableError', async () => {
      const v = inProcessValidator(h.cloud.identity.tokens);
      await assert.rejects(v.validate('gAAAAA-not-a-token'), InvalidTokenError);
      const broken = inProcessValidator({ validate: async () => { throw new Error('database is gone'); } });
      await assert.rejects(broken.validate('x'), IdentityUnavailableError);
    });

    it('sees a system-scoped token', async () => {
      const v = inProcessValidator(h.cloud.identity.tokens);
      const sys = await v.validate(await h.tokenFor('admin', h.adminPassword, { system: true }));
      assert.equal(sys.systemScope, 'all');
      assert.equal(sys.projectId, undefined);
      assert.equal(policyCreds(sys).system_scope, 'all');
    });
  });

  describe('remote validator', () => {
    it('validates over HTTP as the service user and agrees with in-process validation', async () => {
      const cf = countingFetch();
      const v = new RemoteTokenValidator({ identityUrl: `${h.url}/v3`, serviceCredentials: svc, fetch: cf.f });
      const token = await demoToken();
      const remote = await v.validate(token);
      const local = await inProcessValidator(h.cloud.identity.tokens).validate(token);
      for (const k of ['token', 'userId', 'userName', 'userDomainId', 'userDomainName', 'projectId', 'projectName', 'projectDomainId', 'projectDomainName', 'isAdmin'] as const) {
        assert.equal(remote[k], local[k], k);
      }
      assert.deepEqual([...remote.roles].sort(), [...local.roles].sort());
      assert.deepEqual([...remote.roleIds].sort(), [...local.roleIds].sort());
      assert.equal(Math.floor(remote.expiresAt.getTime() / 1000), Math.floor(local.expiresAt.getTime() / 1000));
      assert.ok(remote.serviceCatalog?.some((s) => s.type === 'identity'));
      assert.equal(v.identityUri, h.url);
      assert.equal(cf.logins(), 1);
      assert.equal(cf.gets(), 1);
      const get = cf.calls.find((c) => c.method === 'GET')!;
      assert.equal(get.url, `${h.url}/v3/auth/tokens`);
      assert.equal(get.subjectToken, token);
      assert.notEqual(get.authToken, token);
      await assert.rejects(v.validate('gAAAAA-not-a-token'), InvalidTokenError);
      await assert.rejects(v.validate('bad\u00e9token'), InvalidTokenError);
      assert.equal(cf.gets(), 2, 'an implausible token is refused without asking identity');
    });

    it('caches: a second check does not reach identity; a revocation shows after the TTL', async () => {
      const cf = countingFetch();
      const clock = fakeClock();
      const v = remoteValidator({ identityUrl: h.url, serviceCredentials: svc, fetch: cf.f, now: clock.now });
      const token = await demoToken();
      await v.validate(token);
      await v.validate(token);
      assert.equal(cf.gets(), 1);
      await revoke(token);
      clock.advance(4900);
      assert.equal((await v.validate(token)).userId, demoId, 'still valid here until the TTL passes');
      assert.equal(cf.gets(), 1);
      clock.advance(101);
      await assert.rejects(v.validate(token), InvalidTokenError);
      assert.equal(cf.gets(), 2);
      await assert.rejects(v.validate(token), InvalidTokenError);
      assert.equal(cf.gets(), 2, 'the refusal is remembered');
      clock.advance(1001);
      await assert.rejects(v.validate(token), InvalidTokenError);
      assert.equal(cf.gets(), 3);
      assert.equal(cf.logins(), 1);
    });

    it('re-obtains a service token that identity no longer accepts', async () => {
      const cf = countingFetch();
      const v = new RemoteTokenValidator({ identityUrl: h.url, serviceCredentials: svc, fetch: cf.f });
      await v.validate(await demoToken());
      const first = cf.calls.find((c) => c.method === 'GET')!.authToken!;
      await revoke(first);
      const user = await v.validate(await demoToken());
      assert.equal(user.userId, demoId);
      assert.equal(cf.logins(), 2);
      const gets = cf.calls.filter((c) => c.method === 'GET');
      assert.equal(gets.length, 3);
      assert.equal(gets[1].authToken, first);
      assert.notEqual(gets[2].authToken, first);
    });

    it('renews the service token before it expires', async () => {
      const cf = countingFetch();
      const clock = fakeClock();
      const v = new RemoteTokenValidator({ identityUrl: h.url, serviceCredentials: svc, fetch: cf.f, now: clock.now });
      await v.validate(await demoToken());
      await v.validate(await demoToken());
      assert.equal(cf.logins(), 1);
      clock.advance(h.config.identity.token_expiration * 1000 - 90_000); // inside the 120 s renewal margin
      cf.state.failLogins = true;
      await v.validate(await demoToken()); // renewal fails: the old token is good for 90 s yet
      assert.equal(cf.logins(), 2);
      cf.state.failLogins = false;
      clock.advance(1001); // past the fail-fast window
      await v.validate(await demoToken());
      assert.equal(cf.logins(), 3);
      const gets = cf.calls.filter((c) => c.method === 'GET');
      assert.equal(gets.length, 4);
      assert.equal(gets[1].authToken, gets[0].authToken);
      assert.equal(gets[2].authToken, gets[0].authToken);
      assert.notEqual(gets[3].authToken, gets[0].authToken);
    });

    it('reports wrong service credentials or an unreachable identity as unavailable', async () => {
      const wrong = new RemoteTokenValidator({ identityUrl: h.url, serviceCredentials: { ...svc, password: 'nope' } });
      await assert.rejects(wrong.validate(await demoToken()), IdentityUnavailableError);
      const port = await freePort();
      const gone = new RemoteTokenValidator({ identityUrl: `http://127.0.0.1:${port}`, serviceCredentials: svc, timeoutMs: 2000 });
      await assert.rejects(gone.validate(await demoToken()), IdentityUnavailableError);
    });

    it('a user without the service role cannot validate other users\' tokens', async () => {
      const v = new RemoteTokenValidator({ identityUrl: h.url, serviceCredentials: { userName: 'demo', password: h.demoPassword, projectName: 'demo' } });
      await assert.rejects(v.validate(await h.adminToken()), IdentityUnavailableError);
    });
  });

  describe('authenticate hook', () => {
    const render = (f: Fault) => ({ fault: { code: f.status, message: f.message, kind: f.kind ?? null } });

    async function server(validator: TokenValidator, extra: Partial<AuthenticateOptions> = {}): Promise<FastifyInstance> {
      const app = createApiServer({ service: 'test', logger: silentLogger(), bodyLimit: 1 << 20, renderFault: render });
      installAuthentication(app, {
        validator,
        onUnauthorized: (msg) => new Fault(401, `test says: ${msg}`, {}, 'TestUnauthorized'),
        optional: (req) => req.url.startsWith('/optional/'),
        serviceType: 'compute',
        ...extra,
      });
      const who = (req: { auth?: { userId: string } }) => ({ user: req.auth?.userId ?? null });
      app.get('/', { config: { public: true } }, async (req) => who(req));
      app.get('/optional/doc', async (req) => who(req));
      app.get('/v2.1/whoami', async (req) => {
        const a = authOf(req);
        return { user: a.userId, project: a.projectId, roles: a.roles, requestId: a.requestId, admin: a.isAdmin };
      });
      app.get('/v2.1/other', async (req) => who(req));
      await app.ready();
      return app;
    }

    let app: FastifyInstance;
    let cf: ReturnType<typeof countingFetch>;
    before(async () => {
      cf = countingFetch();
      app = await server(remoteValidator({ identityUrl: h.url, serviceCredentials: svc, fetch: cf.f }));
    });
    after(async () => { await app?.close(); });

    it('refuses requests without a token with the service\'s fault and WWW-Authenticate', async () => {
      const res = await app.inject({ method: 'GET', url: '/v2.1/whoami' });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { fault: { code: 401, message: 'test says: The request you have made requires authentication.', kind: 'TestUnauthorized' } });
      assert.equal(res.headers['www-authenticate'], `Keystone uri="${h.url}"`);
      assert.match(String(res.headers['x-openstack-request-id']), /^req-/);
    });

    it('refuses invalid and revoked tokens the same way', async () => {
      const bad = await app.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-auth-token': 'gAAAAA-forged' } });
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.json().fault.kind, 'TestUnauthorized');
      assert.equal(bad.headers['www-authenticate'], `Keystone uri="${h.url}"`);
      const token = await demoToken();
      await revoke(token);
      const revoked = await app.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-auth-token': token } });
      assert.equal(revoked.statusCode, 401);
    });

    it('lets a valid token through with req.auth set', async () => {
      const token = await demoToken();
      const res = await app.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-auth-token': token } });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.user, demoId);
      assert.ok(body.project);
      assert.deepEqual([...body.roles].sort(), ['member', 'reader']);
      assert.equal(body.admin, false);
      assert.equal(body.requestId, res.headers['x-openstack-request-id']);
      const gets = cf.gets();
      const again = await app.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-auth-token': token } });
      assert.equal(again.statusCode, 200);
      assert.equal(cf.gets(), gets, 'the second request is served from the cache');
      const swift = await app.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-storage-token': token } });
      assert.equal(swift.statusCode, 200);
    });

    it('serves public routes without a token, and anonymously with a bad one', async () => {
      const token = await demoToken();
      for (const url of ['/', '/optional/doc']) {
        const none = await app.inject({ method: 'GET', url });
        assert.equal(none.statusCode, 200, url);
        assert.deepEqual(none.json(), { user: null });
        const bad = await app.inject({ method: 'GET', url, headers: { 'x-auth-token': 'gAAAAA-forged' } });
        assert.equal(bad.statusCode, 200, url);
        assert.deepEqual(bad.json(), { user: null });
        const good = await app.inject({ method: 'GET', url, headers: { 'x-auth-token': token } });
        assert.deepEqual(good.json(), { user: demoId });
      }
    });

    it('needs a token for unknown URLs, then says 404', async () => {
      const none = await app.inject({ method: 'GET', url: '/nowhere' });
      assert.equal(none.statusCode, 401);
      const withToken = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-auth-token': await demoToken() } });
      assert.equal(withToken.statusCode, 404);
    });

    it('answers 503 when identity is unreachable, but still serves public routes', async () => {
      const port = await freePort();
      const down = await server(remoteValidator({ identityUrl: `http://127.0.0.1:${port}`, serviceCredentials: svc, timeoutMs: 2000 }), {
        onUnavailable: (msg) => new Fault(503, msg, {}, 'TestUnavailable'),
      });
      try {
        const res = await down.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-auth-token': await demoToken() } });
        assert.equal(res.statusCode, 503);
        assert.deepEqual(res.json(), { fault: { code: 503, message: 'The Keystone service is temporarily unavailable.', kind: 'TestUnavailable' } });
        const pub = await down.inject({ method: 'GET', url: '/', headers: { 'x-auth-token': 'whatever' } });
        assert.equal(pub.statusCode, 200);
      } finally { await down.close(); }
    });

    it('holds application credential tokens to their access rules', async () => {
      const demo = await demoToken();
      const ac = await h.request('POST', `/v3/users/${demoId}/application_credentials`, {
        token: demo,
        body: { application_credential: { name: 'whoami-only', access_rules: [{ service: 'compute', method: 'GET', path: '/v2.1/whoami' }] } },
      });
      assert.equal(ac.status, 201);
      const issued = await h.request('POST', '/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.body.application_credential.id, secret: ac.body.application_credential.secret } } } },
      });
      assert.equal(issued.status, 201);
      const token = String(issued.headers['x-subject-token']);
      const local = await server(inProcessValidator(h.cloud.identity.tokens, { identityUri: 'http://keystone.example' }));
      try {
        const ok = await local.inject({ method: 'GET', url: '/v2.1/whoami?x=1', headers: { 'x-auth-token': token } });
        assert.equal(ok.statusCode, 200);
        const other = await local.inject({ method: 'GET', url: '/v2.1/other', headers: { 'x-auth-token': token } });
        assert.equal(other.statusCode, 401);
        assert.equal(other.headers['www-authenticate'], 'Keystone uri="http://keystone.example"');
        const post = await local.inject({ method: 'POST', url: '/v2.1/whoami', headers: { 'x-auth-token': token } });
        assert.equal(post.statusCode, 401);
      } finally { await local.close(); }
      // Through the remote validator too: the catalog has the compute service the rule names.
      const viaHttp = await app.inject({ method: 'GET', url: '/v2.1/whoami', headers: { 'x-auth-token': token } });
      assert.equal(viaHttp.statusCode, 200);
      const viaHttpOther = await app.inject({ method: 'GET', url: '/v2.1/other', headers: { 'x-auth-token': token } });
      assert.equal(viaHttpOther.statusCode, 401);
    });
  });
});
