import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeFilter, firstRdn, normalizeDn, wrapFilter } from './dn.js';
import { publicIdOf } from './id-mapping.js';

test('filter values are escaped as RFC 4515 asks', () => {
  assert.equal(escapeFilter('a*b(c)d\\e\0'), 'a\\2ab\\28c\\29d\\5ce\\00');
  assert.equal(escapeFilter('*)(uid=*'), '\\2a\\29\\28uid=\\2a');
  assert.equal(escapeFilter('plain name'), 'plain name');
});

test('configured filters get their parentheses', () => {
  assert.equal(wrapFilter('mail=*'), '(mail=*)');
  assert.equal(wrapFilter(' (|(a=1)(b=2)) '), '(|(a=1)(b=2))');
  assert.equal(wrapFilter(''), '');
});

test('the first RDN of a DN is split and unescaped', () => {
  assert.deepEqual(firstRdn('cn=alice,ou=Users,dc=x'), ['cn', 'alice']);
  assert.deepEqual(firstRdn('CN = Smith\\, John ,ou=Users'), ['CN', 'Smith, John']);
  assert.deepEqual(firstRdn('uid=j\\c3\\a9r\\c3\\b4me,dc=x'), ['uid', 'jérôme']);
  assert.equal(firstRdn('no-equals-sign'), undefined);
});

test('DNs compare without case or blanks around separators', () => {
  assert.equal(normalizeDn('CN=Alice, OU=Users ,dc=Nephos'), normalizeDn('cn=alice,ou=users,dc=nephos'));
  assert.notEqual(normalizeDn('cn=alice,ou=users'), normalizeDn('cn=bob,ou=users'));
});

test('public ids are Keystone\'s sha256 of domain_id, entity_type and local_id', () => {
  // Computed with keystone.identity.id_generators.sha256.Generator.
  assert.equal(publicIdOf('d1', 'alice', 'user'), '502ff5f0c85158c9ee6b9bc1e118e32ec0c91e39452f67738b36d8543d0551fc');
  assert.notEqual(publicIdOf('d1', 'alice', 'group'), publicIdOf('d1', 'alice', 'user'));
  assert.notEqual(publicIdOf('d2', 'alice', 'user'), publicIdOf('d1', 'alice', 'user'));
});
