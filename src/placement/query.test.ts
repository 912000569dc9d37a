import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fault } from '../platform/http/faults.js';
import { parseInTree, parseMemberOfParams, parseResources, parseTraitsParams } from './query.js';

const refused = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof Fault && e.status === 400 && re.test(e.message));
const U1 = '8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7df4';
const U2 = '1b2c5f56-2d4b-4f1a-8f5e-5b7f0a0a0a0a';

test('resources: CLASS:N pairs, amounts at least 1', () => {
  assert.deepEqual([...parseResources('VCPU:2,MEMORY_MB:1024')], [['VCPU', 2], ['MEMORY_MB', 1024]]);
  refused(() => parseResources(''), /Got: empty string/);
  refused(() => parseResources('VCPU'), /Badly formed resources parameter/);
  refused(() => parseResources('VCPU:x'), /expected positive integer amount/);
  refused(() => parseResources('VCPU:0'), /requires amount >= 1/);
});

test('required: forbidden traits from 1.22, any-of and repeats from 1.39 (before, the last value wins)', () => {
  const e = parseTraitsParams({ required: ['A,!B', 'in:C,D'] }, 'required', 39);
  assert.deepEqual(e.required.map((s) => [...s]), [['A'], ['C', 'D']]);
  assert.deepEqual([...e.forbidden], ['B']);
  assert.deepEqual(parseTraitsParams({ required: ['A', 'B'] }, 'required', 38).required.map((s) => [...s]), [['B']]);
  refused(() => parseTraitsParams({ required: 'A,!B' }, 'required', 21), /Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC/);
  refused(() => parseTraitsParams({ required: 'in:A,B' }, 'required', 38), /only supported since microversion 1\.39/);
  refused(() => parseTraitsParams({ required: 'in:A,!B' }, 'required', 39), /does not support forbidden traits/);
  refused(() => parseTraitsParams({ required: 'A,,B' }, 'required', 39), /Got an empty trait/);
});

test('member_of: uuid, in: list, forbidden ! and !in: (1.32), several only from 1.24', () => {
  const e = parseMemberOfParams({ member_of: [`in:${U1},${U2}`, `!${U2}`] }, 'member_of', 32);
  assert.deepEqual(e.memberOf.map((s) => [...s]), [[U1, U2]]);
  assert.deepEqual([...e.forbidden], [U2]);
  refused(() => parseMemberOfParams({ member_of: [U1, U2] }, 'member_of', 23), /Multiple member_of parameters are not supported/);
  refused(() => parseMemberOfParams({ member_of: `!${U1}` }, 'member_of', 31), /Forbidden member_of parameters are not supported/);
  refused(() => parseMemberOfParams({ member_of: `${U1},${U2}` }, 'member_of', 39), /must be prefixed with the 'in:' or '!in:' keyword/);
  refused(() => parseMemberOfParams({ member_of: 'in:x' }, 'member_of', 39), /valid UUID/);
  assert.equal(parseInTree(` ${U1.toUpperCase()} `), U1);
  refused(() => parseInTree('x'), /'in_tree' parameter to be a format of uuid/);
});
