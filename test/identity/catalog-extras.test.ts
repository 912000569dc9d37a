import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { getDomainConfig } from '../../src/identity/api/domain-configs.js';
import { formatEndpointUrl, isValidEndpointUrlTemplate } from '../../src/identity/catalog/url-template.js';

let h: IdentityHarness;
let admin: string;
let member: string;

before(async () => {
  h = await startIdentity({ overrides: { identity: { password_regex: '^.{8,}$', password_regex_description: 'eight or more' } } });
  admin = await h.adminToken();
  member = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
});
after(async () => { await h.close(); });

const call = (method: string, path: string, body?: unknown, token = admin) => h.request(method, path, { token, body });

test('endpoint URL templates', () => {
  assert.equal(formatEndpointUrl('http://h/$(project_id)s/x', { project_id: 'P' }), 'http://h/P/x');
  assert.equal(formatEndpointUrl('http://h/%(tenant_id)s', { tenant_id: 'T' }), 'http://h/T');
  assert.equal(formatEndpointUrl('http://h/$(project_id)s', {}), null);
  assert.equal(formatEndpointUrl('http://h/$(other)s', { project_id: 'P' }), null);
  assert.equal(formatEndpointUrl('http://h/100%%', {}), 'http://h/100%');
  assert.equal(formatEndpointUrl('http://h/%2F', {}), null);
  assert.ok(isValidEndpointUrlTemplate('http://h/$(project_id)s/$(user_id)s'));
  assert.ok(!isValidEndpointUrlTemplate('http://h/$(nope)s'));
  assert.ok(!isValidEndpointUrlTemplate('http://h/$(project_id'));
});

test('policies: CRUD, type filter, validation', async () => {
  const p = await call('POST', '/v3/policies', { policy: { blob: '{"a": 1}', type: 'application/json', owner: 'me' } });
  assert.equal(p.status, 201);
  assert.equal(p.body.policy.blob, '{"a": 1}');
  assert.equal(p.body.policy.owner, 'me');
  assert.equal((await call('POST', '/v3/policies', { policy: { type: 't' } })).status, 400);
  assert.equal((await call('POST', '/v3/policies', { policy: { blob: 'x', type: 'y'.repeat(256) } })).status, 400);
  const u = await call('PATCH', `/v3/policies/${p.body.policy.id}`, { policy: { type: 'text/plain' } });
  assert.equal(u.status, 200);
  assert.equal(u.body.policy.type, 'text/plain');
  assert.equal(u.body.policy.blob, '{"a": 1}');
  assert.equal((await call('PATCH', `/v3/policies/${p.body.policy.id}`, { policy: { id: 'other' } })).status, 400);
  assert.deepEqual((await call('GET', `/v3/policies/${p.body.policy.id}`)).body.policy, u.body.policy);
  assert.deepEqual((await call('GET', '/v3/policies?type=text/plain')).body.policies.map((x: { id: string }) => x.id), [p.body.policy.id]);
  assert.equal((await call('GET', '/v3/policies?type=nothing')).body.policies.length, 0);
  assert.equal((await call('POST', '/v3/policies', { policy: { blob: 'x', type: 'y' } }, member)).status, 403);
  assert.equal((await call('DELETE', `/v3/policies/${p.body.policy.id}`)).status, 204);
  assert.equal((await call('GET', `/v3/policies/${p.body.policy.id}`)).status, 404);
});

test('OAuth1 consumers: secret only on create and stored hashed; delegation is 501', async () => {
  const c = await call('POST', '/v3/OS-OAUTH1/consumers', { consumer: { description: 'd' } });
  assert.equal(c.status, 201);
  assert.match(c.body.consumer.secret, /^[0-9a-f]{32}$/);
  const row = await h.id.db.selectFrom('oauth_consumer').selectAll().where('id', '=', c.body.consumer.id).executeTakeFirstOrThrow();
  assert.notEqual(row.secret_hash, c.body.consumer.secret);
  const shown = (await call('GET', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`)).body.consumer;
  assert.ok(!('secret' in shown));
  assert.equal(shown.description, 'd');
  assert.deepEqual(shown.links, c.body.consumer.links);
  assert.equal((await call('PATCH', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`, { consumer: { secret: 'x' } })).status, 400);
  const u = await call('PATCH', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`, { consumer: { description: 'e' } });
  assert.equal(u.body.consumer.description, 'e');
  assert.ok((await call('GET', '/v3/OS-OAUTH1/consumers')).body.consumers.some((x: { id: string }) => x.id === c.body.consumer.id));
  assert.equal((await call('POST', '/v3/OS-OAUTH1/consumers', { consumer: {} }, member)).status, 403);
  assert.equal((await call('DELETE', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`)).status, 204);
  assert.equal((await call('GET', `/v3/OS-OAUTH1/consumers/${c.body.consumer.id}`)).status, 404);
  const rt = await call('POST', '/v3/OS-OAUTH1/request_token');
  assert.equal(rt.status, 501);
  assert.match(rt.body.error.message, /OAuth1 delegation .* not supported/);
  assert.equal((await call('PUT', '/v3/OS-OAUTH1/authorize/abc', { roles: [] })).status, 501);
});

test('domain configuration: create, read (sensitive hidden), update, delete, errors', async () => {
  const d = (await call('POST', '/v3/domains', { domain: { name: 'cfg-dom' } })).body.domain;
  assert.ok(d?.id, 'domain created');
  const base = `/v3/domains/${d.id}/config`;
  assert.equal((await call('GET', base)).status, 404);
  const cfg = { identity: { driver: 'ldap' }, ldap: { url: 'ldap://h/', user_tree_dn: 'ou=Users', password: 's3cret', user: 'cn=%(password)s' } };
  const created = await call('PUT', base, { config: cfg });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body.config, { identity: { driver: 'ldap' }, ldap: { url: 'ldap://h/', user_tree_dn: 'ou=Users', user: 'cn=%(password)s' } });
  assert.equal((await call('PUT', base, { config: cfg })).status, 200);

  assert.deepEqual((await call('GET', `${base}/ldap/url`)).body.config, { url: 'ldap://h/' });
  assert.deepEqual((await call('GET', `${base}/identity`)).body.config, { identity: { driver: 'ldap' } });
  assert.equal((await call('GET', `${base}/ldap/password`)).status, 404);
  assert.equal((await call('GET', `${base}/ldap/nonsense`)).status, 403);
  assert.equal((await call('GET', `${base}/assignment`)).status, 403);

  const full = await getDomainConfig(h.id, d.id);
  assert.equal(full.identity.driver, 'ldap');
  assert.equal(full.ldap.password, 's3cret');
  assert.equal(full.ldap.user, 'cn=s3cret');

  const grp = await call('PATCH', `${base}/identity`, { config: { identity: { driver: 'sql', list_limit: 5 } } });
  assert.equal(grp.status, 200);
  assert.deepEqual(grp.body.config.identity, { driver: 'sql', list_limit: 5 });
  assert.equal((await call('PATCH', `${base}/identity`, { config: { ldap: { url: 'x' } } })).status, 403);
  const opt = await call('PATCH', `${base}/ldap/url`, { config: { url: 'ldap://other/' } });
  assert.equal(opt.body.config.ldap.url, 'ldap://other/');
  assert.equal((await call('PATCH', `${base}/ldap/suffix`, { config: { suffix: 'dc=x' } })).status, 404);
  assert.equal((await call('PATCH', base, { config: {} })).status, 403);
  assert.equal((await getDomainConfig(h.id, d.id)).ldap.url, 'ldap://other/');

  assert.equal((await call('DELETE', `${base}/identity/driver`)).status, 204);
  assert.equal((await call('GET', `${base}/identity/driver`)).status, 404);
  assert.equal((await call('DELETE', `${base}/identity/driver`)).status, 404);
  assert.equal((await call('DELETE', `${base}/identity`)).status, 204);
  assert.equal((await call('GET', `${base}/identity`)).status, 404);
  assert.equal((await call('DELETE', base)).status, 204);
  assert.equal((await call('GET', base)).status, 404);
  assert.deepEqual(await getDomainConfig(h.id, d.id), {});

  assert.equal((await call('PUT', base, { config: { ldap: { bogus: 1 } } })).status, 403);
  assert.equal((await call('PUT', '/v3/domains/nope/config', { config: cfg })).status, 404);
  assert.equal((await call('PUT', base, { config: cfg }, member)).status, 403);
});

test('domain configuration defaults and security compliance', async () => {
  const all = await call('GET', '/v3/domains/config/default');
  assert.equal(all.status, 200);
  assert.equal(all.body.config.identity.driver, 'sql');
  assert.equal(all.body.config.ldap.url, 'ldap://localhost');
  assert.ok(!('password' in all.body.config.ldap));
  assert.deepEqual(Object.keys((await call('GET', '/v3/domains/config/identity/default')).body.config), ['identity']);
  assert.deepEqual((await call('GET', '/v3/domains/config/ldap/user_tree_dn/default')).body.config, { user_tree_dn: null });
  assert.equal((await call('GET', '/v3/domains/config/ldap/password/default')).status, 403);
  assert.equal((await call('GET', '/v3/domains/config/default', undefined, member)).status, 403);

  const sc = await call('GET', '/v3/domains/default/config/security_compliance', undefined, member);
  assert.equal(sc.status, 200);
  assert.deepEqual(sc.body.config, { security_compliance: { password_regex: '^.{8,}$', password_regex_description: 'eight or more' } });
  const one = await call('GET', '/v3/domains/default/config/security_compliance/password_regex_description', undefined, member);
  assert.deepEqual(one.body.config, { password_regex_description: 'eight or more' });
  assert.equal((await call('GET', '/v3/domains/default/config/security_compliance/lockout_duration', undefined, member)).status, 403);
  assert.equal((await call('PATCH', '/v3/domains/default/config/security_compliance', { config: { security_compliance: { password_regex: 'x' } } })).status, 403);
});
