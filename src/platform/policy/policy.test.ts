import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Enforcer,
  PolicyFileError,
  PolicyNotAuthorizedError,
  PolicyParseError,
  evaluate,
  lookupKey,
  parsePolicyDocument,
  parseRule,
  pythonLiteralText,
  pythonStr,
  substituteTarget,
} from './index.js';
import type { PolicyCredentials, PolicyTarget } from './index.js';

const admin: PolicyCredentials = {
  user_id: 'u1',
  project_id: 'p1',
  domain_id: null,
  roles: ['Admin', 'member'],
  is_admin: false,
  is_admin_project: true,
  token: { project: { id: 'p1', domain: { id: 'd1' } }, roles: [{ name: 'admin' }, { name: 'member' }] },
};
const member: PolicyCredentials = { user_id: 'u2', project_id: 'p1', roles: ['member'] };

function check(rule: string, target: PolicyTarget = {}, creds: PolicyCredentials = admin): boolean {
  return evaluate(parseRule(rule), target, creds);
}

test('special checks: @, !, empty string, word without colon', () => {
  assert.equal(check('@'), true);
  assert.equal(check('!'), false);
  assert.equal(check(''), true);
  assert.equal(check('   '), true);
  assert.equal(check('bogus'), false);
  assert.equal(check('not bogus'), true);
});

test('role checks compare case-insensitively and substitute from the target', () => {
  assert.equal(check('role:admin'), true);
  assert.equal(check('role:ADMIN'), true);
  assert.equal(check('role:reader'), false);
  assert.equal(check('role:admin', {}, member), false);
  assert.equal(check('role:%(r)s', { r: 'MEMBER' }), true);
  assert.equal(check('role:%(r)s', {}), false);
  assert.equal(check('role:admin', {}, { user_id: 'x' }), false);
});

test('generic checks substitute from the target; a missing key is false, not an error', () => {
  assert.equal(check('project_id:%(project_id)s', { project_id: 'p1' }), true);
  assert.equal(check('project_id:%(project_id)s', { project_id: 'p2' }), false);
  assert.equal(check('project_id:%(project_id)s', {}), false);
  assert.equal(check('not project_id:%(project_id)s', {}), true);
  assert.equal(check('nosuchcred:%(project_id)s', { project_id: 'p1' }), false);
  assert.equal(check('project_id:p1'), true);
  assert.equal(check('user_id:pre-%(id)s-post', { id: 'x' }, { user_id: 'pre-x-post' }), true);
  assert.equal(check('user_id:100%%', {}, { user_id: '100%' }), true);
  assert.equal(check('user_id:100%', {}, { user_id: '100%' }), false);
});

test('dotted target keys resolve flat keys and nested objects alike', () => {
  assert.equal(check('user_id:%(target.user.id)s', { 'target.user.id': 'u1' }), true);
  assert.equal(check('user_id:%(target.user.id)s', { target: { user: { id: 'u1' } } }), true);
  assert.equal(check('user_id:%(target.user.id)s', { 'target.user': { id: 'u1' } }), true);
  assert.equal(check('user_id:%(target.user.id)s', { target: { user: { id: 'other' } } }), false);
  assert.equal(check('user_id:%(target.user.id)s', { target: { user: {} } }), false);
  assert.equal(check('user_id:%(target.user.id)s', { target: 'u1' }), false);
  assert.equal(
    check('domain_id:%(target.domain.id)s', { target: { domain: { id: 'd9' } } }, { domain_id: 'd9', roles: [] }),
    true,
  );
  assert.equal(lookupKey({ a: { 'b.c': 1 } }, 'a.b.c'), 1);
  assert.equal(lookupKey({ a: { b: null } }, 'a.b'), null);
  assert.equal(lookupKey({ a: { b: undefined } }, 'a.b'), undefined);
});

test('dotted credential keys walk nested credentials and fan out over lists', () => {
  assert.equal(check('token.project.domain.id:%(target.domain.id)s', { 'target.domain.id': 'd1' }), true);
  assert.equal(check('token.project.domain.id:%(target.domain.id)s', { 'target.domain.id': 'd2' }), false);
  assert.equal(check('token.roles.name:admin'), true);
  assert.equal(check('token.roles.name:reader'), false);
  assert.equal(check('token.is_admin_project:True', {}, { token: { is_admin_project: true } }), true);
  assert.equal(check('token.is_admin_project:True', {}, { token: { is_admin_project: false } }), false);
  assert.equal(check('token.is_admin_project:True', {}, { 'token.is_admin_project': true }), true);
  assert.equal(check('roles:member'), true);
  assert.equal(check('token.project.id.deeper:x'), false);
});

test('values compare in Python str() form: True, None, numbers', () => {
  assert.equal(check('is_admin_project:True'), true);
  assert.equal(check('is_admin_project:true'), false);
  assert.equal(check('is_admin:False'), true);
  assert.equal(check('is_admin:1', {}, { is_admin: true }), false);
  assert.equal(check('domain_id:None'), true);
  assert.equal(check('domain_id:%(d)s', { d: null }), true);
  assert.equal(check('count:3', {}, { count: 3 }), true);
  assert.equal(check('ratio:0.5', {}, { ratio: 0.5 }), true);
  assert.equal(pythonStr(1e16), '10000000000000000');
  assert.equal(pythonStr(1.5e16), '15000000000000000');
  assert.equal(pythonStr(0.0001), '0.0001');
  assert.equal(pythonStr(0.00001), '1e-05');
  assert.equal(pythonStr(['a', "b'c"]), `['a', "b'c"]`);
  assert.equal(pythonStr({ k: true }), `{'k': True}`);
});

test('literal left sides compare the literal with the substituted right side', () => {
  assert.equal(check('True:%(enabled)s', { enabled: true }), true);
  assert.equal(check('True:%(enabled)s', { enabled: false }), false);
  assert.equal(check("'Member':%(role.name)s", { 'role.name': 'Member' }), true);
  assert.equal(check('"Member":%(role.name)s', { role: { name: 'member' } }), false);
  assert.equal(check('None:%(target.role.domain_id)s', { 'target.role.domain_id': null }), true);
  assert.equal(check('None:%(target.role.domain_id)s', { 'target.role.domain_id': 'd1' }), false);
  assert.equal(check('None:%(target.role.domain_id)s', {}), false);
  assert.equal(check('1:%(n)s', { n: 1 }), true);
  assert.equal(check('1.0:%(n)s', { n: '1.0' }), true);
  assert.equal(pythonLiteralText('01'), undefined);
  assert.equal(pythonLiteralText("'a'b'"), undefined);
  assert.equal(pythonLiteralText('1e3'), '1000.0');
  assert.equal(pythonLiteralText('is_admin'), undefined);
});

test('system_scope:all and its oslo alias system:all', () => {
  const system: PolicyCredentials = { user_id: 'u', system_scope: 'all', roles: ['reader'] };
  assert.equal(check('role:reader and system_scope:all', {}, system), true);
  assert.equal(check('role:reader and system_scope:all', {}, member), false);
  const enforcer = new Enforcer({ a: 'system:all' });
  assert.equal(enforcer.enforce('a', {}, system), true);
  assert.equal(enforcer.enforce('a', {}, member), false);
});

test('precedence is not > and > or, and parentheses group', () => {
  // With T/F atoms: "@ or ! and !" is @ or (! and !) = true; left-to-right would be false.
  assert.equal(check('@ or ! and !'), true);
  assert.equal(check('! and ! or @'), true);
  assert.equal(check('(@ or !) and !'), false);
  assert.equal(check('not @ or @'), true);
  assert.equal(check('not (@ or @)'), false);
  assert.equal(check('not @ and @'), false);
  assert.equal(check('@ and not !'), true);
  assert.equal(check('not not @'), true);
  assert.equal(check('((@))'), true);
  assert.equal(check('@ AND ! Or @'), true);
  assert.equal(check('(role:admin or role:x) and project_id:%(project_id)s', { project_id: 'p1' }), true);
  assert.deepEqual(parseRule('a:1 or b:2 and not c:3'), {
    kind: 'or',
    operands: [
      { kind: 'generic', left: { type: 'path', path: 'a' }, match: '1' },
      {
        kind: 'and',
        operands: [
          { kind: 'generic', left: { type: 'path', path: 'b' }, match: '2' },
          { kind: 'not', operand: { kind: 'generic', left: { type: 'path', path: 'c' }, match: '3' } },
        ],
      },
    ],
  });
});

test('malformed rules raise PolicyParseError from the parser and deny in the enforcer', () => {
  for (const bad of ['(role:a or role:b)and @', 'role:a and', 'or role:a', '(role:a', 'role:a)', 'role:a role:b', "'quoted'", '()', 'not']) {
    assert.throws(() => parseRule(bad), PolicyParseError, bad);
  }
  const enforcer = new Enforcer({ broken: 'role:admin and', fine: '@' });
  assert.equal(enforcer.enforce('broken', {}, admin), false);
  assert.equal(enforcer.enforce('fine', {}, admin), true);
  assert.deepEqual([...enforcer.invalidRules.keys()], ['broken']);
  assert.equal(enforcer.check('role:admin or', {}, admin), false);
  assert.equal(enforcer.check('role:admin', {}, admin), true);
});

test('legacy list-of-lists format: outer or, inner and', () => {
  assert.equal(evaluate(parseRule([]), {}, member), true);
  assert.equal(evaluate(parseRule([[]]), {}, member), false);
  assert.equal(evaluate(parseRule([['role:admin'], ['role:member', 'project_id:%(project_id)s']]), { project_id: 'p1' }, member), true);
  assert.equal(evaluate(parseRule([['role:admin'], ['role:member', 'project_id:%(project_id)s']]), { project_id: 'p2' }, member), false);
  assert.equal(evaluate(parseRule(['role:member']), {}, member), true);
  const enforcer = new Enforcer({ a: [['rule:b']], b: 'role:member' });
  assert.equal(enforcer.enforce('a', {}, member), true);
});

test('rule: references, unknown names and the default rule', () => {
  const rules = { admin_required: 'role:admin', owner: 'user_id:%(user_id)s', admin_or_owner: 'rule:admin_required or rule:owner' };
  const enforcer = new Enforcer(rules);
  assert.equal(enforcer.enforce('admin_or_owner', { user_id: 'nobody' }, admin), true);
  assert.equal(enforcer.enforce('admin_or_owner', { user_id: 'u2' }, member), true);
  assert.equal(enforcer.enforce('admin_or_owner', { user_id: 'u1' }, member), false);
  assert.equal(enforcer.enforce('no_such_rule', {}, admin), false);
  assert.equal(enforcer.check('rule:no_such_rule', {}, admin), false);

  const withDefault = new Enforcer({ ...rules, default: 'rule:admin_required' });
  assert.equal(withDefault.enforce('no_such_rule', {}, admin), true);
  assert.equal(withDefault.enforce('no_such_rule', {}, member), false);
  assert.equal(withDefault.check('rule:no_such_rule', {}, admin), true, 'oslo resolves unknown rule: references via default too');

  const custom = new Enforcer({ fallback: '@' }, { defaultRule: 'fallback' });
  assert.equal(custom.enforce('anything', {}, member), true);
});

test('defaults given as documented rule objects; duplicates are rejected', () => {
  const enforcer = new Enforcer([
    { name: 'a', check: 'role:member', description: 'members' },
    { name: 'b', check: 'rule:a and project_id:%(project_id)s' },
  ]);
  assert.equal(enforcer.enforce('b', { project_id: 'p1' }, member), true);
  assert.deepEqual(enforcer.ruleNames(), ['a', 'b']);
  assert.equal(enforcer.ruleSource('a'), 'role:member');
  assert.throws(() => new Enforcer([{ name: 'a', check: '@' }, { name: 'a', check: '!' }]));
});

test('cycles in rule: references deny instead of hanging', () => {
  const enforcer = new Enforcer({
    self: 'rule:self',
    a: 'rule:b',
    b: 'role:admin and rule:c',
    c: 'rule:a',
    negated: 'not rule:a',
    escape: '@ or rule:a',
    default: 'rule:default',
  });
  assert.equal(enforcer.enforce('self', {}, admin), false);
  assert.equal(enforcer.enforce('a', {}, admin), false);
  assert.equal(enforcer.enforce('negated', {}, admin), false, 'a cycle under not still denies');
  assert.equal(enforcer.enforce('escape', {}, admin), true, 'short-circuit never reaches the cycle');
  assert.equal(enforcer.enforce('unknown', {}, admin), false, 'default rule pointing at itself');
  const viaDefault = new Enforcer({ default: 'rule:missing' });
  assert.equal(viaDefault.enforce('x', {}, admin), false);
});

test('authorize throws the given error, or PolicyNotAuthorizedError', () => {
  const enforcer = new Enforcer({ a: 'role:admin' });
  enforcer.authorize('a', {}, admin);
  assert.throws(() => enforcer.authorize('a', {}, member), PolicyNotAuthorizedError);
  class Forbidden extends Error {}
  assert.throws(
    () => enforcer.authorize('a', {}, member, (rule) => new Forbidden(`no ${rule}`)),
    (err: unknown) => err instanceof Forbidden && err.message === 'no a',
  );
});

test('policy file overrides replace defaults (YAML and JSON), others are kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-policy-'));
  try {
    const defaults = { admin_required: 'role:admin', 'svc:get': 'rule:admin_required', 'svc:list': '@' };
    const yamlPath = join(dir, 'policy.yaml');
    writeFileSync(yamlPath, '# operator policy\n"svc:get": "role:member"\n"svc:new": "!"\n"svc:legacy": [["role:member"]]\n');
    const enforcer = new Enforcer(defaults, { policyFile: yamlPath });
    assert.equal(enforcer.enforce('svc:get', {}, member), true);
    assert.equal(enforcer.enforce('svc:get', {}, { roles: ['admin'] }), false, 'the override replaces, not ORs');
    assert.equal(enforcer.enforce('svc:list', {}, member), true);
    assert.equal(enforcer.enforce('svc:new', {}, admin), false);
    assert.equal(enforcer.enforce('svc:legacy', {}, member), true);

    const jsonPath = join(dir, 'policy.json');
    writeFileSync(jsonPath, JSON.stringify({ 'svc:list': 'role:admin' }));
    enforcer.loadPolicyFile(jsonPath);
    assert.equal(enforcer.enforce('svc:list', {}, member), false);
    assert.equal(enforcer.enforce('svc:get', {}, member), false, 'loading a new file drops earlier overrides');

    const inline = new Enforcer(defaults, { overrides: { 'svc:get': '@' }, policyFile: jsonPath });
    assert.equal(inline.enforce('svc:get', {}, member), true);
    assert.equal(inline.enforce('svc:list', {}, member), false);

    writeFileSync(join(dir, 'bad.yaml'), '"svc:get": {nested: true}\n');
    assert.throws(() => new Enforcer(defaults, { policyFile: join(dir, 'bad.yaml') }), PolicyFileError);
    assert.throws(() => new Enforcer(defaults, { policyFile: join(dir, 'absent.yaml') }), PolicyFileError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parsePolicyDocument accepts empty documents and rejects non-mappings', () => {
  assert.deepEqual(parsePolicyDocument(''), {});
  assert.deepEqual(parsePolicyDocument('# only a comment\n'), {});
  assert.deepEqual(parsePolicyDocument('{"a": "@"}'), { a: '@' });
  assert.deepEqual(parsePolicyDocument('a: role:admin or role:x\n'), { a: 'role:admin or role:x' });
  assert.throws(() => parsePolicyDocument('- a\n- b\n'), PolicyFileError);
  assert.throws(() => parsePolicyDocument('a: [\n'), PolicyFileError);
  assert.throws(() => parsePolicyDocument('a: 3\n'), PolicyFileError);
});

test('substituteTarget renders values like Python and reports missing keys', () => {
  assert.equal(substituteTarget('%(a)s/%(b)s', { a: true, b: null }), 'True/None');
  assert.equal(substituteTarget('%(a)s', {}), undefined);
  assert.equal(substituteTarget('%(a)d', { a: 1 }), undefined);
  assert.equal(substituteTarget('plain', {}), 'plain');
});
