import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userRegExp } from './user-regexp.js';

test('a catastrophic pattern runs in linear time (on the backtracking engine this input takes ~2^50 steps)', { timeout: 10_000 }, () => {
  const re = userRegExp('^(a+)+$');
  assert.ok(re instanceof RegExp);
  assert.equal(re.test(`${'a'.repeat(50)}!`), false);
  assert.equal(re.test('a'.repeat(100_000)), true);
});

test('ordinary filters match as Nova\'s (a search, not anchored)', () => {
  const re = userRegExp('vm-[0-9]+');
  assert.ok(re instanceof RegExp);
  assert.deepEqual(['my-vm-12', 'vm-x', 'VM-1'].map((s) => re.test(s)), [true, false, false]);
});

test('patterns that need backtracking, and invalid ones, come back with the reason', () => {
  for (const p of ['(a)\\1', '(?=a)a', 'a{5000}']) assert.match((userRegExp(p) as { error: string }).error, /linear time/, p);
  assert.deepEqual(userRegExp('(unclosed'), { error: 'not a valid regular expression' });
});
