/**
 * The host as a hypervisor: QEMU's version, whether KVM really works, and the capacity Nova's
 * os-hypervisors reports (CPUs, memory, the instances' file system).
 *
 * KVM: /dev/kvm existing is not enough (a container may show the node without access, a nested
 * host may lack VMX). Node cannot issue KVM_GET_API_VERSION, so the probe opens /dev/kvm read-write
 * and then starts QEMU itself with `-accel kvm -machine none` over QMP on stdin (no guest, no
 * firmware: it initialises the accelerator and quits, ~50 ms).
 */
import { cpus, totalmem, arch } from 'node:os';
import { open, statfs, readFile } from 'node:fs/promises';
import { exec, HostCommandError } from '../../../network/host/exec.js';
import { ComputeDriverError } from '../errors.js';
import type { VirtType } from '../types.js';
import { GiB, MiB } from './qemu-img.js';

/** `compute.virt_type`: kvm, qemu (TCG) or auto. */
export type VirtTypeSetting = VirtType | 'auto';

/** QEMU's version from `<binary> --version`: the string and Nova's integer form. */
export async function qemuVersion(binary: string): Promise<{ version: string; number: number }> {
  let out: string;
  try {
    out = (await exec(binary, ['--version'], { timeoutMs: 10_000 })).stdout;
  } catch (err) {
    throw new ComputeDriverError('HypervisorUnavailable', `cannot run ${binary}: ${(err as Error).message}`, { cause: err });
  }
  const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new ComputeDriverError('HypervisorUnavailable', `cannot read QEMU's version from: ${out.trim()}`);
  const [major, minor, micro] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { version: `${major}.${minor}.${micro}`, number: major * 1_000_000 + minor * 1000 + micro };
}

/** Whether QEMU can initialise accelerator `accel` (kvm or tcg) here; `reason` says why not. */
export async function probeAccel(binary: string, accel: 'kvm' | 'tcg'): Promise<{ ok: boolean; reason: string }> {
  if (accel === 'kvm') {
    try {
      const fh = await open('/dev/kvm', 'r+');
      await fh.close();
    } catch (err) {
      return { ok: false, reason: `/dev/kvm: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
  }
  try {
    await exec(binary, ['-accel', accel, '-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-qmp', 'stdio'], {
      input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n', timeoutMs: 15_000,
    });
    return { ok: true, reason: `${binary} -accel ${accel} started` };
  } catch (err) {
    const why = err instanceof HostCommandError ? err.stderr.trim().split('\n').slice(-2).join(' ') : (err as Error).message;
    return { ok: false, reason: why || `${binary} -accel ${accel} failed` };
  }
}

/**
 * The virt type to use: `auto` → kvm when it works, else qemu; `kvm` → kvm or a clear error when
 * it cannot work; `qemu` → qemu.
 */
export async function chooseVirtType(binary: string, setting: VirtTypeSetting): Promise<{ virtType: VirtType; reason: string }> {
  if (setting === 'qemu') return { virtType: 'qemu', reason: 'compute.virt_type = qemu' };
  const kvm = await probeAccel(binary, 'kvm');
  if (kvm.ok) return { virtType: 'kvm', reason: kvm.reason };
  if (setting === 'kvm') {
    throw new ComputeDriverError('HypervisorUnavailable', `compute.virt_type is kvm but KVM does not work on this host (${kvm.reason}); set it to auto or qemu`);
  }
  return { virtType: 'qemu', reason: `KVM unavailable (${kvm.reason}): TCG` };
}

/** Host CPUs, memory and the size and free space of the file system holding `dir`. */
export async function hostCapacity(dir: string): Promise<{ vcpus: number; memoryMb: number; localGb: number; localGbFree: number; cpuInfo: { arch: string; model: string; vendor: string } }> {
  const fs = await statfs(dir);
  const cpuList = cpus();
  let vendor = '';
  try {
    vendor = /^vendor_id\s*:\s*(.+)$/m.exec(await readFile('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
  } catch { /* not Linux */ }
  return {
    vcpus: cpuList.length,
    memoryMb: Math.floor(totalmem() / MiB),
    localGb: Math.floor((fs.blocks * fs.bsize) / GiB),
    localGbFree: Math.floor((fs.bavail * fs.bsize) / GiB),
    cpuInfo: { arch: arch() === 'x64' ? 'x86_64' : arch(), model: cpuList[0]?.model ?? 'unknown', vendor },
  };
}
