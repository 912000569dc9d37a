import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MISC_SHARES_VIA_AGGREGATE, STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS } from './standard.js';

test('the standard names: os-resource-classes 1.x and os-traits (all valid, no custom, no duplicates)', () => {
  assert.equal(STANDARD_RESOURCE_CLASSES.length, 21);
  assert.deepEqual(STANDARD_RESOURCE_CLASSES.slice(0, 3), ['VCPU', 'MEMORY_MB', 'DISK_GB']);
  assert.equal(STANDARD_TRAITS.length, 377);
  assert.equal(new Set(STANDARD_TRAITS).size, STANDARD_TRAITS.length);
  for (const n of [...STANDARD_RESOURCE_CLASSES, ...STANDARD_TRAITS]) assert.match(n, /^(?!CUSTOM_)[A-Z0-9_]+$/);
  for (const t of ['COMPUTE_ARCH_X86_64', 'HW_CPU_X86_AVX2', 'HW_CPU_X86_VMX', 'COMPUTE_STATUS_DISABLED', 'COMPUTE_IMAGE_TYPE_QCOW2', 'HW_NUMA_ROOT', MISC_SHARES_VIA_AGGREGATE]) {
    assert.ok(STANDARD_TRAITS.includes(t), t);
  }
});
