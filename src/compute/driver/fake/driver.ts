/**
 * The fake compute driver — a simulated host for scale work only (hundreds of "hosts" in one
 * process, scheduler and conductor load, API tests that need no VM). Instances live in memory;
 * every transition is instant and follows the same rules and errors as the qemu driver (a pause
 * of a stopped instance is InvalidState, a resize never shrinks a disk, …). Nothing runs: no
 * process, no disk, no network. Its console shows a boot-complete line like the Nephos guest's,
 * and `snapshot` writes a real but empty qcow2 (qemu-img create) of the root disk's size.
 *
 * It reports itself as a QEMU host (HostInfo's type has no other value) with `virtType: qemu`
 * and the capacity it was given, so the scheduler and placement treat it like a TCG host.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ComputeDriverError, type ComputeDriverErrorCode } from '../errors.js';
import type {
  ComputeDriver, FlavorSpec, HostInfo, ImageSpec, InstanceDiagnostics, InstanceInfo, InstanceSpec, NicSpec, PowerState, ShutdownOptions, SnapshotResult,
} from '../types.js';
import { checkFlavor, checkNic, checkNics, checkUuid } from '../qemu/instance-config.js';
import { KeyedLock } from '../qemu/lock.js';
import { createImage, GiB } from '../qemu/qemu-img.js';

/** The capacity a fake host reports (defaults: 16 VCPUs, 64 GiB RAM, 1 TiB disk). */
export interface FakeHostSize {
  readonly vcpus?: number;
  readonly memoryMb?: number;
  readonly localGb?: number;
}

export interface FakeDriverOptions extends FakeHostSize {
  /** The simulated host's name (console lines and logs). */
  readonly host?: string;
  /** Where `snapshot` writes its qcow2 files (default: <tmpdir>/nephos-fake-snapshots). */
  readonly snapshotDir?: string;
}

/** An operation a test can make fail once (see {@link FakeDriver.failNext}). */
export type FakeOperation = 'spawn' | 'powerOff' | 'powerOn' | 'reboot' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'destroy'
  | 'snapshot' | 'resize' | 'finishResize' | 'rebuild' | 'attachInterface' | 'detachInterface' | 'rescue' | 'unrescue';

interface FakeVm {
  readonly id: string;
  name: string;
  state: PowerState;
  rescued: boolean;
  flavor: Required<FlavorSpec>;
  /** The flavor before a resize, until it is confirmed or reverted. */
  preResize?: Required<FlavorSpec> | null;
  imageId: string;
  nics: NicSpec[];
  readonly namespace: string;
  configDrive: boolean;
  bootedAt: number;
  boots: number;
  console: string[];
}

const notFound = (id: string) => new ComputeDriverError('InstanceNotFound', `Instance ${id} could not be found on this fake host.`);
const invalidState = (id: string, state: PowerState | 'rescued', op: string) => new ComputeDriverError('InvalidState', `cannot ${op} instance ${id}: it is ${state}`);

/** Simulated hypervisor of one fake host. For scale work only; nothing really runs. */
export class FakeDriver implements ComputeDriver {
  readonly type = 'fake';
  readonly host: string;
  readonly snapshotDir: string;
  readonly #size: Required<FakeHostSize>;
  readonly #vms = new Map<string, FakeVm>();
  readonly #locks = new KeyedLock();
  readonly #faults = new Map<FakeOperation, { code: ComputeDriverErrorCode; message: string }>();

  constructor(o: FakeDriverOptions = {}) {
    this.host = o.host ?? 'fake-host';
    this.snapshotDir = resolve(o.snapshotDir ?? join(tmpdir(), 'nephos-fake-snapshots'));
    const size = { vcpus: o.vcpus ?? 16, memoryMb: o.memoryMb ?? 65536, localGb: o.localGb ?? 1024 };
    for (const [k, v] of Object.entries(size)) {
      if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw new ComputeDriverError('InvalidSpec', `fake host ${k} must be a positive integer: ${v}`);
    }
    this.#size = size;
  }

  /**
   * Makes the next call of `op` (on any instance) fail with `code` — to exercise reschedules and
   * error paths without a real failure.
   */
  failNext(op: FakeOperation, code: ComputeDriverErrorCode = 'HypervisorError', message = `fake ${op} failure (injected)`): void {
    this.#faults.set(op, { code, message });
  }

  #injected(op: FakeOperation): void {
    const f = this.#faults.get(op);
    if (!f) return;
    this.#faults.delete(op);
    throw new ComputeDriverError(f.code, f.message);
  }

  #vm(id: string): FakeVm {
    const vm = this.#vms.get(id);
    if (!vm) throw notFound(id);
    return vm;
  }

  #info(vm: FakeVm): InstanceInfo {
    return {
      instanceId: vm.id, name: vm.name, state: vm.state, pid: null, rescued: vm.rescued, flavor: { ...vm.flavor }, imageId: vm.imageId,
      nics: vm.nics.map((n) => ({ ...n })), namespace: vm.namespace, configDrive: vm.configDrive,
    };
  }

  /** A (re)boot: the console gets the guest's boot-complete line. */
  #boot(vm: FakeVm): void {
    vm.state = 'running';
    vm.bootedAt = Date.now();
    vm.boots++;
    const nic = vm.nics[0];
    vm.console.push(
      `[    0.000000] Linux version 6.1.0-fake (nephos fake driver, host ${this.host})`,
      `nephos-guest: boot complete in 0.00s (uptime 0.00, userspace 0.00s) hostname=${vm.name || vm.id} ip=${nic ? 'dhcp' : 'none'} mtu=${nic?.mtu ?? 0} metadata=${vm.configDrive ? 'config-drive' : 'none'}`,
    );
    if (vm.console.length > 2000) vm.console.splice(0, vm.console.length - 1000);
  }

  #stop(vm: FakeVm, how: string): void {
    if (vm.state === 'running' || vm.state === 'paused') vm.console.push(`nephos-guest: ${how}`);
    vm.state = 'shutdown';
  }

  async hostInfo(): Promise<HostInfo> {
    let usedGb = 0;
    for (const vm of this.#vms.values()) usedGb += vm.flavor.rootGb + vm.flavor.ephemeralGb + Math.ceil(vm.flavor.swapMb / 1024);
    return {
      vcpus: this.#size.vcpus, memoryMb: this.#size.memoryMb, localGb: this.#size.localGb, localGbFree: Math.max(0, this.#size.localGb - usedGb),
      hypervisorType: 'QEMU', version: '7.2.0', hypervisorVersion: 7_002_000, virtType: 'qemu',
      cpuInfo: { arch: 'x86_64', model: 'fake', vendor: 'Nephos' },
    };
  }

  async listInstances(): Promise<InstanceInfo[]> {
    return [...this.#vms.values()].map((vm) => this.#info(vm));
  }

  async getInstance(instanceId: string): Promise<InstanceInfo | null> {
    const vm = this.#vms.get(instanceId);
    return vm ? this.#info(vm) : null;
  }

  async state(instanceId: string): Promise<PowerState> {
    return this.#vms.get(instanceId)?.state ?? 'missing';
  }

  async spawn(spec: InstanceSpec): Promise<InstanceInfo> {
    if (typeof spec !== 'object' || spec === null) throw new ComputeDriverError('InvalidSpec', 'spec is required');
    const id = checkUuid(spec.instanceId, 'instanceId');
    const flavor = checkFlavor(spec);
    const nics = checkNics(spec.nics);
    checkImageRef(spec.image);
    if (typeof spec.name !== 'string' || spec.name.length > 255) throw new ComputeDriverError('InvalidSpec', 'name must be a string of at most 255 characters');
    if (typeof spec.namespace !== 'string' || !spec.namespace) throw new ComputeDriverError('InvalidSpec', 'namespace is required');
    return this.#locks.run(id, async () => {
      if (this.#vms.has(id)) throw new ComputeDriverError('InstanceExists', `Instance ${id} already exists on this fake host.`);
      this.#injected('spawn');
      const vm: FakeVm = {
        id, name: spec.name, state: 'shutdown', rescued: false, flavor, imageId: spec.image.id, nics, namespace: spec.namespace,
        configDrive: spec.configDriveIso !== undefined, bootedAt: 0, boots: 0, console: [],
      };
      this.#vms.set(id, vm);
      this.#boot(vm);
      return this.#info(vm);
    });
  }

  /** Runs `fn` on an existing instance under its lock, after an injected fault if any. */
  #op<T>(op: FakeOperation, id: string, fn: (vm: FakeVm) => T | Promise<T>): Promise<T> {
    return this.#locks.run(id, async () => {
      const vm = this.#vm(id);
      this.#injected(op);
      return fn(vm);
    });
  }

  powerOff(instanceId: string, _o?: ShutdownOptions): Promise<void> {
    return this.#op('powerOff', instanceId, (vm) => {
      this.#stop(vm, 'power button: powering off'); // a suspended instance's saved memory is discarded
    });
  }

  powerOn(instanceId: string): Promise<void> {
    return this.#op('powerOn', instanceId, (vm) => {
      if (vm.state === 'running') return;
      if (vm.state === 'paused' || vm.state === 'suspended') { vm.state = 'running'; return; }
      this.#boot(vm);
    });
  }

  reboot(instanceId: string, kind: 'soft' | 'hard', _o?: ShutdownOptions): Promise<void> {
    return this.#op('reboot', instanceId, (vm) => {
      if (kind !== 'soft' && kind !== 'hard') throw new ComputeDriverError('InvalidSpec', `reboot kind must be soft or hard: ${JSON.stringify(kind)}`);
      // Soft reboots of a stopped instance are hard ones (a fresh start), as with qemu.
      if (vm.state === 'running') vm.console.push(`nephos-guest: ${kind === 'soft' ? 'reboot requested' : 'reset'}`);
      this.#boot(vm);
    });
  }

  pause(instanceId: string): Promise<void> {
    return this.#op('pause', instanceId, (vm) => {
      if (vm.state === 'paused') return;
      if (vm.state !== 'running') throw invalidState(vm.id, vm.state, 'pause');
      vm.state = 'paused';
    });
  }

  unpause(instanceId: string): Promise<void> {
    return this.#op('unpause', instanceId, (vm) => {
      if (vm.state === 'running') return;
      if (vm.state !== 'paused') throw invalidState(vm.id, vm.state, 'unpause');
      vm.state = 'running';
    });
  }

  suspend(instanceId: string): Promise<void> {
    return this.#op('suspend', instanceId, (vm) => {
      if (vm.state === 'suspended') return;
      if (vm.state !== 'running' && vm.state !== 'paused') throw invalidState(vm.id, vm.state, 'suspend');
      vm.state = 'suspended';
    });
  }

  resume(instanceId: string): Promise<void> {
    return this.#op('resume', instanceId, (vm) => {
      if (vm.state === 'running') return;
      if (vm.state !== 'suspended') throw invalidState(vm.id, vm.state, 'resume');
      vm.state = 'running';
    });
  }

  async destroy(instanceId: string): Promise<void> {
    checkUuid(instanceId, 'instanceId');
    await this.#locks.run(instanceId, async () => {
      if (!this.#vms.has(instanceId)) return;
      this.#injected('destroy');
      this.#vms.delete(instanceId);
    });
  }

  async consoleOutput(instanceId: string, lines?: number): Promise<string> {
    const vm = this.#vm(instanceId);
    if (lines !== undefined && (!Number.isInteger(lines) || lines < 0)) throw new ComputeDriverError('InvalidSpec', `lines must be a non-negative integer: ${lines}`);
    const all = lines === undefined ? vm.console : vm.console.slice(-Math.max(0, lines));
    return all.length ? `${all.join('\n')}\n` : '';
  }

  /** The simulated machine's shape: its vCPUs, memory, disks and NICs while it "runs", with no counters (nothing runs). */
  async diagnostics(instanceId: string): Promise<InstanceDiagnostics> {
    const vm = this.#vm(instanceId);
    const live = vm.state === 'running' || vm.state === 'paused';
    const disks = [true, vm.flavor.ephemeralGb > 0, vm.flavor.swapMb > 0, vm.configDrive].filter(Boolean)
      .map((_, i) => ({ name: `vd${String.fromCharCode(0x61 + i)}`, readBytes: null, readRequests: null, writeBytes: null, writeRequests: null, errors: null }));
    return {
      state: vm.state,
      cpus: live ? Array.from({ length: vm.flavor.vcpus }, (_, id) => ({ id, timeNs: null })) : [],
      memory: { maximumMb: vm.flavor.memoryMb, usedMb: live ? vm.flavor.memoryMb : 0, rssKb: null },
      disks: live ? disks : [],
      nics: vm.nics.map((n) => ({
        mac: n.mac, device: live ? n.tapName : null, rxOctets: null, rxPackets: null, rxErrors: null, rxDrop: null, txOctets: null, txPackets: null, txErrors: null, txDrop: null,
      })),
    };
  }

  /** An empty qcow2 (qemu-img create) with the root disk's virtual size (1 GiB for root_gb 0); a few hundred KiB on disk. */
  snapshot(instanceId: string, o: { readonly dir?: string } = {}): Promise<SnapshotResult> {
    return this.#op('snapshot', instanceId, async (vm) => {
      if (vm.rescued) throw invalidState(vm.id, 'rescued', 'snapshot');
      const dir = resolve(o.dir ?? this.snapshotDir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, `${vm.id}-${randomBytes(4).toString('hex')}.qcow2`);
      const virtualSize = Math.max(1, vm.flavor.rootGb) * GiB;
      try {
        await createImage(path, 'qcow2', virtualSize);
      } catch (err) {
        throw new ComputeDriverError('HypervisorError', `fake snapshot of ${vm.id}: qemu-img create failed`, { cause: err });
      }
      return { path, format: 'qcow2', virtualSize, size: (await stat(path)).size, method: 'qemu-img-convert' };
    });
  }

  resize(instanceId: string, flavor: FlavorSpec, _o?: ShutdownOptions): Promise<void> {
    const next = checkFlavor(flavor);
    return this.#op('resize', instanceId, (vm) => {
      if (vm.rescued || vm.state === 'suspended') throw invalidState(vm.id, vm.rescued ? 'rescued' : vm.state, 'resize');
      const cur = vm.flavor;
      if (next.rootGb > 0 && next.rootGb < cur.rootGb) throw new ComputeDriverError('ResizeError', `cannot shrink the root disk of instance ${vm.id} from ${cur.rootGb} to ${next.rootGb} GiB`);
      if (next.ephemeralGb < cur.ephemeralGb) throw new ComputeDriverError('ResizeError', `cannot shrink the ephemeral disk of instance ${vm.id} from ${cur.ephemeralGb} to ${next.ephemeralGb} GiB`);
      const wasOn = vm.state === 'running' || vm.state === 'paused';
      this.#stop(vm, 'power button: powering off');
      vm.preResize ??= cur;
      vm.flavor = { ...next, rootGb: next.rootGb === 0 ? cur.rootGb : next.rootGb };
      if (wasOn) this.#boot(vm);
    });
  }

  finishResize(instanceId: string, revert: boolean, _o?: ShutdownOptions): Promise<boolean> {
    return this.#op('finishResize', instanceId, (vm) => {
      const pre = vm.preResize;
      if (!pre) return false;
      vm.preResize = null;
      if (!revert) return true;
      const wasOn = vm.state === 'running' || vm.state === 'paused';
      this.#stop(vm, 'power button: powering off');
      vm.flavor = pre;
      if (wasOn) this.#boot(vm);
      return true;
    });
  }

  rebuild(instanceId: string, image: ImageSpec, o: ShutdownOptions & { readonly configDriveIso?: string } = {}): Promise<void> {
    checkImageRef(image);
    return this.#op('rebuild', instanceId, (vm) => {
      if (vm.rescued || vm.state === 'suspended') throw invalidState(vm.id, vm.rescued ? 'rescued' : vm.state, 'rebuild');
      const wasRunning = vm.state === 'running' || vm.state === 'paused';
      vm.imageId = image.id;
      if (o.configDriveIso !== undefined) vm.configDrive = true;
      vm.console.length = 0;
      vm.state = 'shutdown';
      if (wasRunning) this.#boot(vm);
    });
  }

  attachInterface(instanceId: string, nic: NicSpec): Promise<void> {
    const n = checkNic(nic);
    return this.#op('attachInterface', instanceId, (vm) => {
      if (vm.state === 'suspended') throw invalidState(vm.id, vm.state, 'attach an interface to');
      if (vm.nics.some((x) => x.portId === n.portId)) throw new ComputeDriverError('InterfaceExists', `Port ${n.portId} is already attached to ${vm.id}.`);
      if (vm.nics.some((x) => x.tapName === n.tapName || x.mac === n.mac)) throw new ComputeDriverError('InvalidSpec', `TAP ${n.tapName} or MAC ${n.mac} is already used by ${vm.id}.`);
      vm.nics.push(n);
    });
  }

  detachInterface(instanceId: string, portId: string): Promise<void> {
    return this.#op('detachInterface', instanceId, (vm) => {
      if (vm.state === 'suspended' || vm.state === 'paused') throw invalidState(vm.id, vm.state, 'detach an interface from');
      const i = vm.nics.findIndex((x) => x.portId === portId);
      if (i < 0) throw new ComputeDriverError('InterfaceNotFound', `Port ${portId} is not attached to ${vm.id}.`);
      vm.nics.splice(i, 1);
    });
  }

  rescue(instanceId: string, image: ImageSpec, _o?: ShutdownOptions): Promise<void> {
    checkImageRef(image);
    return this.#op('rescue', instanceId, (vm) => {
      if (vm.rescued) throw new ComputeDriverError('InvalidState', `instance ${vm.id} is already rescued`);
      if (vm.state === 'suspended') throw invalidState(vm.id, vm.state, 'rescue');
      this.#stop(vm, 'power button: powering off');
      vm.rescued = true;
      this.#boot(vm);
    });
  }

  unrescue(instanceId: string): Promise<void> {
    return this.#op('unrescue', instanceId, (vm) => {
      if (!vm.rescued) throw new ComputeDriverError('InvalidState', `instance ${vm.id} is not rescued`);
      this.#stop(vm, 'power button: powering off');
      vm.rescued = false;
      this.#boot(vm);
    });
  }

  /** How many times an instance has booted (spawn, power on, reboots): for tests of the agent. */
  bootCount(instanceId: string): number {
    return this.#vm(instanceId).boots;
  }
}

/** An image reference: the fake needs no file, only a UUID and a known format. */
function checkImageRef(i: ImageSpec): void {
  if (typeof i !== 'object' || i === null) throw new ComputeDriverError('InvalidSpec', 'image is required');
  checkUuid(i.id, 'image id');
  if (i.format !== 'raw' && i.format !== 'qcow2') throw new ComputeDriverError('InvalidSpec', `image format must be raw or qcow2: ${JSON.stringify(i.format)}`);
}
