/**
 * CPU feature traits (os-traits HW_CPU_X86_*) from Linux CPU flag names, as a compute host
 * reports them to placement: the host's own flags when guests run with `-cpu host` (KVM), the
 * qemu64 model's baseline under TCG (guests do not see the host's features there).
 */
import { readFileSync } from 'node:fs';

/** Linux /proc/cpuinfo flag → trait suffix after HW_CPU_X86_. */
const FLAG_TRAITS: Readonly<Record<string, string>> = {
  mmx: 'MMX', sse: 'SSE', sse2: 'SSE2', pni: 'SSE3', ssse3: 'SSSE3', sse4_1: 'SSE41', sse4_2: 'SSE42', sse4a: 'SSE4A',
  avx: 'AVX', avx2: 'AVX2', fma: 'FMA3', fma4: 'FMA4', f16c: 'F16C', aes: 'AESNI', pclmulqdq: 'CLMUL', sha_ni: 'SHA',
  bmi1: 'BMI', bmi2: 'BMI2', abm: 'ABM', tbm: 'TBM', xop: 'XOP', '3dnow': '3DNOW', mpx: 'MPX', sgx: 'SGX', rtm: 'TSX',
  vmx: 'VMX', svm: 'SVM', pdpe1gb: 'PDPE1GB', stibp: 'STIBP', pcid: 'INTEL_PCID', md_clear: 'INTEL_MD_CLEAR',
  avx512f: 'AVX512F', avx512cd: 'AVX512CD', avx512pf: 'AVX512PF', avx512er: 'AVX512ER', avx512vl: 'AVX512VL',
  avx512bw: 'AVX512BW', avx512dq: 'AVX512DQ', avx512_vnni: 'AVX512VNNI', avx512vbmi: 'AVX512VBMI', avx512ifma: 'AVX512IFMA',
  avx512_vbmi2: 'AVX512VBMI2', avx512_bitalg: 'AVX512BITALG', avx512_vpopcntdq: 'AVX512VPOPCNTDQ', gfni: 'AVX512GFNI',
  vaes: 'AVX512VAES', vpclmulqdq: 'AVX512VPCLMULQDQ', amx_bf16: 'AMXBF16', amx_int8: 'AMXINT8', amx_tile: 'AMXTILE',
};

/** Flags of QEMU's default qemu64 CPU model that have traits (what a TCG guest sees for sure). */
export const QEMU64_FLAGS: readonly string[] = ['mmx', 'sse', 'sse2', 'pni'];

/** HW_CPU_X86_* traits of the flags (unknown flags are ignored), sorted. */
export function cpuTraits(flags: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const f of flags) {
    const t = FLAG_TRAITS[f.toLowerCase()];
    if (t) out.add(`HW_CPU_X86_${t}`);
  }
  return [...out].sort();
}

let hostFlags: string[] | undefined;

/** This machine's CPU flags from /proc/cpuinfo (read once; [] where there is none). */
export function hostCpuFlags(): string[] {
  if (hostFlags) return hostFlags;
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    hostFlags = m ? m[1]!.trim().split(/\s+/) : [];
  } catch {
    hostFlags = [];
  }
  return hostFlags;
}
