import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuTraits, hostCpuFlags, QEMU64_FLAGS } from './cpu-traits.js';
import { traitsOf, inventoryOf } from './host-report.js';
import { loadConfig } from '../../platform/config/config.js';
import { STANDARD_TRAITS } from '../../placement/standard.js';

test('Linux CPU flags map to os-traits names; unknown flags are ignored', () => {
  assert.deepEqual(cpuTraits(['pni', 'sse4_2', 'avx2', 'aes', 'pclmulqdq', 'fancy_new_flag']),
    ['HW_CPU_X86_AESNI', 'HW_CPU_X86_AVX2', 'HW_CPU_X86_CLMUL', 'HW_CPU_X86_SSE3', 'HW_CPU_X86_SSE42']);
  assert.deepEqual(cpuTraits(QEMU64_FLAGS), ['HW_CPU_X86_MMX', 'HW_CPU_X86_SSE', 'HW_CPU_X86_SSE2', 'HW_CPU_X86_SSE3']);
});

test('every trait a host reports is a standard trait placement knows', () => {
  const all = new Set(STANDARD_TRAITS);
  const flags = [...hostCpuFlags(), 'avx512f', 'avx512_vnni', 'sha_ni', 'vmx', 'svm', 'amx_tile', 'rtm', 'md_clear', 'pcid', 'gfni', 'vaes'];
  const traits = traitsOf({ virtType: 'kvm', cpuInfo: { arch: 'x86_64', model: 'm', vendor: 'v' } }, { cpuFlags: flags, disabled: true });
  for (const t of traits) assert.ok(all.has(t), `${t} is not a standard trait`);
  assert.ok(traits.includes('COMPUTE_STATUS_DISABLED') && traits.includes('HW_ARCH_X86_64') && traits.includes('COMPUTE_NODE'));
  const tcg = traitsOf({ virtType: 'qemu', cpuInfo: { arch: 'x86_64', model: 'm', vendor: 'v' } });
  assert.ok(tcg.includes('HW_CPU_X86_SSE2') && !tcg.includes('HW_CPU_X86_AVX2') && !tcg.includes('COMPUTE_STATUS_DISABLED'), 'TCG guests see qemu64 features only');
});

test('inventory: ratios and reserved amounts from the config, reserved never above the total, empty classes left out', () => {
  const cfg = loadConfig({ file: '/dev/null', env: {}, overrides: { compute: { reserved_host_memory_mb: 512, reserved_host_disk_mb: 1500, cpu_allocation_ratio: 8, ram_allocation_ratio: 1.5 } } });
  const inv = inventoryOf({ vcpus: 4, memoryMb: 8192, localGb: 100 }, cfg);
  assert.deepEqual(inv.VCPU, { total: 4, reserved: 0, min_unit: 1, max_unit: 4, step_size: 1, allocation_ratio: 8 });
  assert.deepEqual(inv.MEMORY_MB, { total: 8192, reserved: 512, min_unit: 1, max_unit: 8192, step_size: 1, allocation_ratio: 1.5 });
  assert.equal(inv.DISK_GB!.reserved, 2, 'reserved_host_disk_mb rounded up to GiB');
  const tiny = inventoryOf({ vcpus: 1, memoryMb: 256, localGb: 0 }, cfg);
  assert.equal(tiny.MEMORY_MB!.reserved, 256);
  assert.equal(tiny.DISK_GB, undefined);
});
