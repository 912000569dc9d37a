/**
 * NIC hot-plug over QMP: netdev_add opens the TAP (QEMU runs in the host namespace, so the name
 * resolves there), device_add plugs a virtio-net-pci into the NIC's slot (ACPI PCI hot-plug of the
 * i440fx root bus). Unplug needs the guest: device_del asks it to eject the device, and QEMU
 * reports DEVICE_DELETED once it has; only then is the TAP released (netdev_del).
 */
import { ComputeDriverError } from '../errors.js';
import { nicDevice, nicIds, nicNetdev } from './command-line.js';
import type { StoredNic } from './instance-config.js';
import { QmpCommandError, withQmp } from './qmp.js';

export async function plugNic(qmpPath: string, nic: StoredNic): Promise<void> {
  await withQmp(qmpPath, async (q) => {
    await q.execute('netdev_add', nicNetdev(nic));
    try {
      await q.execute('device_add', nicDevice(nic));
    } catch (err) {
      await q.execute('netdev_del', { id: nicIds(nic.portId).netdev }).catch(() => undefined);
      throw err;
    }
  }).catch((err: unknown) => {
    throw new ComputeDriverError('HypervisorError', `cannot hot-plug port ${nic.portId} (${nic.tapName}): ${(err as Error).message}`, { cause: err });
  });
}

export async function unplugNic(qmpPath: string, portId: string, timeoutMs: number): Promise<void> {
  const ids = nicIds(portId);
  await withQmp(qmpPath, async (q) => {
    const since = q.mark();
    let present = true;
    try {
      await q.execute('device_del', { id: ids.device });
    } catch (err) {
      if (!(err instanceof QmpCommandError && err.errorClass === 'DeviceNotFound')) throw err;
      present = false;
    }
    if (present) {
      try {
        await q.waitEvent('DEVICE_DELETED', { since, match: (d) => d.device === ids.device, timeoutMs });
      } catch (err) {
        throw new ComputeDriverError('DeviceDetachFailed', `the guest did not release port ${portId}'s NIC within ${timeoutMs / 1000} s`, { cause: err });
      }
    }
    await q.execute('netdev_del', { id: ids.netdev }).catch((err: unknown) => {
      if (!(err instanceof QmpCommandError)) throw err; // already gone: fine
    });
  });
}
