/**
 * The host as a hypervisor: QEMU's version, whether KVM really works, and the capacity Nova's
 * os-hypervisors reports (CPUs, memory, the instances' file system).
 *
 * KVM: /dev/kvm existing is not enough (a container may show the node without access, a nested
 * host may lack VMX). Node cannot issue KVM_GET_API_VERSION, so the probe checks that the CPU has
 * hardware virtualization (VMX or SVM: without them /dev/kvm is a paravirtual KVM such as kvm_pvm,
 * which accepts the VM but runs only PVM-enabled guest kernels — an ordinary guest hangs before its
 * first console line, as measured on a Firecracker host with `nested_pvm=1`), opens /dev/kvm
 * read-write, and then starts QEMU itself with `-accel kvm -machine none` over QMP on stdin (no
 * guest, no firmware: it initialises the accelerator and quits, ~50 ms).
 */
import { cpus, totalmem, arch } from 'node:os';
import { open, statfs, readFile } from 'node:fs/promises';
import { exec, HostCommandError } from '../../../platform/host/exec.js';
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

/** Why KVM cannot run ordinary guests on this CPU, or '' when VMX/SVM is there (or /proc says nothing). */
export async function lacksHardwareVirtualization(cpuinfo?: string): Promise<string> {
  let text = cpuinfo;
  try {
    text ??= await readFile('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
  const flags = /^flags\s*:(.*)$/m.exec(text)?.[1]?.split(/\s+/) ?? [];
  if (flags.length === 0 || flags.includes('vmx') || flags.includes('svm')) return '';
  const pvm = await statfs('/sys/module/kvm_pvm').then(() => true, () => false);
  return `the CPU has no VMX/SVM${pvm ? ' and kvm_pvm is loaded' : ''}: /dev/kvm here runs only paravirtualized (PVM) guest kernels`;
}

/** Whether QEMU can initialise accelerator `accel` (kvm or tcg) here; `reason` says why not. */
export async function probeAccel(binary: string, accel: 'kvm' | 'tcg'): Promise<{ ok: boolean; reason: string }> {
  if (accel === 'kvm') {
    const noVirt = await lacksHardwareVirtualization();
    if (noVirt) return { ok: false, reason: noVirt };
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
