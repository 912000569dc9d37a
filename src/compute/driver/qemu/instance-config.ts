/**
 * An instance on disk: its directory `<instances_dir>/<uuid>/` (Nova's layout: `disk`,
 * `disk.local`, `disk.swap`, `disk.config`, `kernel`, `ramdisk`, `console.log`, plus QEMU's pid
 * file, QMP sockets and saved memory) and `instance.json`, what the driver needs to start the same
 * machine again (after a stop, a host reboot, an agent restart). Specs from the caller are checked
 * here before anything touches the host.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { ComputeDriverError } from '../errors.js';
import type { FlavorSpec, ImageSpec, InstanceSpec, NicSpec } from '../types.js';

/** The files of one instance. */
export interface InstancePaths {
  readonly dir: string;
  readonly config: string;
  readonly disk: string;
  readonly diskLocal: string;
  readonly diskSwap: string;
  readonly diskConfig: string;
  readonly diskRescue: string;
  readonly kernel: string;
  readonly ramdisk: string;
  readonly kernelRescue: string;
  readonly ramdiskRescue: string;
  readonly console: string;
  /** QEMU's own messages once it has daemonized (-D: warnings, "terminating on signal", errors). */
  readonly qemuLog: string;
  readonly pid: string;
  /** QMP for operations (one client at a time; may be held for a while). */
  readonly qmp: string;
  /** QMP for status queries only, so that `state` never waits behind a long operation. */
  readonly qmpStatus: string;
  /** The memory of a suspended instance (QEMU migration stream). */
  readonly savedState: string;
  /** Written when the driver finds the process died without a clean shutdown. */
  readonly crashed: string;
}

/** The longest unix socket path (sun_path holds 108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH = 107;

export function instancePaths(instancesDir: string, instanceId: string): InstancePaths {
  const dir = join(instancesDir, checkUuid(instanceId, 'instance id'));
  const f = (name: string) => join(dir, name);
  return {
    dir, config: f('instance.json'),
    disk: f('disk'), diskLocal: f('disk.local'), diskSwap: f('disk.swap'), diskConfig: f('disk.config'), diskRescue: f('disk.rescue'),
    kernel: f('kernel'), ramdisk: f('ramdisk'), kernelRescue: f('kernel.rescue'), ramdiskRescue: f('ramdisk.rescue'),
    console: f('console.log'), qemuLog: f('qemu.log'), pid: f('qemu.pid'), qmp: f('qmp.sock'), qmpStatus: f('qmp-status.sock'),
    savedState: f('memory.state'), crashed: f('crashed'),
  };
}

/** The boot image as the instance keeps it (its kernel and ramdisk are copied into the instance directory). */
export interface StoredImage {
  readonly id: string;
  readonly format: 'raw' | 'qcow2';
  readonly kernel: boolean;
  readonly ramdisk: boolean;
  readonly kernelCmdline: string | null;
}

/** A NIC with the PCI slot it keeps across restarts and hot-plugs (so the guest's NIC order never changes). */
export interface StoredNic extends NicSpec {
  readonly slot: number;
}

/** `instance.json`. */
export interface InstanceConfig {
  readonly version: 1;
  readonly instanceId: string;
  readonly name: string;
  readonly namespace: string;
  readonly flavor: Required<FlavorSpec>;
  readonly image: StoredImage;
  readonly nics: readonly StoredNic[];
  readonly configDrive: boolean;
  /** Set while the instance is booted from a rescue image. */
  readonly rescue: StoredImage | null;
  /**
   * Set by a resize until it is confirmed or reverted: the flavor before it and which disk files
   * it copied aside (`<file>.pre-resize`); files not listed did not exist before the resize.
   */
  readonly preResize?: { readonly flavor: Required<FlavorSpec>; readonly files: readonly string[] } | null;
  readonly createdAt: string;
}

/** The disk files a resize may change, as named in the instance directory. */
export const RESIZED_FILES = ['disk', 'disk.local', 'disk.swap'] as const;

/** PCI slots of NICs on the i440fx root bus (0x02 VGA, 0x03 RNG, 0x04-0x0f disks). */
export const NIC_SLOT_FIRST = 0x10;
export const NIC_SLOT_LAST = 0x1f;

export async function readConfig(paths: InstancePaths): Promise<InstanceConfig | null> {
  try {
    return JSON.parse(await readFile(paths.config, 'utf8')) as InstanceConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes instance.json atomically (a crash leaves the old or the new one, never half). */
export async function writeConfig(paths: InstancePaths, cfg: InstanceConfig): Promise<void> {
  const tmp = `${paths.config}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(cfg, null, 1)}\n`, { mode: 0o600 });
  await rename(tmp, paths.config);
}

/** The lowest NIC slot not in use. */
export function freeNicSlot(nics: readonly StoredNic[]): number {
  for (let s = NIC_SLOT_FIRST; s <= NIC_SLOT_LAST; s++) if (!nics.some((n) => n.slot === s)) return s;
  throw new ComputeDriverError('InvalidSpec', `at most ${NIC_SLOT_LAST - NIC_SLOT_FIRST + 1} network interfaces per instance`);
}

// ----------------------------------------------------------------- checks of the caller's specs

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PORT_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const TAP_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const NS_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const IMAGE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const invalid = (what: string): ComputeDriverError => new ComputeDriverError('InvalidSpec', what);

export function checkUuid(id: unknown, what: string): string {
  if (typeof id !== 'string' || !UUID_RE.test(id)) throw invalid(`${what} must be a UUID: ${JSON.stringify(id)}`);
  return id;
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${what} must be an integer from ${min} to ${max}: ${JSON.stringify(v)}`);
  return v;
}

function absPath(v: unknown, what: string): string {
  if (typeof v !== 'string' || !isAbsolute(v) || v.includes('\0')) throw invalid(`${what} must be an absolute path: ${JSON.stringify(v)}`);
  return v;
}

export function checkFlavor(f: FlavorSpec): Required<FlavorSpec> {
  return {
    vcpus: int(f.vcpus, 'vcpus', 1, 255),
    memoryMb: int(f.memoryMb, 'memoryMb', 64, 4 * 1024 * 1024),
    rootGb: int(f.rootGb, 'rootGb', 0, 64 * 1024),
    ephemeralGb: int(f.ephemeralGb ?? 0, 'ephemeralGb', 0, 64 * 1024),
    swapMb: int(f.swapMb ?? 0, 'swapMb', 0, 1024 * 1024),
  };
}

export function checkImage(i: ImageSpec): ImageSpec {
  if (typeof i !== 'object' || i === null) throw invalid('image is required');
  if (typeof i.id !== 'string' || !IMAGE_ID_RE.test(i.id)) throw invalid(`invalid image id ${JSON.stringify(i.id)}`);
  absPath(i.path, 'image.path');
  if (i.format !== 'raw' && i.format !== 'qcow2') throw invalid(`image.format must be raw or qcow2: ${JSON.stringify(i.format)}`);
  if (i.kernelPath !== undefined) absPath(i.kernelPath, 'image.kernelPath');
  if (i.ramdiskPath !== undefined) {
    absPath(i.ramdiskPath, 'image.ramdiskPath');
    if (i.kernelPath === undefined) throw invalid('image.ramdiskPath needs image.kernelPath');
  }
  if (i.kernelCmdline !== undefined && (typeof i.kernelCmdline !== 'string' || /[\0\n]/.test(i.kernelCmdline) || i.kernelCmdline.length > 4096)) {
    throw invalid('image.kernelCmdline must be one line of at most 4096 characters');
  }
  return i;
}

export function checkNic(n: NicSpec): NicSpec {
  if (typeof n !== 'object' || n === null) throw invalid('a NIC must be an object');
  if (typeof n.portId !== 'string' || !PORT_RE.test(n.portId)) throw invalid(`invalid port id ${JSON.stringify(n.portId)}`);
  if (typeof n.tapName !== 'string' || !TAP_RE.test(n.tapName)) throw invalid(`invalid TAP name ${JSON.stringify(n.tapName)} (at most 15 characters)`);
  if (typeof n.mac !== 'string' || !MAC_RE.test(n.mac)) throw invalid(`invalid MAC address ${JSON.stringify(n.mac)}`);
  if (parseInt(n.mac.slice(0, 2), 16) & 1) throw invalid(`MAC address ${n.mac} is a multicast address`);
  int(n.mtu, 'mtu', 68, 65535);
  return { portId: n.portId, tapName: n.tapName, mac: n.mac.toLowerCase(), mtu: n.mtu };
}

/** Checks a NIC list: each NIC, and no port, TAP or MAC twice. */
export function checkNics(nics: readonly NicSpec[]): NicSpec[] {
  if (!Array.isArray(nics)) throw invalid('nics must be a list');
  const out = nics.map(checkNic);
  for (const key of ['portId', 'tapName', 'mac'] as const) {
    const seen = new Set<string>();
    for (const n of out) {
      if (seen.has(n[key])) throw invalid(`${key} ${n[key]} appears twice`);
      seen.add(n[key]);
    }
  }
  if (out.length > NIC_SLOT_LAST - NIC_SLOT_FIRST + 1) throw invalid('too many network interfaces');
  return out;
}

export function checkNamespace(ns: unknown): string {
  if (typeof ns !== 'string' || !NS_RE.test(ns)) throw invalid(`invalid network namespace ${JSON.stringify(ns)}`);
  return ns;
}

/** Checks a whole spawn spec (throws InvalidSpec naming the field). */
export function checkSpec(spec: InstanceSpec): { flavor: Required<FlavorSpec>; nics: NicSpec[] } {
  if (typeof spec !== 'object' || spec === null) throw invalid('spec is required');
  checkUuid(spec.instanceId, 'instanceId');
  if (typeof spec.name !== 'string' || spec.name.length > 255) throw invalid('name must be a string of at most 255 characters');
  checkImage(spec.image);
  checkNamespace(spec.namespace);
  if (spec.configDriveIso !== undefined) absPath(spec.configDriveIso, 'configDriveIso');
  return { flavor: checkFlavor(spec), nics: checkNics(spec.nics) };
}
