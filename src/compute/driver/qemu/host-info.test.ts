// Host facts from the real machine: QEMU's version, the accelerator probe, capacity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isDriverError } from '../errors.js';
import { chooseVirtType, hostCapacity, lacksHardwareVirtualization, probeAccel, qemuVersion } from './host-info.js';

test('QEMU version, as a string and as Nova\'s integer', async () => {
  const v = await qemuVersion('qemu-system-x86_64');
  assert.match(v.version, /^\d+\.\d+\.\d+$/);
  const [a, b, c] = v.version.split('.').map(Number);
  assert.equal(v.number, a! * 1_000_000 + b! * 1000 + c!);
  await assert.rejects(qemuVersion('/nonexistent/qemu'), (e: unknown) => isDriverError(e, 'HypervisorUnavailable'));
});

test('the accelerator probe starts QEMU for real: TCG works; kvm only with a working /dev/kvm', async () => {
  assert.deepEqual((await probeAccel('qemu-system-x86_64', 'tcg')).ok, true);
  const kvm = await probeAccel('qemu-system-x86_64', 'kvm');
  if (!existsSync('/dev/kvm')) {
    assert.equal(kvm.ok, false);
    assert.match(kvm.reason, /\/dev\/kvm: ENOENT/);
    assert.deepEqual((await chooseVirtType('qemu-system-x86_64', 'auto')).virtType, 'qemu');
    await assert.rejects(chooseVirtType('qemu-system-x86_64', 'kvm'),
      (e: unknown) => isDriverError(e, 'HypervisorUnavailable') && /virt_type is kvm but KVM does not work/.test((e as Error).message));
  } else if (await lacksHardwareVirtualization()) {
    // A paravirtual /dev/kvm (kvm_pvm): QEMU would start, the guest would hang.
    assert.equal(kvm.ok, false);
    assert.match(kvm.reason, /no VMX\/SVM/);
    assert.equal((await chooseVirtType('qemu-system-x86_64', 'auto')).virtType, 'qemu');
  } else {
    assert.equal((await chooseVirtType('qemu-system-x86_64', 'auto')).virtType, kvm.ok ? 'kvm' : 'qemu');
  }
  assert.deepEqual(await chooseVirtType('qemu-system-x86_64', 'qemu'), { virtType: 'qemu', reason: 'compute.virt_type = qemu' });
});

test('hardware virtualization: VMX or SVM in the CPU flags, else a reason', async () => {
  assert.equal(await lacksHardwareVirtualization('processor\t: 0\nflags\t\t: fpu vme vmx sse2\n'), '');
  assert.equal(await lacksHardwareVirtualization('flags\t\t: fpu svm sse2\n'), '');
  assert.match(await lacksHardwareVirtualization('flags\t\t: fpu x2apic hypervisor sse2\n'), /no VMX\/SVM/);
  assert.equal(await lacksHardwareVirtualization('no flags line here'), '', 'nothing known: let QEMU decide');
});

test('capacity: CPUs, memory, the file system of a directory', async () => {
  const c = await hostCapacity('/tmp');
  assert.ok(c.vcpus >= 1);
  assert.ok(c.memoryMb > 100);
  assert.ok(c.localGb >= 1 && c.localGbFree <= c.localGb);
  assert.equal(c.cpuInfo.arch, 'x86_64');
});
