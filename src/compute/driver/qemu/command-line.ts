/**
 * QEMU's command line for an instance, from its stored configuration alone (so that a stop and
 * start, a resume from saved memory or a restart after an agent crash make the same machine).
 *
 * The machine: i440fx (`pc`: ACPI PCI hot-plug on the root bus for NICs), TCG or KVM, the serial
 * console appended to console.log, QEMU's messages to qemu.log, two QMP monitors (operations, status), a pid file, daemonized
 * (QEMU outlives the agent), SMBIOS saying OpenStack Nova with the instance's UUID (as cloud-init
 * expects), virtio-rng fed by /dev/urandom, virtio disks, virtio NICs on the port's existing TAP
 * with the port's MAC and the network's MTU (host_mtu). Fixed PCI slots: 0x02 VGA, 0x03 RNG,
 * 0x04.. disks, 0x10..0x1f NICs (a NIC keeps its slot, so the guest's NIC order never changes).
 *
 * Fast boot under TCG (guest/README.md): `romfile=` on NICs (no iPXE ROM), the config drive on
 * virtio (the guest never probes IDE for it), qboot as firmware for direct kernel boot.
 */
import type { VirtType } from '../types.js';
import type { InstanceConfig, InstancePaths, StoredImage, StoredNic } from './instance-config.js';

/** Kernel command line of a direct boot whose image names none (as Nova's). */
export const DEFAULT_KERNEL_CMDLINE = 'root=/dev/vda console=tty0 console=ttyS0';

/** Host facts the command line depends on. */
export interface HostOptions {
  readonly virtType: VirtType;
  /** qboot's path when installed (direct kernel boot then skips SeaBIOS), else null. */
  readonly qboot: string | null;
}

/** A value inside a QEMU option string: commas are doubled. */
export function optValue(v: string): string {
  return v.replaceAll(',', ',,');
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** QEMU ids of a NIC (hot-plug and unplug address them). */
export function nicIds(portId: string): { readonly netdev: string; readonly device: string } {
  return { netdev: `hostnet-${portId}`, device: `net-${portId}` };
}

/** The -netdev / device_add properties of a NIC. */
export function nicNetdev(n: StoredNic): Record<string, string | boolean> {
  return { type: 'tap', id: nicIds(n.portId).netdev, ifname: n.tapName, script: 'no', downscript: 'no', vhost: false };
}

export function nicDevice(n: StoredNic): Record<string, string | number> {
  const ids = nicIds(n.portId);
  return { driver: 'virtio-net-pci', id: ids.device, netdev: ids.netdev, mac: n.mac, host_mtu: n.mtu, romfile: '', addr: hex(n.slot) };
}

function props(o: Record<string, string | number | boolean>): string {
  return Object.entries(o).map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : optValue(String(v))}`).join(',');
}

interface Disk { readonly name: string; readonly file: string; readonly format: 'raw' | 'qcow2'; readonly readonly?: boolean; readonly boot?: boolean }

/** Node name of an instance disk's format layer (QMP addresses the root disk as `disk-root`). */
export const diskNode = (name: string): string => `disk-${name}`;

function disks(cfg: InstanceConfig, p: InstancePaths): Disk[] {
  const out: Disk[] = [];
  if (cfg.rescue) out.push({ name: 'rescue', file: p.diskRescue, format: 'qcow2', boot: true });
  out.push({ name: 'root', file: p.disk, format: 'qcow2', boot: !cfg.rescue });
  if (cfg.flavor.ephemeralGb > 0) out.push({ name: 'local', file: p.diskLocal, format: 'qcow2' });
  if (cfg.flavor.swapMb > 0) out.push({ name: 'swap', file: p.diskSwap, format: 'qcow2' });
  if (cfg.configDrive) out.push({ name: 'config', file: p.diskConfig, format: 'raw', readonly: true });
  return out;
}

function kernelArgs(img: StoredImage, kernel: string, ramdisk: string, host: HostOptions): string[] {
  if (!img.kernel) return [];
  const args = ['-kernel', kernel];
  if (img.ramdisk) args.push('-initrd', ramdisk);
  args.push('-append', img.kernelCmdline ?? DEFAULT_KERNEL_CMDLINE);
  if (host.qboot) args.push('-bios', host.qboot);
  return args;
}

/** The full argument list (after the binary) for `cfg`; `incoming` restores saved memory (-incoming). */
export function qemuArgs(cfg: InstanceConfig, p: InstancePaths, host: HostOptions, o: { readonly incoming?: string } = {}): string[] {
  const id = cfg.instanceId;
  const { vcpus, memoryMb } = cfg.flavor;
  const args = [
    '-name', `guest=${id},debug-threads=on`,
    '-uuid', id,
    '-no-user-config', '-nodefaults',
    '-machine', 'pc', '-accel', host.virtType === 'kvm' ? 'kvm' : 'tcg',
    ...(host.virtType === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(memoryMb),
    '-smp', `${vcpus},sockets=${vcpus},cores=1,threads=1`,
    '-rtc', 'base=utc',
    '-smbios', `type=1,manufacturer=Nephos,product=OpenStack Nova,serial=${id},uuid=${id},family=Virtual Machine`,
    '-display', 'none',
    '-device', 'VGA,id=video0,addr=0x2',
    '-chardev', `file,id=charserial0,path=${optValue(p.console)},append=on`,
    '-device', 'isa-serial,chardev=charserial0,id=serial0',
    '-chardev', `socket,id=charmonitor,path=${optValue(p.qmp)},server=on,wait=off`,
    '-mon', 'chardev=charmonitor,id=monitor,mode=control',
    '-chardev', `socket,id=charstatus,path=${optValue(p.qmpStatus)},server=on,wait=off`,
    '-mon', 'chardev=charstatus,id=status,mode=control',
    '-object', 'rng-random,id=objrng0,filename=/dev/urandom',
    '-device', 'virtio-rng-pci,rng=objrng0,id=rng0,addr=0x3',
  ];
  disks(cfg, p).forEach((d, i) => {
    args.push('-drive', props({
      file: d.file, format: d.format, if: 'none', id: `drive-${d.name}`, 'node-name': diskNode(d.name),
      ...(d.readonly ? { readonly: true } : { discard: 'unmap' }),
    }));
    args.push('-device', `virtio-blk-pci,${props({ drive: `drive-${d.name}`, id: `virtio-disk-${d.name}`, addr: hex(0x4 + i), ...(d.boot ? { bootindex: 1 } : {}) })}`);
  });
  for (const n of cfg.nics) {
    const { type, ...netdev } = nicNetdev(n);
    args.push('-netdev', `${type},${props(netdev)}`);
    const { driver, ...device } = nicDevice(n);
    args.push('-device', `${driver},${props(device)}`);
  }
  args.push(...(cfg.rescue
    ? kernelArgs(cfg.rescue, p.kernelRescue, p.ramdiskRescue, host)
    : kernelArgs(cfg.image, p.kernel, p.ramdisk, host)));
  if (o.incoming) args.push('-incoming', o.incoming);
  args.push('-msg', 'timestamp=on', '-D', p.qemuLog, '-pidfile', p.pid, '-daemonize');
  return args;
}
