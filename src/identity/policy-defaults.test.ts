import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Enforcer } from '../platform/policy/index.js';
import type { PolicyCredentials } from '../platform/policy/index.js';
import { buildIdentityPolicyDefaults, identityPolicyDefaults, keystonePolicyRules } from './policy-defaults.js';

// Keystone's implied roles (admin => member => reader) are expanded in tokens.
const projectAdmin: PolicyCredentials = {
  user_id: 'u-admin',
  user_domain_id: 'default',
  project_id: 'p-admin',
  project_domain_id: 'default',
  domain_id: null,
  roles: ['admin', 'member', 'reader'],
  is_admin_project: true,
  token: { user: { id: 'u-admin', domain: { id: 'default' } }, project: { id: 'p-admin', domain: { id: 'default' } } },
};
const member: PolicyCredentials = {
  user_id: 'u-member',
  user_domain_id: 'default',
  project_id: 'p1',
  project_domain_id: 'default',
  domain_id: null,
  roles: ['member', 'reader'],
  token: { user: { id: 'u-member', domain: { id: 'default' } }, project: { id: 'p1', domain: { id: 'default' } } },
};
const domainAdmin: PolicyCredentials = {
  user_id: 'u-dadmin',
  user_domain_id: 'd1',
  domain_id: 'd1',
  roles: ['admin', 'member', 'reader'],
  token: { user: { id: 'u-dadmin', domain: { id: 'd1' } }, domain: { id: 'd1' } },
};
const domainReader: PolicyCredentials = {
  user_id: 'u-dreader',
  user_domain_id: 'd1',
  domain_id: 'd1',
  roles: ['reader'],
  token: { user: { id: 'u-dreader', domain: { id: 'd1' } }, domain: { id: 'd1' } },
};
const systemAdmin: PolicyCredentials = { user_id: 'u-sys', system_scope: 'all', domain_id: null, roles: ['admin', 'member', 'reader'] };
const systemReader: PolicyCredentials = { user_id: 'u-sysr', system_scope: 'all', domain_id: null, roles: ['reader'] };
const service: PolicyCredentials = { user_id: 'u-nova', project_id: 'p-svc', domain_id: null, roles: ['service'] };

const zed = new Enforcer(identityPolicyDefaults);

// Targets as Keystone builds them: URL args plus the flattened `target` dict.
function userTarget(id: string, domainId: string): Record<string, unknown> {
  return { user_id: id, 'target.user.id': id, 'target.user.domain_id': domainId };
}

test('every Keystone rule is present and parses', () => {
  assert.equal(Object.keys(identityPolicyDefaults).length, 200);
  assert.equal(zed.invalidRules.size, 0);
  for (const name of [
    'identity:get_user',
    'identity:list_users',
    'identity:create_project',
    'identity:list_role_assignments',
    'identity:create_trust',
    'identity:get_application_credential',
    'identity:ec2_create_credential',
    'identity:list_user_projects',
    'identity:check_token',
    'identity:validate_token',
    'identity:revocation_list',
    'admin_required',
  ]) {
    assert.ok(zed.hasRule(name), name);
  }
  assert.equal(identityPolicyDefaults.admin_required, 'role:admin or is_admin:1');
});

test('effective rule is the new default OR the deprecated one', () => {
  const rule = keystonePolicyRules['identity:create_user'];
  assert.equal(identityPolicyDefaults['identity:create_user'], `(${rule.check}) or (rule:admin_required)`);
  assert.equal(buildIdentityPolicyDefaults({ enforceNewDefaults: true })['identity:create_user'], rule.check);
  assert.equal(identityPolicyDefaults['identity:create_trust'], 'user_id:%(trust.trustor_user_id)s');
});

test('a project-scoped admin is a cloud admin; a member is not', () => {
  const target = { ...userTarget('new', 'other-domain'), 'user.domain_id': 'other-domain' };
  assert.equal(zed.enforce('identity:create_user', target, projectAdmin), true);
  assert.equal(zed.enforce('identity:create_user', target, member), false);
  assert.equal(zed.enforce('identity:list_users', {}, projectAdmin), true);
  assert.equal(zed.enforce('identity:list_users', {}, member), false);
  assert.equal(zed.enforce('identity:create_project', { 'target.project.domain_id': 'd2' }, projectAdmin), true);
  assert.equal(zed.enforce('identity:create_project', { 'target.project.domain_id': 'default' }, member), false);
  assert.equal(zed.enforce('identity:list_role_assignments', {}, projectAdmin), true);
  assert.equal(zed.enforce('identity:list_role_assignments', {}, member), false);
  assert.equal(zed.enforce('identity:create_service', {}, projectAdmin), true);
  assert.equal(zed.enforce('identity:create_service', {}, member), false);
});

test('users may read themselves and list their own projects', () => {
  const self = userTarget('u-member', 'default');
  const other = userTarget('u-other', 'default');
  assert.equal(zed.enforce('identity:get_user', self, member), true);
  assert.equal(zed.enforce('identity:get_user', other, member), false);
  assert.equal(zed.enforce('identity:list_user_projects', self, member), true);
  assert.equal(zed.enforce('identity:list_user_projects', other, member), false);
  // Nested targets work as well as Keystone's flattened ones.
  assert.equal(zed.enforce('identity:get_user', { target: { user: { id: 'u-member', domain_id: 'default' } } }, member), true);
  assert.equal(zed.enforce('identity:update_user', self, member), false);
});

test('system personas: readers read, admins write, project admins cannot touch limits', () => {
  assert.equal(zed.enforce('identity:list_users', {}, systemReader), true);
  assert.equal(zed.enforce('identity:get_user', userTarget('x', 'd9'), systemReader), true);
  assert.equal(zed.enforce('identity:create_user', userTarget('x', 'd9'), systemReader), false);
  assert.equal(zed.enforce('identity:create_user', userTarget('x', 'd9'), systemAdmin), true);
  // These never had a deprecated rule, so only a system admin passes even in Zed.
  assert.equal(zed.enforce('identity:create_limits', {}, systemAdmin), true);
  assert.equal(zed.enforce('identity:create_limits', {}, projectAdmin), false);
  assert.equal(zed.enforce('identity:create_registered_limits', {}, projectAdmin), false);
  assert.equal(zed.enforce('identity:list_limits', {}, member), true);
});

test('domain-scoped personas under the Zed effective defaults', () => {
  // role:admin satisfies rule:admin_required whatever the scope, so a domain admin is a cloud admin too.
  assert.equal(zed.enforce('identity:create_user', userTarget('x', 'd2'), domainAdmin), true);
  assert.equal(zed.enforce('identity:create_project', { 'target.project.domain_id': 'd2' }, domainAdmin), true);
  // A domain reader reads users of its own domain only.
  assert.equal(zed.enforce('identity:get_user', userTarget('x', 'd1'), domainReader), true);
  assert.equal(zed.enforce('identity:get_user', userTarget('x', 'd2'), domainReader), false);
  assert.equal(zed.enforce('identity:create_user', userTarget('x', 'd1'), domainReader), false);
  assert.equal(zed.enforce('identity:get_domain', { 'target.domain.id': 'd1' }, domainReader), true);
  assert.equal(zed.enforce('identity:get_domain', { 'target.domain.id': 'd2' }, domainReader), false);

  // With enforce_new_defaults the domain admin is confined to its domain.
  const strict = new Enforcer(buildIdentityPolicyDefaults({ enforceNewDefaults: true }));
  assert.equal(strict.enforce('identity:create_project', { 'target.project.domain_id': 'd1' }, domainAdmin), true);
  assert.equal(strict.enforce('identity:create_project', { 'target.project.domain_id': 'd2' }, domainAdmin), false);
  assert.equal(strict.enforce('identity:create_user', userTarget('x', 'd9'), projectAdmin), false);
});

test('token APIs: subject, service and admin', () => {
  const ownToken = { 'target.token.user_id': 'u-member' };
  const otherToken = { 'target.token.user_id': 'u-other' };
  for (const rule of ['identity:check_token', 'identity:validate_token', 'identity:revoke_token']) {
    assert.equal(zed.enforce(rule, ownToken, member), true, rule);
    assert.equal(zed.enforce(rule, otherToken, member), false, rule);
    assert.equal(zed.enforce(rule, otherToken, projectAdmin), true, rule);
  }
  assert.equal(zed.enforce('identity:validate_token', otherToken, service), true);
  assert.equal(zed.enforce('identity:revocation_list', {}, service), true);
  assert.equal(zed.enforce('identity:revocation_list', {}, member), false);
});

test('trusts, application credentials and EC2 credentials belong to their owner', () => {
  const asTrustor = { 'trust.trustor_user_id': 'u-member', 'trust.trustee_user_id': 'u-other' };
  assert.equal(zed.enforce('identity:create_trust', asTrustor, member), true);
  assert.equal(zed.enforce('identity:create_trust', asTrustor, projectAdmin), false);

  const ownCred = { user_id: 'u-member', 'target.user.id': 'u-member' };
  const otherCred = { user_id: 'u-other', 'target.user.id': 'u-other' };
  assert.equal(zed.enforce('identity:get_application_credential', ownCred, member), true);
  assert.equal(zed.enforce('identity:get_application_credential', otherCred, member), false);
  assert.equal(zed.enforce('identity:get_application_credential', otherCred, projectAdmin), true);
  assert.equal(zed.enforce('identity:ec2_create_credential', ownCred, member), true);
  assert.equal(zed.enforce('identity:ec2_create_credential', otherCred, member), false);
});
