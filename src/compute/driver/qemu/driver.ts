/**
 * The QEMU compute driver: real virtual machines, one daemonized QEMU per instance, driven over
 * QMP, disks as qcow2 overlays on the host's image cache. Everything it knows lives in the
 * instances directory (see instance-config.ts), so a new driver object — an agent restarted —
 * finds every instance again, and a running QEMU never depends on the agent.
 *
 * Operations on one instance run one at a time (in-process lock); `state`, `getInstance` and
 * `listInstances` never wait for them (QEMU's second QMP monitor answers status queries).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { linkGet } from '../../../network/host/ip.js';
import { silentLogger, type Logger } from '../../../platform/log.js';
import { ComputeDriverError } from '../errors.js';
import type {
  ComputeDriver, FlavorSpec, HostInfo, ImageSpec, InstanceDiagnostics, InstanceInfo, InstanceSpec, NicSpec, PowerState, ShutdownOptions, SnapshotResult, VirtType,
} from '../types.js';
import { diskNode, qemuArgs, type HostOptions } from './command-line.js';
import { consoleTail, trimConsole } from './console-log.js';
import { qemuDiagnostics } from './diagnostics.js';
import { backupDisk } from './disk-backup.js';
import { chooseVirtType, hostCapacity, qemuVersion, type VirtTypeSetting } from './host-info.js';
import { plugNic, unplugNic } from './hotplug.js';
import { createRootDisk, ImageCache } from './image-cache.js';
import {
  checkFlavor, checkImage, checkNic, checkSpec, checkUuid, freeNicSlot, instancePaths, MAX_SOCKET_PATH, readConfig, RESIZED_FILES, writeConfig,
  type InstanceConfig, type InstancePaths, type StoredImage, type StoredNic,
} from './instance-config.js';
import { KeyedLock } from './lock.js';
import { finishRestore, incomingUri, saveMemory } from './memory-state.js';
import { acpiShutdown, powerStateOf, quit, runState } from './power.js';
import { withQmp, type QmpClient } from './qmp.js';
import { createOverlay, convertImage, imageInfo, resizeImage, GiB } from './qemu-img.js';
import { killQemu, launchQemu, netnsPath, qemuPid, reapStale } from './process.js';

export interface QemuDriverOptions {
  /** Instance directories (`compute.instances_dir`, default <state_dir>/instances). */
  readonly instancesDir: string;
  /** Cached base images (`compute.image_cache_dir`, default <instances_dir>/_base). */
  readonly imageCacheDir?: string;
  /** Snapshot files before upload (default <instances_dir>/_snapshots). */
  readonly snapshotDir?: string;
  /** `compute.virt_type`: auto (default), kvm or qemu. */
  readonly virtType?: VirtTypeSetting;
  /** Seconds a guest gets to power off after the ACPI button (Nova's shutdown_timeout; default 60). */
  readonly shutdownTimeoutSec?: number;
  /** Seconds a guest gets to release a hot-unplugged NIC (default 30). */
  readonly detachTimeoutSec?: number;
  readonly qemuBinary?: string;
  /** qboot firmware for direct kernel boot (default /usr/share/qemu/qboot.rom when present; null: SeaBIOS). */
  readonly qboot?: string | null;
  readonly log?: Logger;
}

const DEFAULT_QBOOT = '/usr/share/qemu/qboot.rom';
/** How old an instance directory without instance.json must be before it counts as a dead spawn's. */
const ORPHAN_AGE_MS = 3_600_000;
const UUID_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** Any failure as a ComputeDriverError (a host command's or QMP's error becomes HypervisorError, with it as cause). */
function asDriverError(err: unknown, instanceId: string): ComputeDriverError {
  if (err instanceof ComputeDriverError) return err;
  return new ComputeDriverError('HypervisorError', `instance ${instanceId}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** A driver error whose message ends with the last lines QEMU logged. */
function withQemuLog(err: unknown, log: string): unknown {
  if (!(err instanceof ComputeDriverError) || !log.trim()) return err;
  return new ComputeDriverError(err.code, `${err.message}; QEMU said: ${log.trim().replaceAll('\n', ' | ')}`, { cause: err.cause ?? err });
}

/** An instance as the driver works on it. */
interface Vm {
  readonly id: string;
  readonly paths: InstancePaths;
  cfg: InstanceConfig;
}

export class QemuDriver implements ComputeDriver {
  readonly type = 'qemu';
  readonly instancesDir: string;
  readonly snapshotDir: string;
  readonly #cache: ImageCache;
  readonly #locks = new KeyedLock();
  readonly #log: Logger;
  readonly #binary: string;
  readonly #virtTypeSetting: VirtTypeSetting;
  readonly #shutdownMs: number;
  readonly #detachMs: number;
  readonly #qbootOption: string | null | undefined;
  #host: Promise<HostOptions> | null = null;

  constructor(o: QemuDriverOptions) {
    this.instancesDir = resolve(o.instancesDir);
    this.snapshotDir = resolve(o.snapshotDir ?? join(this.instancesDir, '_snapshots'));
    this.#log = o.log ?? silentLogger();
    this.#cache = new ImageCache(resolve(o.imageCacheDir ?? join(this.instancesDir, '_base')), this.#log);
    this.#binary = o.qemuBinary ?? 'qemu-system-x86_64';
    this.#virtTypeSetting = o.virtType ?? 'auto';
    if (!['auto', 'kvm', 'qemu'].includes(this.#virtTypeSetting)) {
      throw new ComputeDriverError('InvalidSpec', `compute.virt_type must be auto, kvm or qemu: ${JSON.stringify(this.#virtTypeSetting)}`);
    }
    this.#shutdownMs = (o.shutdownTimeoutSec ?? 60) * 1000;
    this.#detachMs = (o.detachTimeoutSec ?? 30) * 1000;
    this.#qbootOption = o.qboot;
  }

  /** The image cache's directory. */
  get imageCacheDir(): string {
    return this.#cache.dir;
  }

  // ------------------------------------------------------------------------------- host

  /** The acceleration and firmware, decided once (the choice is logged). */
  #hostOptions(): Promise<HostOptions> {
    this.#host ??= (async () => {
      const { virtType, reason } = await chooseVirtType(this.#binary, this.#virtTypeSetting);
      let qboot: string | null = null;
      if (this.#qbootOption !== null) {
        const candidate = this.#qbootOption ?? DEFAULT_QBOOT;
        if (await exists(candidate)) qboot = candidate;
      }
      this.#log.info({ virtType, reason, setting: this.#virtTypeSetting, qboot }, `compute driver qemu: virt_type ${virtType}`);
      return { virtType, qboot };
    })();
    this.#host.catch(() => { this.#host = null; }); // a failed probe is retried on the next call
    return this.#host;
  }

  /** kvm or qemu (TCG), as chosen for this host. */
  async virtType(): Promise<VirtType> {
    return (await this.#hostOptions()).virtType;
  }

  async hostInfo(): Promise<HostInfo> {
    await mkdir(this.instancesDir, { recursive: true, mode: 0o711 });
    const [host, version, cap] = await Promise.all([this.#hostOptions(), qemuVersion(this.#binary), hostCapacity(this.instancesDir)]);
    return {
      vcpus: cap.vcpus, memoryMb: cap.memoryMb, localGb: cap.localGb, localGbFree: cap.localGbFree,
      hypervisorType: 'QEMU', version: version.version, hypervisorVersion: version.number, virtType: host.virtType, cpuInfo: cap.cpuInfo,
    };
  }

  // -------------------------------------------------------------------------- inventory

  async listInstances(): Promise<InstanceInfo[]> {
    let entries: string[];
    try {
      entries = await readdir(this.instancesDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: InstanceInfo[] = [];
    for (const id of entries.filter((e) => UUID_DIR.test(e)).sort()) {
      const paths = instancePaths(this.instancesDir, id);
      if (!this.#locks.busy(id) && !await exists(paths.config)) {
        // A spawn that died before it wrote instance.json (it starts no QEMU before that): its
        // files are garbage once it is clearly not under way any more.
        const mtime = (await stat(paths.dir).catch(() => null))?.mtimeMs;
        if (mtime !== undefined && Date.now() - mtime > ORPHAN_AGE_MS) {
          this.#log.warn({ instance: id, dir: paths.dir }, 'removing the files of a spawn that never finished');
          await rm(paths.dir, { recursive: true, force: true });
        }
        continue;
      }
      // Adoption: a process that died uncleanly leaves a pid file and sockets; note it and clean up
      // (unless an operation on the instance is under way: it owns those files right now).
      if (!this.#locks.busy(id) && await exists(paths.config)) {
        await this.#locks.run(id, async () => {
          if (await reapStale(paths, id, this.#binary)) this.#log.warn({ instance: id }, 'QEMU died without a clean shutdown: instance crashed');
        });
      }
      const info = await this.getInstance(id);
      if (info) out.push(info);
    }
    return out;
  }

  async getInstance(instanceId: string): Promise<InstanceInfo | null> {
    const paths = instancePaths(this.instancesDir, instanceId);
    const cfg = await readConfig(paths);
    if (!cfg) return null;
    const { state, pid } = await this.#observe({ id: instanceId, paths, cfg });
    return {
      instanceId, name: cfg.name, state, pid, rescued: cfg.rescue !== null, flavor: cfg.flavor, imageId: cfg.image.id,
      nics: cfg.nics.map(({ portId, tapName, mac, mtu }) => ({ portId, tapName, mac, mtu })), namespace: cfg.namespace, configDrive: cfg.configDrive,
    };
  }

  async state(instanceId: string): Promise<PowerState> {
    const paths = instancePaths(this.instancesDir, checkUuid(instanceId, 'instance id'));
    const cfg = await readConfig(paths);
    if (!cfg) return 'missing';
    return (await this.#observe({ id: instanceId, paths, cfg })).state;
  }

  /** The power state, read-only (no files change): QMP when there is a process, else the files left. */
  async #observe(vm: Vm): Promise<{ state: PowerState; pid: number | null }> {
    const pid = await qemuPid(vm.paths, vm.id, this.#binary);
    if (pid !== null) {
      let lastErr: unknown;
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          return { state: powerStateOf(await runState(vm.paths.qmpStatus)), pid };
        } catch (err) {
          lastErr = err;
          if (await qemuPid(vm.paths, vm.id, this.#binary) === null) return { state: await this.#stateWithoutProcess(vm), pid: null };
        }
      }
      throw new ComputeDriverError('Timeout', `QEMU of instance ${vm.id} (pid ${pid}) does not answer status queries`, { cause: lastErr });
    }
    return { state: await this.#stateWithoutProcess(vm), pid: null };
  }

  async #stateWithoutProcess(vm: Vm): Promise<PowerState> {
    if (await exists(vm.paths.savedState)) return 'suspended';
    if (await exists(vm.paths.crashed) || await exists(vm.paths.pid)) return 'crashed';
    return 'shutdown';
  }

  async #vm(instanceId: string): Promise<Vm> {
    const paths = instancePaths(this.instancesDir, checkUuid(instanceId, 'instance id'));
    const cfg = await readConfig(paths);
    if (!cfg) throw new ComputeDriverError('InstanceNotFound', `instance ${instanceId} is not on this host`);
    return { id: instanceId, paths, cfg };
  }

  /** Runs `fn` on the instance under its lock; what fails is a ComputeDriverError. */
  #op<T>(instanceId: string, fn: (vm: Vm) => Promise<T>): Promise<T> {
    checkUuid(instanceId, 'instance id');
    return this.#locks.run(instanceId, async () => fn(await this.#vm(instanceId))).catch((err: unknown) => { throw asDriverError(err, instanceId); });
  }

  // ------------------------------------------------------------------------- processes

  /** Starts QEMU for the stored configuration (no-op when it runs); `incoming` restores saved memory. */
  async #start(vm: Vm, o: { readonly incoming?: string } = {}): Promise<number> {
    const running = await qemuPid(vm.paths, vm.id, this.#binary);
    if (running !== null) return running;
    const host = await this.#hostOptions();
    await reapStale(vm.paths, vm.id, this.#binary);
    await rm(vm.paths.crashed, { force: true });
    await trimConsole(vm.paths.console);
    await trimConsole(vm.paths.qemuLog);
    for (const n of vm.cfg.nics) await this.#checkTap(vm.cfg.namespace, n);
    const t0 = Date.now();
    let pid: number;
    try {
      pid = await launchQemu(this.#binary, vm.cfg.namespace, qemuArgs(vm.cfg, vm.paths, host, o), vm.paths, vm.id);
    } catch (err) {
      throw withQemuLog(err, await consoleTail(vm.paths.qemuLog, 5));
    }
    this.#log.info({ instance: vm.id, pid, ms: Date.now() - t0, restore: Boolean(o.incoming) }, 'QEMU started');
    return pid;
  }

  /** QEMU opens the port's TAP by name, and would create a new one if it were missing: it must be there. */
  async #checkTap(ns: string, n: NicSpec): Promise<void> {
    if (!await exists(netnsPath(ns))) throw new ComputeDriverError('NetworkNotReady', `network namespace ${ns} does not exist (the network agent makes it)`);
    const link = await linkGet(ns, n.tapName);
    if (!link) throw new ComputeDriverError('NetworkNotReady', `TAP ${n.tapName} of port ${n.portId} is not in namespace ${ns} (not plugged by the network agent yet)`);
    if (link.kind !== 'tun') throw new ComputeDriverError('NetworkNotReady', `${n.tapName} in namespace ${ns} is a ${link.kind ?? 'physical'} link, not a TAP`);
  }

  /** Ends the process at once (QMP quit, else SIGTERM/SIGKILL) and removes what it leaves. */
  async #hardStop(vm: Vm): Promise<void> {
    const pid = await qemuPid(vm.paths, vm.id, this.#binary);
    if (pid !== null && !await quit(vm.paths.qmp, pid, 5000)) await killQemu(pid, vm.paths, vm.id, this.#binary, 2000);
    await Promise.all([vm.paths.pid, vm.paths.qmp, vm.paths.qmpStatus, vm.paths.crashed].map((p) => rm(p, { force: true })));
  }

  /**
   * Stops the instance: gracefully (the ACPI power button) when it runs and `timeoutSec` > 0, hard
   * otherwise or after the timeout. Ends with no process; true when the guest shut itself down.
   */
  async #stop(vm: Vm, o: ShutdownOptions = {}): Promise<boolean> {
    const timeoutMs = o.timeoutSec === undefined ? this.#shutdownMs : o.timeoutSec * 1000;
    const pid = await qemuPid(vm.paths, vm.id, this.#binary);
    let clean = false;
    // A QEMU that does not answer status queries is stopped hard.
    if (pid !== null && timeoutMs > 0 && (await this.#observe(vm).catch(() => null))?.state === 'running') {
      const t0 = Date.now();
      clean = await acpiShutdown(vm.paths.qmp, pid, timeoutMs);
      this.#log.info({ instance: vm.id, clean, ms: Date.now() - t0 }, clean ? 'guest powered off' : 'guest ignored the power button: stopping it hard');
    }
    await this.#hardStop(vm);
    return clean;
  }

  async #save(vm: Vm, cfg: InstanceConfig): Promise<void> {
    await writeConfig(vm.paths, cfg);
    vm.cfg = cfg;
  }

  // -------------------------------------------------------------------------- disks

  async #kernelFiles(img: ImageSpec, kernel: string, ramdisk: string): Promise<StoredImage> {
    await rm(kernel, { force: true });
    await rm(ramdisk, { force: true });
    if (img.kernelPath) await copyFile(img.kernelPath, kernel);
    if (img.ramdiskPath) await copyFile(img.ramdiskPath, ramdisk);
    return { id: img.id, format: img.format, kernel: Boolean(img.kernelPath), ramdisk: Boolean(img.ramdiskPath), kernelCmdline: img.kernelCmdline ?? null };
  }

  async #ephemeralDisk(gb: number, path: string): Promise<void> {
    await rm(path, { force: true });
    if (gb > 0) await createOverlay(path, await this.#cache.ephemeralBase(gb), 'raw');
  }

  async #swapDisk(mb: number, path: string): Promise<void> {
    await rm(path, { force: true });
    if (mb > 0) await createOverlay(path, await this.#cache.swapBase(mb), 'raw');
  }

  async #configDrive(iso: string, path: string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await copyFile(iso, tmp);
    await rename(tmp, path);
  }

  // ----------------------------------------------------------------------------- spawn

  async spawn(spec: InstanceSpec): Promise<InstanceInfo> {
    const { flavor, nics } = checkSpec(spec);
    const id = spec.instanceId;
    const paths = instancePaths(this.instancesDir, id);
    if (paths.qmpStatus.length > MAX_SOCKET_PATH) {
      throw new ComputeDriverError('InvalidSpec', `instances_dir ${this.instancesDir} is too long for QEMU's sockets (${paths.qmpStatus.length} > ${MAX_SOCKET_PATH} characters)`);
    }
    await this.#locks.run(id, async () => {
      if (await exists(paths.config)) throw new ComputeDriverError('InstanceExists', `instance ${id} already exists on this host`);
      await this.#hostOptions();
      const t0 = Date.now();
      await rm(paths.dir, { recursive: true, force: true }); // leftovers of a spawn that died half-way
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      try {
        const base = await this.#cache.ensure(spec.image);
        await createRootDisk(base, flavor.rootGb, paths.disk, spec.image.id);
        await this.#ephemeralDisk(flavor.ephemeralGb, paths.diskLocal);
        await this.#swapDisk(flavor.swapMb, paths.diskSwap);
        if (spec.configDriveIso) await this.#configDrive(spec.configDriveIso, paths.diskConfig);
        const image = await this.#kernelFiles(spec.image, paths.kernel, paths.ramdisk);
        const stored: StoredNic[] = [];
        for (const n of nics) stored.push({ ...n, slot: freeNicSlot(stored) });
        const cfg: InstanceConfig = {
          version: 1, instanceId: id, name: spec.name, namespace: spec.namespace, flavor, image, nics: stored,
          configDrive: Boolean(spec.configDriveIso), rescue: null, createdAt: new Date().toISOString(),
        };
        await writeConfig(paths, cfg);
        await this.#start({ id, paths, cfg });
        this.#log.info({ instance: id, ms: Date.now() - t0 }, 'instance spawned');
      } catch (err) {
        // Undo: nothing of the instance stays (the cached base does; TAPs are never ours).
        const pid = await qemuPid(paths, id, this.#binary).catch(() => null);
        if (pid !== null) await killQemu(pid, paths, id, this.#binary, 2000).catch(() => undefined);
        await rm(paths.dir, { recursive: true, force: true });
        throw asDriverError(err, id);
      }
    });
    return (await this.getInstance(id))!;
  }

  // ----------------------------------------------------------------------------- power

  async powerOff(instanceId: string, o: ShutdownOptions = {}): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      await this.#stop(vm, o);
      if (await exists(vm.paths.savedState)) {
        this.#log.warn({ instance: vm.id }, 'power off of a suspended instance: its saved memory is discarded');
        await rm(vm.paths.savedState, { force: true });
      }
    });
  }

  async powerOn(instanceId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (state === 'running') return;
      if (state === 'paused') await this.#cont(vm);
      else if (state === 'suspended') await this.#resume(vm);
      else if (state === 'crashed' && await qemuPid(vm.paths, vm.id, this.#binary) !== null) {
        await this.#hardStop(vm); // a panicked guest: a fresh start
        await this.#start(vm);
      } else await this.#start(vm);
    });
  }

  async reboot(instanceId: string, kind: 'soft' | 'hard', o: ShutdownOptions = {}): Promise<void> {
    if (kind !== 'soft' && kind !== 'hard') throw new ComputeDriverError('InvalidSpec', `reboot type must be soft or hard: ${JSON.stringify(kind)}`);
    await this.#op(instanceId, async (vm) => {
      const { state, pid } = await this.#observe(vm);
      if (kind === 'soft' && state === 'running' && pid !== null) {
        const timeoutMs = o.timeoutSec === undefined ? this.#shutdownMs : o.timeoutSec * 1000;
        if (await acpiShutdown(vm.paths.qmp, pid, timeoutMs)) {
          await this.#hardStop(vm); // removes nothing but leftovers: QEMU has exited
          await this.#start(vm);
          return;
        }
        this.#log.info({ instance: vm.id }, 'soft reboot: the guest ignored the power button, resetting it');
      }
      await this.#hardReboot(vm);
    });
  }

  /** system_reset of a healthy QEMU (vCPUs let run), else a fresh process (discarding saved memory). */
  async #hardReboot(vm: Vm): Promise<void> {
    const pid = await qemuPid(vm.paths, vm.id, this.#binary);
    if (pid !== null) {
      try {
        await this.#qmp(vm, async (q) => {
          await q.execute('system_reset');
          const { running } = await q.execute<{ running: boolean }>('query-status');
          if (!running) await q.execute('cont');
        });
        return;
      } catch (err) {
        this.#log.warn({ instance: vm.id, err: (err as Error).message }, 'hard reboot: QEMU did not reset, restarting it');
        await this.#hardStop(vm);
      }
    }
    await rm(vm.paths.savedState, { force: true });
    await this.#start(vm);
  }

  async #qmp<T>(vm: Vm, fn: (q: QmpClient) => Promise<T>): Promise<T> {
    try {
      return await withQmp(vm.paths.qmp, fn, { timeoutMs: 10_000 });
    } catch (err) {
      if (err instanceof ComputeDriverError) throw err;
      throw new ComputeDriverError('HypervisorError', `instance ${vm.id}: ${(err as Error).message}`, { cause: err });
    }
  }

  async #cont(vm: Vm): Promise<void> {
    await this.#qmp(vm, async (q) => {
      const { status } = await q.execute<{ status: string }>('query-status');
      if (status === 'suspended') await q.execute('system_wakeup'); // the guest's own ACPI sleep
      else if (status !== 'running') await q.execute('cont');
    });
  }

  async pause(instanceId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (state === 'paused') return;
      if (state !== 'running') throw new ComputeDriverError('InvalidState', `cannot pause instance ${vm.id}: it is ${state}`);
      await this.#qmp(vm, (q) => q.execute('stop'));
    });
  }

  async unpause(instanceId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (state === 'running') return;
      if (state !== 'paused') throw new ComputeDriverError('InvalidState', `cannot unpause instance ${vm.id}: it is ${state}`);
      await this.#cont(vm);
    });
  }

  async suspend(instanceId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      const { state, pid } = await this.#observe(vm);
      if (state === 'suspended') return;
      if ((state !== 'running' && state !== 'paused') || pid === null) throw new ComputeDriverError('InvalidState', `cannot suspend instance ${vm.id}: it is ${state}`);
      const t0 = Date.now();
      const { bytes } = await saveMemory(vm.paths.qmp, pid, vm.paths.savedState, 60_000 + vm.cfg.flavor.memoryMb * 100);
      await Promise.all([vm.paths.pid, vm.paths.qmp, vm.paths.qmpStatus].map((p) => rm(p, { force: true })));
      this.#log.info({ instance: vm.id, ms: Date.now() - t0, bytes }, 'instance suspended');
    });
  }

  async resume(instanceId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (state === 'running') return;
      if (state !== 'suspended') throw new ComputeDriverError('InvalidState', `cannot resume instance ${vm.id}: it is ${state}`);
      await this.#resume(vm);
    });
  }

  async #resume(vm: Vm): Promise<void> {
    const t0 = Date.now();
    // QEMU may refuse a damaged state file at once (it exits before it is up) or while loading it.
    const pid = await this.#start(vm, { incoming: incomingUri(vm.paths.savedState) }).catch((err: unknown) => {
      throw new ComputeDriverError('HypervisorError', `restoring the saved memory failed (damaged or incompatible state file): ${(err as Error).message}`, { cause: err });
    });
    try {
      await finishRestore(vm.paths.qmp, pid, 60_000 + vm.cfg.flavor.memoryMb * 100);
    } catch (err) {
      await this.#hardStop(vm); // the saved memory stays: the instance is still suspended
      throw withQemuLog(err, await consoleTail(vm.paths.qemuLog, 5));
    }
    await rm(vm.paths.savedState, { force: true });
    this.#log.info({ instance: vm.id, ms: Date.now() - t0 }, 'instance resumed');
  }

  // --------------------------------------------------------------------------- destroy

  async destroy(instanceId: string): Promise<void> {
    checkUuid(instanceId, 'instance id');
    await this.#locks.run(instanceId, async () => {
      const paths = instancePaths(this.instancesDir, instanceId);
      const pid = await qemuPid(paths, instanceId, this.#binary);
      if (pid !== null) await killQemu(pid, paths, instanceId, this.#binary, 2000);
      await rm(paths.dir, { recursive: true, force: true });
      this.#log.info({ instance: instanceId, hadProcess: pid !== null }, 'instance destroyed');
    }).catch((err: unknown) => { throw asDriverError(err, instanceId); });
  }

  /** Read-only, without the instance's lock (like `state`): QMP's status monitor and /proc. */
  async diagnostics(instanceId: string): Promise<InstanceDiagnostics> {
    const vm = await this.#vm(instanceId);
    try {
      const { state, pid } = await this.#observe(vm);
      return await qemuDiagnostics(vm.cfg, state, pid, vm.paths.qmpStatus);
    } catch (err) {
      throw asDriverError(err, instanceId);
    }
  }

  // --------------------------------------------------------------------------- console

  async consoleOutput(instanceId: string, lines?: number): Promise<string> {
    const vm = await this.#vm(instanceId);
    if (lines !== undefined && (!Number.isInteger(lines) || lines < 0)) throw new ComputeDriverError('InvalidSpec', `lines must be a non-negative integer: ${lines}`);
    return consoleTail(vm.paths.console, lines);
  }

  // -------------------------------------------------------------------------- snapshot

  async snapshot(instanceId: string, o: { readonly dir?: string } = {}): Promise<SnapshotResult> {
    return this.#op(instanceId, async (vm) => {
      if (vm.cfg.rescue) throw new ComputeDriverError('InvalidState', `cannot snapshot instance ${vm.id} while it is rescued`);
      const dir = resolve(o.dir ?? this.snapshotDir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const target = join(dir, `${vm.id}-${Date.now()}-${randomBytes(3).toString('hex')}.qcow2`);
      const pid = await qemuPid(vm.paths, vm.id, this.#binary);
      const t0 = Date.now();
      let method: SnapshotResult['method'];
      try {
        if (pid !== null) {
          const { virtualSize } = await imageInfo(vm.paths.disk, { format: 'qcow2', forceShare: true });
          await backupDisk(vm.paths.qmp, diskNode('root'), virtualSize, target, 3_600_000);
          method = 'blockdev-backup';
        } else {
          await convertImage(vm.paths.disk, 'qcow2', target, 'qcow2');
          method = 'qemu-img-convert';
        }
      } catch (err) {
        await rm(target, { force: true });
        if (err instanceof ComputeDriverError) throw err;
        throw new ComputeDriverError('HypervisorError', `snapshot of instance ${vm.id} failed: ${(err as Error).message}`, { cause: err });
      }
      const info = await imageInfo(target, { format: 'qcow2' });
      this.#log.info({ instance: vm.id, method, ms: Date.now() - t0, bytes: info.actualSize }, 'snapshot taken');
      return { path: target, format: 'qcow2', virtualSize: info.virtualSize, size: (await stat(target)).size, method };
    });
  }

  // ------------------------------------------------------------------ resize and rebuild

  async resize(instanceId: string, flavor: FlavorSpec, o: ShutdownOptions = {}): Promise<void> {
    const next = checkFlavor(flavor);
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (vm.cfg.rescue || state === 'suspended') throw new ComputeDriverError('InvalidState', `cannot resize instance ${vm.id}: it is ${vm.cfg.rescue ? 'rescued' : state}`);
      const prev = vm.cfg.flavor;
      const rootSize = (await imageInfo(vm.paths.disk, { format: 'qcow2', forceShare: true })).virtualSize;
      if (next.rootGb > 0 && next.rootGb * GiB < rootSize) {
        throw new ComputeDriverError('ResizeError', `cannot shrink the root disk of instance ${vm.id} (${rootSize} bytes) to ${next.rootGb} GiB`);
      }
      if (next.ephemeralGb < prev.ephemeralGb) {
        throw new ComputeDriverError('ResizeError', `cannot shrink the ephemeral disk of instance ${vm.id} from ${prev.ephemeralGb} to ${next.ephemeralGb} GiB`);
      }
      const wasOn = state === 'running' || state === 'paused';
      await this.#stop(vm, o);
      // The disks as they are, for a revert (Nova keeps them in <instance>_resize); a pending one stays.
      const preResize = vm.cfg.preResize ?? { flavor: prev, files: await this.#keepPreResize(vm) };
      await this.#save(vm, { ...vm.cfg, preResize });
      if (next.rootGb * GiB > rootSize) await resizeImage(vm.paths.disk, 'qcow2', next.rootGb * GiB);
      if (next.ephemeralGb > prev.ephemeralGb) {
        if (prev.ephemeralGb === 0) await this.#ephemeralDisk(next.ephemeralGb, vm.paths.diskLocal);
        else await resizeImage(vm.paths.diskLocal, 'qcow2', next.ephemeralGb * GiB);
      }
      if (next.swapMb !== prev.swapMb) await this.#swapDisk(next.swapMb, vm.paths.diskSwap);
      await this.#save(vm, { ...vm.cfg, flavor: next });
      this.#log.info({ instance: vm.id, from: prev, to: next }, 'instance resized');
      if (wasOn) await this.#start(vm);
    });
  }

  /** Copies the instance's disk files aside (`.pre-resize`, a reflink where the filesystem has them); returns which existed. */
  async #keepPreResize(vm: Vm): Promise<string[]> {
    const kept: string[] = [];
    for (const name of RESIZED_FILES) {
      const file = join(vm.paths.dir, name);
      if (!await exists(file)) continue;
      await copyFile(file, `${file}.pre-resize`, fsConstants.COPYFILE_FICLONE);
      kept.push(name);
    }
    return kept;
  }

  async finishResize(instanceId: string, revert: boolean, o: ShutdownOptions = {}): Promise<boolean> {
    return this.#op(instanceId, async (vm) => {
      const pre = vm.cfg.preResize;
      if (!pre) return false;
      if (!revert) {
        for (const name of pre.files) await rm(join(vm.paths.dir, `${name}.pre-resize`), { force: true });
        await this.#save(vm, { ...vm.cfg, preResize: null });
        return true;
      }
      const { state } = await this.#observe(vm);
      const wasOn = state === 'running' || state === 'paused';
      await this.#stop(vm, o);
      // Each file back as it was; one the resize created (none before) goes. instance.json last:
      // a crash in between leaves preResize set, and the revert runs again.
      for (const name of RESIZED_FILES) {
        const file = join(vm.paths.dir, name);
        if (pre.files.includes(name)) {
          if (await exists(`${file}.pre-resize`)) await rename(`${file}.pre-resize`, file);
        } else {
          await rm(file, { force: true });
        }
      }
      await this.#save(vm, { ...vm.cfg, flavor: pre.flavor, preResize: null });
      this.#log.info({ instance: vm.id, flavor: pre.flavor }, 'resize reverted: the pre-resize disks are back');
      if (wasOn) await this.#start(vm);
      return true;
    });
  }

  async rebuild(instanceId: string, image: ImageSpec, o: ShutdownOptions & { readonly configDriveIso?: string; readonly preserveEphemeral?: boolean } = {}): Promise<void> {
    checkImage(image);
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (vm.cfg.rescue || state === 'suspended') throw new ComputeDriverError('InvalidState', `cannot rebuild instance ${vm.id}: it is ${vm.cfg.rescue ? 'rescued' : state}`);
      const base = await this.#cache.ensure(image);
      const fresh = `${vm.paths.disk}.new`;
      await rm(fresh, { force: true });
      await createRootDisk(base, vm.cfg.flavor.rootGb, fresh, image.id);
      const wasOn = state === 'running' || state === 'paused';
      await this.#stop(vm, o);
      await rename(fresh, vm.paths.disk);
      if (!o.preserveEphemeral) await this.#ephemeralDisk(vm.cfg.flavor.ephemeralGb, vm.paths.diskLocal);
      if (o.configDriveIso) await this.#configDrive(o.configDriveIso, vm.paths.diskConfig);
      const stored = await this.#kernelFiles(image, vm.paths.kernel, vm.paths.ramdisk);
      await this.#save(vm, { ...vm.cfg, image: stored, configDrive: vm.cfg.configDrive || Boolean(o.configDriveIso) });
      this.#log.info({ instance: vm.id, image: image.id }, 'instance rebuilt');
      if (wasOn) await this.#start(vm);
    });
  }

  // ------------------------------------------------------------------------ interfaces

  async attachInterface(instanceId: string, nic: NicSpec): Promise<void> {
    const n = checkNic(nic);
    await this.#op(instanceId, async (vm) => {
      if (vm.cfg.nics.some((x) => x.portId === n.portId)) throw new ComputeDriverError('InterfaceExists', `port ${n.portId} is already attached to instance ${vm.id}`);
      if (vm.cfg.nics.some((x) => x.tapName === n.tapName || x.mac === n.mac)) throw new ComputeDriverError('InvalidSpec', `TAP ${n.tapName} or MAC ${n.mac} is already used by instance ${vm.id}`);
      const { state, pid } = await this.#observe(vm);
      if (state === 'suspended') throw new ComputeDriverError('InvalidState', `cannot attach an interface to instance ${vm.id}: it is suspended`);
      const stored: StoredNic = { ...n, slot: freeNicSlot(vm.cfg.nics) };
      if (pid !== null) {
        await this.#checkTap(vm.cfg.namespace, n);
        await plugNic(vm.paths.qmp, stored);
      }
      await this.#save(vm, { ...vm.cfg, nics: [...vm.cfg.nics, stored] });
      this.#log.info({ instance: vm.id, port: n.portId, tap: n.tapName, hotplug: pid !== null }, 'interface attached');
    });
  }

  async detachInterface(instanceId: string, portId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      if (!vm.cfg.nics.some((x) => x.portId === portId)) throw new ComputeDriverError('InterfaceNotFound', `port ${portId} is not attached to instance ${vm.id}`);
      const { state, pid } = await this.#observe(vm);
      // The guest must run to release the device (ACPI eject).
      if (state === 'suspended' || state === 'paused') throw new ComputeDriverError('InvalidState', `cannot detach an interface from instance ${vm.id}: it is ${state}`);
      if (pid !== null) await unplugNic(vm.paths.qmp, portId, this.#detachMs);
      await this.#save(vm, { ...vm.cfg, nics: vm.cfg.nics.filter((x) => x.portId !== portId) });
      this.#log.info({ instance: vm.id, port: portId, hotplug: pid !== null }, 'interface detached');
    });
  }

  // ---------------------------------------------------------------------------- rescue

  async rescue(instanceId: string, image: ImageSpec, o: ShutdownOptions = {}): Promise<void> {
    checkImage(image);
    await this.#op(instanceId, async (vm) => {
      const { state } = await this.#observe(vm);
      if (vm.cfg.rescue) throw new ComputeDriverError('InvalidState', `instance ${vm.id} is already rescued`);
      if (state === 'suspended') throw new ComputeDriverError('InvalidState', `cannot rescue instance ${vm.id}: it is suspended`);
      const base = await this.#cache.ensure(image);
      await this.#stop(vm, o);
      try {
        await rm(vm.paths.diskRescue, { force: true });
        await createOverlay(vm.paths.diskRescue, base.path, base.format);
        const stored = await this.#kernelFiles(image, vm.paths.kernelRescue, vm.paths.ramdiskRescue);
        await this.#save(vm, { ...vm.cfg, rescue: stored });
        await this.#start(vm);
      } catch (err) {
        await this.#hardStop(vm);
        await this.#dropRescue(vm);
        throw err;
      }
      this.#log.info({ instance: vm.id, image: image.id }, 'instance rescued');
    });
  }

  async unrescue(instanceId: string): Promise<void> {
    await this.#op(instanceId, async (vm) => {
      if (!vm.cfg.rescue) throw new ComputeDriverError('InvalidState', `instance ${vm.id} is not rescued`);
      await this.#hardStop(vm);
      await this.#dropRescue(vm);
      await this.#start(vm);
      this.#log.info({ instance: vm.id }, 'instance unrescued');
    });
  }

  async #dropRescue(vm: Vm): Promise<void> {
    await Promise.all([vm.paths.diskRescue, vm.paths.kernelRescue, vm.paths.ramdiskRescue].map((p) => rm(p, { force: true })));
    if (vm.cfg.rescue) await this.#save(vm, { ...vm.cfg, rescue: null });
  }
}
