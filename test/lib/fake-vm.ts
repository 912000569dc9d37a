/**
 * Stand-ins for VMs in data-plane tests, until compute lands: a namespace whose interface `vm0` is
 * one end of a veth pair, the other end being the port's `tap…` in the host namespace (where QEMU's
 * TAP would be). Also `ping` from inside a namespace with a bounded time.
 */
import { exec, HostCommandError } from '../../src/platform/host/exec.js';
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

/**
 * Runs busybox udhcpc in a fake VM and returns the lease's options (ip, mtu, router,
 * staticroutes, …), or null when no server answered within `tries` one-second attempts. `scriptDir`
 * holds the tiny lease-recording script. 121 is requested as real clients do; 26 is not (dnsmasq forces it).
 */
export async function dhcpLease(ns: string, scriptDir: string, tries = 4): Promise<Record<string, string> | null> {
  const { writeFile, readFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const script = join(scriptDir, `udhcpc-${ns}.sh`);
  const out = `${script}.env`;
  await rm(out, { force: true });
  await writeFile(script, `#!/bin/sh\ncase "$1" in bound) env > "${out}" ;; esac\nexit 0\n`, { mode: 0o755 });
  try {
    await exec('/bin/busybox', ['udhcpc', '-i', VM_DEV, '-f', '-q', '-n', '-t', String(tries), '-T', '1', '-s', script, '-O', 'staticroutes'], { netns: ns, timeoutMs: 20_000 });
  } catch (err) {
    if (err instanceof HostCommandError && err.code === 1) return null;
    throw err;
  }
  const env = await readFile(out, 'utf8');
  return Object.fromEntries(env.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** A TCP server in namespace `ns` answering "hi" on `port` (a node child; `stop` kills it by pid). */
export async function tcpServer(ns: string, port: number): Promise<{ stop(): void }> {
  const { spawn } = await import('node:child_process');
  const code = `require('net').createServer((s)=>s.end('hi')).listen(${port},()=>console.log('up'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('tcp server did not start')), 10_000);
    child.stdout!.once('data', () => { clearTimeout(t); resolve(); });
    child.once('exit', (c) => { clearTimeout(t); reject(new Error(`tcp server exited ${c}`)); });
  });
  return { stop: () => { child.kill('SIGKILL'); } };
}

/** Whether a TCP connection from `ns` to host:port gets the server's "hi" within `timeoutMs`. */
export async function tcpConnects(ns: string, host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  const code = `const s=require('net').connect(${port},${JSON.stringify(host)});let d='';s.on('data',(b)=>d+=b);`
    + `s.on('end',()=>process.exit(d==='hi'?0:3));s.on('error',()=>process.exit(4));setTimeout(()=>process.exit(5),${timeoutMs})`;
  try {
    await exec(process.execPath, ['-e', code], { netns: ns, timeoutMs: timeoutMs + 5000 });
    return true;
  } catch (err) {
    if (err instanceof HostCommandError && typeof err.code === 'number') return false;
    throw err;
  }
}
