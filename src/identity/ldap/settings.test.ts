import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLdapConfig, ldapSettings } from './settings.js';

test('Keystone\'s [ldap] defaults apply to what the domain leaves out', () => {
  const s = ldapSettings({ identity: { driver: 'ldap' }, ldap: { suffix: 'dc=ex,dc=org' } });
  assert.deepEqual(s.urls, ['ldap://localhost']);
  assert.equal(s.bindDn, null);
  assert.equal(s.scope, 'one');
  assert.equal(s.useTls, false);
  assert.equal(s.user.treeDn, 'ou=Users,dc=ex,dc=org');
  assert.equal(s.user.objectClass, 'inetOrgPerson');
  assert.equal(s.user.idAttribute, 'cn');
  assert.equal(s.user.nameAttribute, 'sn');
  assert.equal(s.user.mailAttribute, 'mail');
  assert.equal(s.user.enabledAttribute, 'enabled');
  assert.equal(s.user.enabledDefault, 'True');
  assert.deepEqual(s.user.ignore, ['default_project_id']);
  assert.equal(s.user.enabledEmulationDn, 'cn=enabled_users,ou=Users,dc=ex,dc=org');
  assert.equal(s.group.treeDn, 'ou=UserGroups,dc=ex,dc=org');
  assert.equal(s.group.objectClass, 'groupOfNames');
  assert.equal(s.group.nameAttribute, 'ou');
  assert.equal(s.group.memberAttribute, 'member');
  assert.equal(s.group.membersAreIds, false);
});

test('options as the domain configuration API stores them (strings or JSON values)', () => {
  const s = ldapSettings({
    ldap: {
      url: 'ldap://a:389, ldap://b:389', user: 'cn=svc', password: 'pw', query_scope: 'sub', page_size: '50', use_tls: 'True',
      user_enabled_invert: true, user_enabled_mask: 2, user_attribute_ignore: 'enabled,email', group_members_are_ids: 'false',
      user_filter: '(mail=*)', alias_dereferencing: 'finding',
    },
  });
  assert.deepEqual(s.urls, ['ldap://a:389', 'ldap://b:389']);
  assert.equal(s.bindDn, 'cn=svc');
  assert.equal(s.bindPassword, 'pw');
  assert.equal(s.scope, 'sub');
  assert.equal(s.pageSize, 50);
  assert.equal(s.useTls, true);
  assert.equal(s.derefAliases, 'find');
  assert.equal(s.user.enabledInvert, true);
  assert.equal(s.user.enabledMask, 2);
  assert.deepEqual(s.user.ignore, ['enabled', 'email']);
  assert.equal(s.user.filter, '(mail=*)');
  assert.equal(s.group.membersAreIds, false);
  assert.equal(isLdapConfig({ identity: { driver: 'ldap' } }), true);
  assert.equal(isLdapConfig({ identity: { driver: 'sql' } }), false);
  assert.equal(isLdapConfig({}), false);
});
