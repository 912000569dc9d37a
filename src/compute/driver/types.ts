/**
 * The compute driver interface: what a compute agent asks of a hypervisor on its host. No HTTP, no
 * database — the agent holds the desired state and calls these; a driver only knows the host.
 * Implementations: `qemu` (real VMs, qemu/driver.ts) and `fake` (simulated hosts, for scale work).
 *
 * Semantics follow Nova's virt driver contract: every call is about one instance (by its UUID),
 * operations on one instance are serialised by the driver, and each call either reaches its end
 * state or throws a ComputeDriverError (errors.ts) that says why. Calls that converge to a state
 * (powerOff, powerOn, destroy, pause, unpause) are idempotent: calling them again is harmless.
 */

/**
 * What the hypervisor says an instance is doing (Nova's power_state): running, paused (vCPUs
 * stopped, memory kept), shutdown (no process; disks kept), crashed (the process died without a
 * clean shutdown, or the guest panicked), suspended (memory saved to disk, no process), missing
 * (the driver knows nothing of it).
 */
export type PowerState = 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended' | 'missing';

/** Hardware acceleration of the hypervisor: `kvm` or `qemu` (TCG, pure emulation) — Nova's virt_type. */
export type VirtType = 'kvm' | 'qemu';

/** A disk image the driver boots from, already on this host. */
export interface ImageSpec {
  /** The image's id (UUID): names its cached base file. */
  readonly id: string;
  /** A local file holding the image (in the image cache or elsewhere); the driver copies it into its cache once. */
  readonly path: string;
  /** The image's disk_format; its content must match (a raw image that looks like qcow2 is refused). */
  readonly format: 'raw' | 'qcow2';
  /** Direct kernel boot: the kernel (the image's kernel_id, downloaded). The root disk is still attached. */
  readonly kernelPath?: string;
  /** Direct kernel boot: the initramfs (the image's ramdisk_id, downloaded). Needs kernelPath. */
  readonly ramdiskPath?: string;
  /** Direct kernel boot: the command line (the image's os_command_line); default `root=/dev/vda console=tty0 console=ttyS0`. */
  readonly kernelCmdline?: string;
}

/** One network port of an instance, plugged by the network agent as a TAP in the host namespace. */
export interface NicSpec {
  /** The port's id (UUID). */
  readonly portId: string;
  /** The existing TAP in the host namespace (`tap<port id[0:11]>`); the driver never creates or deletes it. */
  readonly tapName: string;
  /** The port's mac_address: the guest's NIC gets it. */
  readonly mac: string;
  /** The network's MTU: advertised to the guest by virtio-net (host_mtu) as well as by DHCP. */
  readonly mtu: number;
}

/** The sizes a flavor gives an instance. */
export interface FlavorSpec {
  readonly vcpus: number;
  readonly memoryMb: number;
  /** Root disk size (GiB); 0 = the image's own virtual size (Nova's root_gb=0 flavors). */
  readonly rootGb: number;
  /** An ephemeral disk (GiB, ext4, label `ephemeral0`); 0 or absent = none. */
  readonly ephemeralGb?: number;
  /** A swap disk (MiB, label `swap0`); 0 or absent = none. */
  readonly swapMb?: number;
}

/** Everything `spawn` needs to make and start an instance. */
export interface InstanceSpec extends FlavorSpec {
  /** The instance's UUID: names its directory, its QEMU (-uuid, SMBIOS serial) and every call about it. */
  readonly instanceId: string;
  /** Display name (logs only; never on a command line). */
  readonly name: string;
  readonly image: ImageSpec;
  readonly nics: readonly NicSpec[];
  /** The host's network namespace holding the TAPs (`nephos-<host>`); QEMU runs in it. */
  readonly namespace: string;
  /** An ISO 9660 config drive (label config-2) the caller built; the driver keeps a copy with the instance. */
  readonly configDriveIso?: string;
}

/** What the driver knows of one instance. */
export interface InstanceInfo {
  readonly instanceId: string;
  readonly name: string;
  readonly state: PowerState;
  /** The hypervisor process while there is one. */
  readonly pid: number | null;
  /** Booted from a rescue image (rescue/unrescue). */
  readonly rescued: boolean;
  readonly flavor: Required<FlavorSpec>;
  readonly imageId: string;
  readonly nics: readonly NicSpec[];
  readonly namespace: string;
  readonly configDrive: boolean;
}

/** The host's capacity and hypervisor, as Nova's os-hypervisors reports them. */
export interface HostInfo {
  /** Logical CPUs of the host (vcpus). */
  readonly vcpus: number;
  /** Physical memory (memory_mb). */
  readonly memoryMb: number;
  /** Size of the file system holding the instances (local_gb). */
  readonly localGb: number;
  /** Free space there (disk_available_least / free_disk_gb). */
  readonly localGbFree: number;
  /** `QEMU` (hypervisor_type). */
  readonly hypervisorType: 'QEMU';
  /** QEMU's version, e.g. `7.2.22`. */
  readonly version: string;
  /** The same as Nova's integer hypervisor_version: major * 1,000,000 + minor * 1,000 + micro. */
  readonly hypervisorVersion: number;
  /** `kvm` when KVM works here (and is allowed), else `qemu` (TCG). */
  readonly virtType: VirtType;
  /** cpu_info: architecture and the host CPU's model. */
  readonly cpuInfo: { readonly arch: string; readonly model: string; readonly vendor: string };
}

/** A disk image made from an instance's root disk by `snapshot`. */
export interface SnapshotResult {
  /** A standalone qcow2 file (no backing file). The caller uploads it, then deletes it. */
  readonly path: string;
  readonly format: 'qcow2';
  readonly virtualSize: number;
  /** Bytes on disk. */
  readonly size: number;
  /** How it was taken: `blockdev-backup` (instance has a process, the guest kept running) or `qemu-img-convert` (no process). */
  readonly method: 'blockdev-backup' | 'qemu-img-convert';
}

/**
 * What the hypervisor tells about one instance (Nova's instance diagnostics); a figure it cannot
 * tell is null. Disks and NICs in the guest's order; NIC counters as the guest sees them.
 */
export interface InstanceDiagnostics {
  readonly state: PowerState;
  /** vCPUs with their CPU time (ns) — none without a hypervisor process. */
  readonly cpus: readonly { readonly id: number; readonly timeNs: number | null }[];
  /** Memory given to the guest and in use by it (MiB); the hypervisor process' resident set (KiB) when there is one. */
  readonly memory: { readonly maximumMb: number; readonly usedMb: number | null; readonly rssKb?: number | null };
  /** Block devices (guest name such as `vda`) — none without a hypervisor process. */
  readonly disks: readonly {
    readonly name: string; readonly readBytes: number | null; readonly readRequests: number | null;
    readonly writeBytes: number | null; readonly writeRequests: number | null; readonly errors: number | null;
  }[];
  /** NICs (MAC, the host-side device when it exists) and their counters. */
  readonly nics: readonly {
    readonly mac: string; readonly device: string | null;
    readonly rxOctets: number | null; readonly rxPackets: number | null; readonly rxErrors: number | null; readonly rxDrop: number | null;
    readonly txOctets: number | null; readonly txPackets: number | null; readonly txErrors: number | null; readonly txDrop: number | null;
  }[];
}

/** Options of a graceful stop: how long the guest gets to shut down after the ACPI power button. */
export interface ShutdownOptions {
  /** Seconds; 0 = stop at once (hard). Default: the driver's shutdown timeout (Nova's shutdown_timeout, 60). */
  readonly timeoutSec?: number;
}

export interface ComputeDriver {
  /** The driver's name in the registry (`qemu`, `fake`). */
  readonly type: string;
  /** The host's capacity and hypervisor (also probes the acceleration once; throws when a required kvm cannot work). */
  hostInfo(): Promise<HostInfo>;
  /** Every instance on this host the driver knows (including stopped, suspended, crashed ones); re-adopts running ones. */
  listInstances(): Promise<InstanceInfo[]>;
  /** One instance, or null when missing. */
  getInstance(instanceId: string): Promise<InstanceInfo | null>;
  /** Makes the instance's disks and starts it (returns once the hypervisor runs, not when the guest has booted). */
  spawn(spec: InstanceSpec): Promise<InstanceInfo>;
  /** The instance's power state. */
  state(instanceId: string): Promise<PowerState>;
  /** Graceful stop: the ACPI power button (pressed again every 10 s), then a hard stop after the timeout. Ends in `shutdown`. */
  powerOff(instanceId: string, o?: ShutdownOptions): Promise<void>;
  /** Starts a stopped or crashed instance with the same disks; resumes a suspended or paused one. Ends in `running`. */
  powerOn(instanceId: string): Promise<void>;
  /**
   * soft: a graceful stop (as powerOff) and a start; when the guest ignores the power button, a hard reboot.
   * hard: a reset of the running machine (system_reset), or a fresh start when there is no healthy process.
   */
  reboot(instanceId: string, kind: 'soft' | 'hard', o?: ShutdownOptions): Promise<void>;
  /** Stops the vCPUs, memory stays (state `paused`). */
  pause(instanceId: string): Promise<void>;
  unpause(instanceId: string): Promise<void>;
  /** Saves the memory to disk and ends the process (state `suspended`). */
  suspend(instanceId: string): Promise<void>;
  /** Restores a suspended instance from its saved memory (the guest continues where it was). */
  resume(instanceId: string): Promise<void>;
  /** Ends the process (hard) and removes the instance's files and disks; never touches its TAPs. Idempotent. */
  destroy(instanceId: string): Promise<void>;
  /** The serial console's output: the last `lines` lines (default: up to the last 100 KiB). */
  consoleOutput(instanceId: string, lines?: number): Promise<string>;
  /** A point-in-time copy of the root disk as a standalone image file (in `dir`, default the driver's snapshot directory). */
  snapshot(instanceId: string, o?: { readonly dir?: string }): Promise<SnapshotResult>;
  /**
   * New sizes: a graceful stop, disks grown (never shrunk), started again when it ran before. The
   * instance as it was (its flavor and disks) is kept until `finishResize`.
   */
  resize(instanceId: string, flavor: FlavorSpec, o?: ShutdownOptions): Promise<void>;
  /**
   * Ends a resize: confirmed, the kept pre-resize disks are dropped; reverted, they come back
   * with the old flavor (what the guest wrote since the resize is lost, as in Nova), after a
   * graceful stop, started again when it ran. False when no resize was pending (nothing done).
   */
  finishResize(instanceId: string, revert: boolean, o?: ShutdownOptions): Promise<boolean>;
  /**
   * A new root disk from `image`, a blank ephemeral disk (unless preserveEphemeral), optionally a new
   * config drive; started again when it ran before (a stopped instance stays stopped).
   */
  rebuild(instanceId: string, image: ImageSpec, o?: ShutdownOptions & { readonly configDriveIso?: string; readonly preserveEphemeral?: boolean }): Promise<void>;
  /** Hot-plugs a NIC (when the instance runs) and keeps it in the instance's configuration. */
  attachInterface(instanceId: string, nic: NicSpec): Promise<void>;
  /** Hot-unplugs the NIC of `portId` (the guest must release it) and forgets it. */
  detachInterface(instanceId: string, portId: string): Promise<void>;
  /** A graceful stop, then a boot from `image` with the instance's root disk as second disk (and its config drive). */
  rescue(instanceId: string, image: ImageSpec, o?: ShutdownOptions): Promise<void>;
  /** Ends the rescue boot and starts the instance from its own root disk again. */
  unrescue(instanceId: string): Promise<void>;
  /** What the hypervisor tells about the instance (CPU time, memory, disk and NIC counters); absent: not supported (501). */
  diagnostics?(instanceId: string): Promise<InstanceDiagnostics>;
}
