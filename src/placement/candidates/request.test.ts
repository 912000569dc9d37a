import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fault } from '../../platform/http/faults.js';
import { parseCandidateQuery } from './request.js';

const refused = (f: () => unknown, re: RegExp, code?: string) => assert.throws(f, (e: unknown) => e instanceof Fault && e.status === 400 && re.test(e.message) && (code === undefined || e.kind === code));

test('request groups: the unsuffixed group spans a tree, suffixed groups are granular', () => {
  const q = parseCandidateQuery({ resources: 'VCPU:1', required: 'HW_CPU_X86_AVX', resources_NET: 'SRIOV_NET_VF:1', required_NET: 'CUSTOM_PHYSNET1', group_policy: 'isolate', limit: '5' }, 39);
  assert.equal(q.limit, 5);
  assert.equal(q.groupPolicy, 'isolate');
  assert.equal(q.groups.get('')!.useSameProvider, false);
  assert.equal(q.groups.get('_NET')!.useSameProvider, true);
  assert.deepEqual([...q.groups.get('_NET')!.resources], [['SRIOV_NET_VF', 1]]);
});

test('per-microversion rules: suffix shapes, group_policy, orphans, resourceless groups, root_required, same_subtree', () => {
  refused(() => parseCandidateQuery({ resources_NET: 'VCPU:1' }, 32), /does not match any of the regexes/);
  refused(() => parseCandidateQuery({ resources1: 'VCPU:1' }, 24), /'resources' is a required property|Additional properties/);
  refused(() => parseCandidateQuery({ resources1: 'VCPU:1', resources2: 'VCPU:1' }, 25), /"group_policy" parameter is required/);
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', required1: 'X' }, 30), /orphaned traits keys: required1/);
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', required1: 'X' }, 36), /Resourceless suffixed group request should be specified in `same_subtree`/, 'placement.query.bad_value');
  refused(() => parseCandidateQuery({ required: 'X' }, 36), /There must be at least one resources/, 'placement.query.missing_value');
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', same_subtree: '_A,_B' }, 36), /Real suffixes should be specified/);
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', root_required: ['A', 'B'] }, 35), /may be specified only once/, 'placement.query.duplicate_key');
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', root_required: 'A,!A' }, 35), /Conflicting required and forbidden traits found in root_required/);
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', root_required: 'A' }, 34), /'root_required'/);
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', limit: '0' }, 16), /does not match/);
  refused(() => parseCandidateQuery({ resources: 'VCPU:1', required: 'A,!A' }, 22), /Conflicting required and forbidden traits found in the following traits keys: required: \(A\)/);
  const ok = parseCandidateQuery({ resources_VF: 'SRIOV_NET_VF:1', required_NIC: 'CUSTOM_NIC', same_subtree: '_VF,_NIC', group_policy: 'none' }, 36);
  assert.equal(ok.groups.get('_NIC')!.resources.size, 0);
  assert.deepEqual(ok.sameSubtrees!.map((s) => [...s]), [['_VF', '_NIC']]);
});
