import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTokenBody, parseKeystoneTime } from './token-body.js';
import { policyCreds } from './request-context.js';
import { InvalidTokenError } from './errors.js';

const projectBody = {
  token: {
    methods: ['password'],
    user: { id: 'u1', name: 'alice', domain: { id: 'default', name: 'Default' }, password_expires_at: null },
    audit_ids: ['aud1'],
    expires_at: '2030-01-01T10:00:00.000000Z',
    issued_at: '2030-01-01T09:00:00.000000Z',
    project: { id: 'p1', name: 'demo', domain: { id: 'default', name: 'Default' } },
    is_domain: false,
    roles: [{ id: 'r1', name: 'Member' }, { id: 'r2', name: 'admin' }],
    catalog: [{ id: 's1', type: 'identity', name: 'keystone', endpoints: [{ id: 'e1', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'http://x/v3' }] }],
    'OS-TRUST:trust': { id: 't1', impersonation: false, trustor_user: { id: 'u0' }, trustee_user: { id: 'u1' } },
  },
};

test('a project-scoped Keystone token body', () => {
  const v = parseTokenBody(projectBody, 'tok');
  assert.equal(v.token, 'tok');
  assert.equal(v.userId, 'u1');
  assert.equal(v.userName, 'alice');
  assert.equal(v.userDomainName, 'Default');
  assert.equal(v.projectId, 'p1');
  assert.equal(v.projectName, 'demo');
  assert.equal(v.projectDomainId, 'default');
  assert.equal(v.domainId, undefined);
  assert.equal(v.systemScope, undefined);
  assert.deepEqual(v.roles, ['member', 'admin']);
  assert.deepEqual(v.roleIds, ['r1', 'r2']);
  assert.equal(v.isAdmin, true);
  assert.equal(v.isAdminProject, true);
  assert.equal(v.expiresAt.toISOString(), '2030-01-01T10:00:00.000Z');
  assert.equal(v.issuedAt?.toISOString(), '2030-01-01T09:00:00.000Z');
  assert.equal(v.trustId, 't1');
  assert.equal(v.serviceCatalog?.[0].endpoints[0].url, 'http://x/v3');
  assert.deepEqual(policyCreds(v), {
    user_id: 'u1', user_domain_id: 'default', project_id: 'p1', project_domain_id: 'default', domain_id: null,
    system_scope: null, roles: ['member', 'admin'], is_admin_project: true, is_admin: true,
  });
});

test('system, domain and application credential tokens', () => {
  const base = { user: { id: 'u', name: 'n', domain: { id: 'd', name: 'D' } }, expires_at: '2030-01-01T00:00:00Z', roles: [{ id: 'r', name: 'reader' }] };
  const sys = parseTokenBody({ token: { ...base, system: { all: true } } }, 't');
  assert.equal(sys.systemScope, 'all');
  assert.equal(policyCreds(sys).system_scope, 'all');
  assert.equal(sys.isAdmin, false);
  const dom = parseTokenBody({ token: { ...base, domain: { id: 'd2', name: 'D2' }, is_admin_project: false } }, 't');
  assert.equal(dom.domainId, 'd2');
  assert.equal(dom.isAdminProject, false);
  assert.equal(policyCreds(dom).domain_id, 'd2');
  const ac = parseTokenBody({ token: { ...base, application_credential: { id: 'ac1', name: 'x', restricted: true, access_rules: [{ id: 'ar', service: 'compute', method: 'GET', path: '/v2.1/servers' }] } } }, 't');
  assert.equal(ac.appCredId, 'ac1');
  assert.deepEqual(ac.accessRules, [{ service: 'compute', method: 'GET', path: '/v2.1/servers', id: 'ar' }]);
});

test('bodies that describe no usable token are invalid', () => {
  assert.throws(() => parseTokenBody(undefined, 't'), InvalidTokenError);
  assert.throws(() => parseTokenBody({ token: { user: { id: 'u' } } }, 't'), /expires_at/);
  assert.throws(() => parseTokenBody({ token: { expires_at: '2030-01-01T00:00:00Z', user: {} } }, 't'), /user id/);
});

test('Keystone times without a zone are UTC', () => {
  assert.equal(parseKeystoneTime('2030-01-01T00:00:00.000000')?.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.equal(parseKeystoneTime('2030-01-01T02:00:00+02:00')?.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.equal(parseKeystoneTime('nope'), undefined);
});
