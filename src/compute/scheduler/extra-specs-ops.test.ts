import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchExtraSpec } from './extra-specs-ops.js';

test('numeric operators: = is "at least", ==, !=, >=, <=; non-numbers never match', () => {
  assert.ok(matchExtraSpec('8', '= 4'));
  assert.ok(!matchExtraSpec('2', '= 4'));
  assert.ok(matchExtraSpec('4', '== 4.0'));
  assert.ok(!matchExtraSpec('5', '== 4'));
  assert.ok(matchExtraSpec('5', '!= 4'));
  assert.ok(matchExtraSpec('4', '>= 4') && !matchExtraSpec('3', '>= 4'));
  assert.ok(matchExtraSpec('3', '<= 4') && !matchExtraSpec('5', '<= 4'));
  assert.ok(!matchExtraSpec('abc', '>= 1'));
});

test('string operators, <in>, <all-in>, <or>, and plain equality', () => {
  assert.ok(matchExtraSpec('ssd', 's== ssd') && !matchExtraSpec('hdd', 's== ssd'));
  assert.ok(matchExtraSpec('hdd', 's!= ssd'));
  assert.ok(matchExtraSpec('b', 's> a') && matchExtraSpec('a', 's< b') && matchExtraSpec('a', 's<= a') && matchExtraSpec('b', 's>= a'));
  assert.ok(matchExtraSpec('gcc-12', '<in> gcc') && !matchExtraSpec('clang', '<in> gcc'));
  assert.ok(matchExtraSpec('aes mmx sse', '<all-in> aes mmx') && !matchExtraSpec('aes sse', '<all-in> aes mmx'));
  assert.ok(matchExtraSpec('gpu', '<or> fpu <or> gpu') && !matchExtraSpec('npu', '<or> fpu <or> gpu'));
  assert.ok(matchExtraSpec('true', 'true') && !matchExtraSpec('True', 'true'));
  assert.ok(!matchExtraSpec(undefined, '>= 1') && !matchExtraSpec(null, 's== x'));
  assert.ok(!matchExtraSpec('x', '<in>'), 'an operator without operand matches nothing');
});
