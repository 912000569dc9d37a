/**
 * The compute agent of one host (Nova's nova-compute): builds the instances the conductor placed
 * here with the host's driver, carries out their actions, and reconciles — on start and
 * periodically — what the hypervisor runs with what the database says: an instance whose QEMU
 * died is marked SHUTOFF (or restarted, `resume_guests_state_on_host_boot`), a hypervisor
 * instance with no live record is destroyed. It heartbeats its service and reports its host's
 * resources. Stopping the agent never stops an instance: QEMU outlives it and is re-adopted.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ComputeDriver, ImageSpec, InstanceSpec, NicSpec } from '../driver/types.js';
import type { ImageClient, ImageRecord } from '../clients/image.js';
import type { NetworkClient } from '../clients/network.js';
import { getInstance, instancesOnHost, updateInstance, InstanceGone, InstanceStateConflict, type Instance, type InstancePatch } from '../servers/store.js';
import type { ServersDB } from '../servers/schema.js';
import { POWER, VM, powerNumber } from '../servers/states.js';
import { recordFault } from '../servers/faults.js';
import { nowIso } from '../store/db.js';
import { hostNamespace, tapName } from '../../network/host/names.js';
import { linkGet } from '../../network/host/ip.js';
import { buildConfigDrive } from '../metadata/config-drive.js';
import { instanceMetadata } from '../servers/instance-metadata.js';
import { finishEvent, startEvent } from '../servers/actions-log.js';
import { isDriverError } from '../driver/errors.js';

export interface ComputeAgentOptions {
  readonly host: string;
  readonly driver: ComputeDriver;
  readonly db: Kysely<ServersDB>;
  readonly images: ImageClient;
  readonly network: NetworkClient;
  readonly log: Logger;
  /** Where image data is downloaded (the qemu driver's image cache: a downloaded base is inspected in place). */
  readonly imageCacheDir: string;
  /** Where config drives are built before the driver takes them. */
  readonly workDir: string;
  /** Heartbeat + resource report of this host (services table, hypervisor, placement). */
  readonly report: () => Promise<void>;
  /** Restart instances whose hypervisor process died, instead of marking them SHUTOFF. */
  readonly resumeGuests?: boolean;
  /** Period of heartbeat, report and reconcile (ms; default 10 s). */
  readonly periodMs?: number;
  /** How long a build waits for the network agent to make the instance's TAPs (ms; default 30 s). */
  readonly vifTimeoutMs?: number;
  /** false: do not wait for TAPs (the `fake` driver's simulated hosts have no network agent). */
  readonly waitForVifs?: boolean;
  readonly vendorData?: Readonly<Record<string, unknown>>;
  /** Tells the world an instance changed (notifications, waiters). */
  readonly onChange?: (uuid: string) => void;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ComputeAgent {
  readonly #o: ComputeAgentOptions;
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;
  /** Instances with an operation in flight here (reconcile leaves them alone). */
  readonly #busy = new Set<string>();
  readonly #downloads = new Map<string, Promise<string>>();
  /** The split of recent builds' time (ms: buildMs, imageMs, vifMs, configDriveMs, spawnMs), for the compute bench. */
  readonly buildTimings = new Map<string, Record<string, number>>();

  constructor(o: ComputeAgentOptions) { this.#o = o; }

  get host(): string { return this.#o.host; }
  get driver(): ComputeDriver { return this.#o.driver; }

  /** Reports, reconciles once, then every period. */
  async start(): Promise<void> {
    await this.#periodic();
    this.#timer = setInterval(() => { this.#tick ??= this.#periodic().finally(() => { this.#tick = null; }); }, this.#o.periodMs ?? 10_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#tick;
  }

  async #periodic(): Promise<void> {
    try { await this.#o.report(); } catch (err) { this.#o.log.warn({ err }, 'compute host report failed'); }
    try { await this.reconcile(); } catch (err) { this.#o.log.warn({ err }, 'compute reconcile failed'); }
  }

  /** Runs `fn` as this instance's one operation in flight here. */
  async #exclusive<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    for (let i = 0; this.#busy.has(uuid); i++) {
      if (i > 6000) throw new Error(`instance ${uuid}: another operation is still running`);
      await sleep(50);
    }
    this.#busy.add(uuid);
    try { return await fn(); } finally { this.#busy.delete(uuid); }
  }

  async #update(uuid: string, patch: InstancePatch, expect?: Parameters<typeof updateInstance>[3]): Promise<Instance> {
    const i = await updateInstance(this.#o.db, uuid, patch, expect);
    this.#o.onChange?.(uuid);
    return i;
  }

  // ------------------------------------------------------------------ build

  /** Builds and starts an instance placed on this host (ports already bound here). */
  async build(uuid: string, requestId: string): Promise<void> {
    await this.#exclusive(uuid, async () => {
      const ev = await startEvent(this.#o.db, uuid, requestId, 'compute__do_build_and_run_instance', this.host);
      try {
        const inst = await getInstance(this.#o.db, uuid);
        if (!inst) throw new InstanceGone(uuid);
        const t0 = Date.now();
        await this.#update(uuid, { task_state: 'spawning' }, { vm_state: [VM.building] });
        const timings: Record<string, number> = {};
        const spec = await this.#spec(inst, timings);
        const t1 = Date.now();
        const info = await this.#o.driver.spawn(spec);
        timings.spawnMs = Date.now() - t1;
        await this.#update(uuid, {
          vm_state: VM.active, task_state: null, power_state: powerNumber(info.state), launched_at: nowIso(), body: { progress: 100 },
        });
        await finishEvent(this.#o.db, ev, 'Success');
        // The split of a build's time (the compute bench reads it): image, TAPs, config drive, the driver's spawn.
        this.#o.log.info({ instance: uuid, buildMs: Date.now() - t0, ...timings }, 'instance spawned');
        this.buildTimings.set(uuid, { buildMs: Date.now() - t0, ...timings });
        if (this.buildTimings.size > 1000) this.buildTimings.delete(this.buildTimings.keys().next().value!);
      } catch (err) {
        await finishEvent(this.#o.db, ev, 'Error', message(err));
        if (err instanceof InstanceGone) return;
        this.#o.log.warn({ err, instance: uuid }, 'instance build failed');
        await this.#o.driver.destroy(uuid).catch(() => undefined);
        await recordFault(this.#o.db, uuid, err, { vm_state: VM.error, task_state: null, power_state: POWER.nostate }).catch(() => undefined);
        this.#o.onChange?.(uuid);
      }
    });
  }

  /**
   * What the driver needs to spawn `inst`: its image (downloaded; `imageId` instead of the
   * instance's own, e.g. a shelved snapshot), its NICs (TAPs made), its config drive.
   */
  async #spec(inst: Instance, timings: Record<string, number> = {}, imageId = inst.body.image.id): Promise<InstanceSpec> {
    let t = Date.now();
    const image = await this.#imageSpec(imageId);
    timings.imageMs = Date.now() - t;
    t = Date.now();
    const nics = await this.#nics(inst);
    timings.vifMs = Date.now() - t;
    t = Date.now();
    const configDriveIso = inst.body.config_drive ? await this.#configDrive(inst) : undefined;
    if (configDriveIso) timings.configDriveMs = Date.now() - t;
    const f = inst.body.flavor;
    try {
      return {
        instanceId: inst.uuid, name: inst.display_name, vcpus: f.vcpus, memoryMb: f.memory_mb, rootGb: f.root_gb, ephemeralGb: f.ephemeral_gb,
        swapMb: f.swap, image, nics, namespace: hostNamespace(this.host), ...(configDriveIso ? { configDriveIso } : {}),
      };
    } finally {
      // The driver keeps its own copy of the config drive at spawn; ours goes once spawn returns.
      if (configDriveIso) setTimeout(() => { void rm(configDriveIso, { force: true }); }, 60_000).unref();
    }
  }

  /** Builds the instance's config drive (its metadata now) in the work directory; the caller removes it. */
  async #configDrive(inst: Instance): Promise<string> {
    await mkdir(this.#o.workDir, { recursive: true, mode: 0o700 });
    const iso = join(this.#o.workDir, `${inst.uuid}.config.iso`);
    await buildConfigDrive(await instanceMetadata(inst, this.#o.network, { vendorData: this.#o.vendorData }), iso);
    return iso;
  }

  /** The image's data in the cache (downloaded once per image, concurrent builds share one download). */
  async #cached(img: ImageRecord): Promise<string> {
    const path = join(this.#o.imageCacheDir, img.id);
    if (existsSync(`${path}.json`) || existsSync(path)) return path;
    let p = this.#downloads.get(img.id);
    if (!p) {
      p = (async () => {
        await mkdir(this.#o.imageCacheDir, { recursive: true, mode: 0o755 });
        const t0 = Date.now();
        await this.#o.images.download(img, path);
        this.#o.log.info({ image: img.id, ms: Date.now() - t0 }, 'image downloaded');
        return path;
      })().finally(() => this.#downloads.delete(img.id));
      this.#downloads.set(img.id, p);
    }
    return p;
  }

  async #imageSpec(imageId: string): Promise<ImageSpec> {
    const img = await this.#o.images.image(imageId);
    if (!img) throw new Error(`Image ${imageId} could not be found.`);
    if (img.status !== 'active') throw new Error(`Image ${imageId} is not active (${img.status}).`);
    const fmt = img.disk_format === 'qcow2' ? 'qcow2' : img.disk_format === 'raw' || img.disk_format === 'ami' ? 'raw' : null;
    if (!fmt) throw new Error(`Image ${imageId} has disk format ${img.disk_format}, which this host cannot boot (raw, qcow2 or ami).`);
    const path = await this.#cached(img);
    const spec: { -readonly [K in keyof ImageSpec]: ImageSpec[K] } = { id: img.id, path, format: fmt };
    const kernelId = typeof img.kernel_id === 'string' ? img.kernel_id : null;
    const ramdiskId = typeof img.ramdisk_id === 'string' ? img.ramdisk_id : null;
    if (kernelId) {
      const k = await this.#o.images.image(kernelId);
      if (!k) throw new Error(`Kernel image ${kernelId} of image ${imageId} could not be found.`);
      spec.kernelPath = await this.#cached(k);
      if (ramdiskId) {
        const r = await this.#o.images.image(ramdiskId);
        if (!r) throw new Error(`Ramdisk image ${ramdiskId} of image ${imageId} could not be found.`);
        spec.ramdiskPath = await this.#cached(r);
      }
      if (typeof img.os_command_line === 'string') spec.kernelCmdline = img.os_command_line;
    }
    return spec;
  }

  /** The instance's NICs, once the network agent has made their TAPs on this host. */
  async #nics(inst: Instance): Promise<NicSpec[]> {
    const nics: NicSpec[] = [];
    const mtus = new Map<string, number>();
    for (const { id } of inst.body.ports) {
      const port = await this.#o.network.port(id);
      if (!port) throw new Error(`Port ${id} of the instance is gone.`);
      if (!mtus.has(port.network_id)) mtus.set(port.network_id, (await this.#o.network.network(port.network_id))?.mtu ?? 1500);
      nics.push({ portId: id, tapName: tapName(id), mac: port.mac_address, mtu: mtus.get(port.network_id)! });
    }
    await this.#waitForTaps(nics);
    return nics;
  }

  /** Waits (bounded) until the network agent has made the NICs' TAPs in this host's namespace. */
  async #waitForTaps(nics: readonly NicSpec[]): Promise<void> {
    const ns = hostNamespace(this.host);
    const deadline = Date.now() + (this.#o.vifTimeoutMs ?? 30_000);
    for (const nic of this.#o.waitForVifs === false ? [] : nics) {
      while (!(await linkGet(ns, nic.tapName).catch(() => null))) {
        if (Date.now() > deadline) throw new Error(`Virtual interface ${nic.tapName} of port ${nic.portId} was not plugged on host ${this.host} in time (is the network agent running there?)`);
        await sleep(50);
      }
    }
  }

  // ------------------------------------------------------------------ actions

  /**
   * Runs one action on an instance of this host: `work` talks to the driver; the instance then
   * takes `done` and what `work` returned (or, on failure, `undo` — its state before, or what
   * `undo` makes of the error — with a fault). Recorded as an action event. True when it worked.
   */
  async act(
    uuid: string, requestId: string, event: string, work: (inst: Instance) => Promise<InstancePatch | void>, done: InstancePatch,
    undo: InstancePatch | ((err: unknown) => InstancePatch),
  ): Promise<boolean> {
    return this.#exclusive(uuid, async () => {
      const ev = await startEvent(this.#o.db, uuid, requestId, event, this.host);
      try {
        const inst = await getInstance(this.#o.db, uuid);
        if (!inst) throw new InstanceGone(uuid);
        const extra = await work(inst);
        const state = await this.#o.driver.state(uuid).catch(() => null);
        await this.#update(uuid, { ...done, ...(extra ?? {}), ...(state ? { power_state: powerNumber(state) } : {}) });
        await finishEvent(this.#o.db, ev, 'Success');
        return true;
      } catch (err) {
        await finishEvent(this.#o.db, ev, 'Error', message(err));
        if (err instanceof InstanceGone) return false;
        this.#o.log.warn({ err, instance: uuid, event }, 'instance action failed');
        const state = await this.#o.driver.state(uuid).catch(() => null);
        const patch = typeof undo === 'function' ? undo(err) : undo;
        await recordFault(this.#o.db, uuid, err, { ...(state ? { power_state: powerNumber(state) } : {}), ...patch }).catch(() => undefined);
        this.#o.onChange?.(uuid);
        return false;
      }
    });
  }

  // ------------------------------------------------------------- images (snapshot, shelve)

  /**
   * Copies the instance's root disk into image `imageId` (a queued record the API made in the
   * instance's project): the driver's snapshot (live while the instance runs), uploaded, the file
   * removed. Task states image_snapshot → image_pending_upload → image_uploading → None, as Nova's;
   * on failure the image goes and the instance keeps its state, with a fault.
   */
  async snapshot(uuid: string, requestId: string, imageId: string): Promise<boolean> {
    return this.act(uuid, requestId, 'compute_snapshot_instance', async () => {
      await this.#update(uuid, { task_state: 'image_snapshot' }, { task_state: ['image_snapshot_pending'] });
      await this.#snapshotInto(uuid, imageId, ['image_pending_upload', 'image_uploading']);
    }, { task_state: null }, { task_state: null });
  }

  /** A backup (createBackup): like a snapshot, from Nova's image_backup task state. */
  async backup(uuid: string, requestId: string, imageId: string): Promise<boolean> {
    return this.act(uuid, requestId, 'compute_backup_instance', async () => {
      await this.#snapshotInto(uuid, imageId, ['image_pending_upload', 'image_uploading']);
    }, { task_state: null }, { task_state: null });
  }

  /**
   * Shelves the instance: a graceful power-off, its root disk uploaded into image `imageId`
   * (Nova's `<name>-shelved` snapshot), then SHELVED (still on this host; offloading is separate).
   * On failure the image goes and the instance returns to `before` (it may be powered off now:
   * the power state says so).
   */
  async shelve(uuid: string, requestId: string, imageId: string, before: InstancePatch): Promise<boolean> {
    return this.act(uuid, requestId, 'compute_shelve_instance', async () => {
      await this.#o.driver.powerOff(uuid);
      await this.#snapshotInto(uuid, imageId, ['shelving_image_pending_upload', 'shelving_image_uploading']);
      return { vm_state: VM.shelved, body: { shelved_image_id: imageId } };
    }, { task_state: null }, { ...before, task_state: null });
  }

  /** The driver's snapshot uploaded into `imageId` (deleted when anything fails), through two task states. */
  async #snapshotInto(uuid: string, imageId: string, [pending, uploading]: readonly [string, string]): Promise<void> {
    try {
      const t0 = Date.now();
      const snap = await this.#o.driver.snapshot(uuid);
      try {
        await this.#update(uuid, { task_state: pending });
        await this.#update(uuid, { task_state: uploading });
        const t1 = Date.now();
        await this.#o.images.upload(imageId, snap.path);
        this.#o.log.info({ instance: uuid, image: imageId, method: snap.method, bytes: snap.size, snapshotMs: t1 - t0, uploadMs: Date.now() - t1 }, 'snapshot uploaded');
      } finally {
        await rm(snap.path, { force: true });
      }
    } catch (err) {
      await this.#o.images.delete(imageId).catch((e: unknown) => this.#o.log.warn({ err: e, image: imageId }, 'image of a failed snapshot not deleted'));
      throw err;
    }
  }

  /**
   * Spawns an instance placed on this host again from image `imageId` (unshelve of an offloaded
   * instance; its ports are bound here already): task spawning, then ACTIVE. Throws when it
   * fails, leaving nothing on the host: the caller undoes the placement.
   */
  async unshelve(uuid: string, requestId: string, imageId: string): Promise<void> {
    await this.#exclusive(uuid, async () => {
      const ev = await startEvent(this.#o.db, uuid, requestId, 'compute_unshelve_instance', this.host);
      try {
        const inst = await getInstance(this.#o.db, uuid);
        if (!inst) throw new InstanceGone(uuid);
        await this.#update(uuid, { task_state: 'spawning' }, { task_state: ['unshelving'] });
        const timings: Record<string, number> = {};
        const info = await this.#o.driver.spawn(await this.#spec(inst, timings, imageId));
        await this.#update(uuid, { vm_state: VM.active, task_state: null, power_state: powerNumber(info.state) });
        await finishEvent(this.#o.db, ev, 'Success');
        this.#o.log.info({ instance: uuid, image: imageId, ...timings }, 'instance unshelved');
      } catch (err) {
        await finishEvent(this.#o.db, ev, 'Error', message(err));
        await this.#o.driver.destroy(uuid).catch(() => undefined);
        throw err;
      }
    });
  }

  // ------------------------------------------------------------- rebuild, rescue

  /**
   * Rebuilds the instance from its (new) image: a new root disk, a blank ephemeral disk unless
   * preserved, a new config drive when it has one; started again unless it was stopped. An
   * instance the hypervisor lost (a failed build in ERROR) is spawned afresh. Failures leave it
   * in ERROR, as Nova's do.
   */
  async rebuild(uuid: string, requestId: string, o: { readonly preserveEphemeral: boolean; readonly stopped: boolean }): Promise<boolean> {
    return this.act(uuid, requestId, 'compute_rebuild_instance', async (inst) => {
      await this.#update(uuid, { task_state: 'rebuild_block_device_mapping' }, { task_state: ['rebuilding'] });
      const image = await this.#imageSpec(inst.body.image.id);
      await this.#update(uuid, { task_state: 'rebuild_spawning' });
      if (await this.#o.driver.getInstance(uuid)) {
        const configDriveIso = inst.body.config_drive ? await this.#configDrive(inst) : undefined;
        try {
          await this.#o.driver.rebuild(uuid, image, { preserveEphemeral: o.preserveEphemeral, ...(configDriveIso ? { configDriveIso } : {}) });
        } finally {
          if (configDriveIso) await rm(configDriveIso, { force: true });
        }
      } else {
        await this.#o.driver.spawn(await this.#spec(inst));
        if (o.stopped) await this.#o.driver.powerOff(uuid);
      }
      return { vm_state: o.stopped ? VM.stopped : VM.active, launched_at: nowIso(), body: { progress: 100 } };
    }, { task_state: null }, { vm_state: VM.error, task_state: null });
  }

  /** Boots the instance from image `imageId` with its own disk attached second (RESCUE); failures leave it in ERROR, as Nova's do. */
  async rescue(uuid: string, requestId: string, imageId: string): Promise<boolean> {
    return this.act(uuid, requestId, 'compute_rescue_instance', async () => {
      await this.#o.driver.rescue(uuid, await this.#imageSpec(imageId));
      return { vm_state: VM.rescued };
    }, { task_state: null }, { vm_state: VM.error, task_state: null });
  }

  // ------------------------------------------------------------- interfaces

  /**
   * Plugs port `portId` (bound to this host already) into the instance once the network agent
   * has made its TAP: hot-plugged when it runs, kept in its configuration either way. Throws
   * when it cannot; the caller releases the port.
   */
  async attachInterface(uuid: string, requestId: string, portId: string): Promise<NicSpec> {
    return this.#exclusive(uuid, async () => {
      const ev = await startEvent(this.#o.db, uuid, requestId, 'compute_attach_interface', this.host);
      try {
        const port = await this.#o.network.port(portId);
        if (!port) throw new Error(`Port ${portId} is gone.`);
        const mtu = (await this.#o.network.network(port.network_id))?.mtu ?? 1500;
        const nic: NicSpec = { portId, tapName: tapName(portId), mac: port.mac_address, mtu };
        await this.#waitForTaps([nic]);
        await this.#o.driver.attachInterface(uuid, nic);
        await finishEvent(this.#o.db, ev, 'Success');
        return nic;
      } catch (err) {
        await finishEvent(this.#o.db, ev, 'Error', message(err));
        throw err;
      }
    });
  }

  /** Unplugs port `portId` from the instance (the guest must release it); a port the driver does not know is already gone. Throws when the guest keeps it. */
  async detachInterface(uuid: string, requestId: string, portId: string): Promise<void> {
    await this.#exclusive(uuid, async () => {
      const ev = await startEvent(this.#o.db, uuid, requestId, 'compute_detach_interface', this.host);
      try {
        await this.#o.driver.detachInterface(uuid, portId).catch((err: unknown) => { if (!isDriverError(err, 'InterfaceNotFound')) throw err; });
        await finishEvent(this.#o.db, ev, 'Success');
      } catch (err) {
        await finishEvent(this.#o.db, ev, 'Error', message(err));
        throw err;
      }
    });
  }

  /** Destroys an instance's hypervisor side (process, disks); never its ports (the conductor's). */
  async destroy(uuid: string): Promise<void> {
    await this.#exclusive(uuid, () => this.#o.driver.destroy(uuid));
  }

  // ------------------------------------------------------------------ reconcile

  /**
   * Converges power states: the database follows the hypervisor (Nova's _sync_power_states),
   * and hypervisor instances nobody owns any more are destroyed.
   */
  async reconcile(): Promise<{ changed: string[]; destroyed: string[] }> {
    const changed: string[] = [];
    const destroyed: string[] = [];
    const records = new Map((await instancesOnHost(this.#o.db, this.host)).map((i) => [i.uuid, i]));
    const running = await this.#o.driver.listInstances();
    for (const hv of running) {
      if (this.#busy.has(hv.instanceId)) continue;
      const rec = records.get(hv.instanceId);
      if (!rec) {
        // A hypervisor instance with no live record here: deleted (or moved) while the agent was away.
        const still = await getInstance(this.#o.db, hv.instanceId);
        if (still && still.host !== this.host) continue;
        this.#o.log.warn({ instance: hv.instanceId, state: hv.state }, 'hypervisor instance without a live instance record: destroyed');
        await this.#o.driver.destroy(hv.instanceId).catch((err) => this.#o.log.warn({ err, instance: hv.instanceId }, 'orphan not destroyed'));
        destroyed.push(hv.instanceId);
      }
    }
    const known = new Map(running.map((r) => [r.instanceId, r]));
    for (const inst of records.values()) {
      if (this.#busy.has(inst.uuid) || inst.task_state !== null) continue;
      const hv = known.get(inst.uuid);
      const state = hv?.state ?? 'missing';
      const power = powerNumber(state);
      const expectRunning = inst.vm_state === VM.active || inst.vm_state === VM.rescued;
      if (expectRunning && (state === 'shutdown' || state === 'crashed' || state === 'missing')) {
        if (this.#o.resumeGuests && state !== 'missing') {
          this.#o.log.warn({ instance: inst.uuid, state }, 'instance stopped behind our back: restarted (resume_guests_state_on_host_boot)');
          await this.#exclusive(inst.uuid, () => this.#o.driver.powerOn(inst.uuid)).catch((err) => this.#o.log.warn({ err }, 'restart failed'));
          continue;
        }
        this.#o.log.warn({ instance: inst.uuid, state }, 'instance stopped behind our back: marked SHUTOFF');
        try {
          await this.#update(inst.uuid, { vm_state: VM.stopped, power_state: power }, { task_state: [null], vm_state: [inst.vm_state] });
          changed.push(inst.uuid);
        } catch (err) {
          if (!(err instanceof InstanceStateConflict || err instanceof InstanceGone)) throw err;
        }
      } else if (power !== inst.power_state && state !== 'missing') {
        try {
          await this.#update(inst.uuid, { power_state: power }, { task_state: [null] });
          changed.push(inst.uuid);
        } catch (err) {
          if (!(err instanceof InstanceStateConflict || err instanceof InstanceGone)) throw err;
        }
      }
    }
    return { changed, destroyed };
  }
}
