/**
 * Stand-ins for VMs in data-plane tests, until compute lands: a namespace whose interface `vm0` is
 * one end of a veth pair, the other end being the port's `tap…` in the host namespace (where QEMU's
 * TAP would be). Also `ping` from inside a namespace with a bounded time.
 */
import { exec, HostCommandError } from '../../src/network/host/exec.js';
import { addrAdd, linkAddVeth, linkSet, netnsAdd } from '../../src/network/host/ip.js';

/** The interface inside a fake VM's namespace. */
export const VM_DEV = 'vm0';

/** Creates namespace `ns` with `vm0` (MAC = the port's, MTU, optional address) plugged as `hostLink` into `hostNs`. */
export async function plugFakeVm(o: {
  readonly ns: string; readonly hostNs: string; readonly hostLink: string; readonly mac: string; readonly mtu: number; readonly cidr?: string;
}): Promise<void> {
  await netnsAdd(o.ns);
  await linkAddVeth(o.ns, VM_DEV, { name: o.hostLink, netns: o.hostNs }, { mac: o.mac, mtu: o.mtu });
  await linkSet(o.ns, 'lo', { up: true });
  await linkSet(o.ns, VM_DEV, { up: true });
  if (o.cidr) await addrAdd(o.ns, VM_DEV, o.cidr);
}

/**
 * Whether `dst` answers a ping from namespace `ns` (true on any reply of `count`; false when none came). `size` is the
 * ICMP payload; `dontFragment` sets DF and forbids local fragmentation (`-M do`).
 */
export async function pings(ns: string, dst: string, o: { readonly count?: number; readonly size?: number; readonly dontFragment?: boolean } = {}): Promise<boolean> {
  const count = o.count ?? 3;
  const args = ['-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1'];
  if (o.size !== undefined) args.push('-s', String(o.size));
  if (o.dontFragment) args.push('-M', 'do');
  try {
    await exec('ping', [...args, dst], { netns: ns, timeoutMs: (count + 3) * 1000 });
    return true;
  } catch (err) {
    // ping exits 1 when no reply came; anything else (2: no route, bad use; 255: no ping) is a broken test.
    if (err instanceof HostCommandError && err.code === 1) return false;
    throw err;
  }
}
