/**
 * The network bench's "security-group rule → enforced on the wire" figure for the Nephos
 * all-in-one it starts (agent on, host `bench<pid>`): as test/network/dataplane-e2e.test.ts does
 * in-process, a namespace stands in for a VM on a port bound to the agent's host (its veth takes
 * the TAP's place), gets its address by DHCP, and is reached from the public namespace through a
 * floating IP. Each trial times a `POST /v2.0/security-group-rules` opening a TCP port until the
 * first connection from the public side gets through, then deletes the rule and waits until the
 * port is closed again. Everything made on the host is removed by `cleanup` (the agent's own host
 * objects by the bench's cleanupHost once the all-in-one has stopped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { addrAdd, linkDelete, linkGet, linkSet, netnsDelete, routeReplace } from '../../src/network/host/ip.js';
import { hostNamespace, tapName } from '../../src/network/host/names.js';
import { VM_DEV, dhcpLease, plugFakeVm } from '../../test/lib/fake-vm.js';
import { wallMs, type ProbeRequest } from '../../test/network/netns-probe.js';
import { createHttpClient } from './http-client.js';
import type { NetworkTarget } from './network-client.js';

const PROBE_SCRIPT = fileURLToPath(new URL('../../test/network/netns-probe.js', import.meta.url));

/** The TCP port each trial opens, and one opened once to know the path works before timing. */
const TRIAL_PORT = 2222;
const READY_PORT = 2221;
/** The fake VM's network (apart from the bench's 10.64/10.128 ranges and the default private 10.0.0.0/24). */
const VM_CIDR = '10.251.0.0/24';

type Request = ProbeRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
interface Answer { readonly ok: boolean; readonly [k: string]: unknown }

/** test/network/netns-probe.js running in one namespace, asked by JSON lines. */
class NetnsProbe {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (a: Answer) => void>();
  #next = 1;

  constructor(ns: string) {
    // `ip netns exec` execs node in place: the child's pid is the probe's own.
    this.#child = spawn('ip', ['netns', 'exec', ns, process.execPath, PROBE_SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.#child.on('error', () => undefined);
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as Answer & { id: number };
      this.#waiting.get(a.id)?.(a);
      this.#waiting.delete(a.id);
    });
  }

  ask(req: Request, timeoutMs = 15_000): Promise<Answer> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`netns probe did not answer ${req.op} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.set(id, (a) => { clearTimeout(timer); resolve(a); });
      this.#child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** Stops the probe by its pid and waits (bounded) for it to be gone. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin?.end();
    this.#child.kill('SIGKILL');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value or `maxMs` passed; throws `what` then. */
async function waitFor<T>(what: string, maxMs: number, everyMs: number, check: () => Promise<T | undefined | null | false>): Promise<T> {
  const end = Date.now() + maxMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${maxMs / 1000} s`);
    await sleep(everyMs);
  }
}

/** Where the probe runs: the agent's host and public namespace of the bench's all-in-one. */
export interface SgWireProbeInput {
  /** `network.host` of the all-in-one (its agent's host namespace is `nephos-<host>`). */
  host: string;
  /** `network.public_namespace` of the all-in-one. */
  publicNamespace: string;
  /** A private directory for the DHCP client's script. */
  workDir: string;
  log?: (line: string) => void;
}

/** The probe and the cleanup of what it made on the host (idempotent; run it even when the probe failed). */
export interface SgWireProbe {
  probe(target: NetworkTarget, trials: number): Promise<number[]>;
  cleanup(): Promise<void>;
}

/** Builds the Nephos-side SG-rule-to-wire probe (see the module comment). */
export function createSgWireProbe(input: SgWireProbeInput): SgWireProbe {
  const hostNs = hostNamespace(input.host);
  // Named after the host so a reader of `ip netns` sees whose it is; removed by cleanup().
  const vmNs = `${hostNs}-sgvm`;
  const probes: NetnsProbe[] = [];
  const log = input.log ?? (() => undefined);

  async function cleanup(): Promise<void> {
    for (const p of probes.splice(0)) await p.stop();
    await netnsDelete(vmNs);
  }

  async function probe(target: NetworkTarget, trials: number): Promise<number[]> {
    const http = createHttpClient(`${target.url.replace(/\/+$/, '')}/v2.0`, 2);
    const call = async <T = Record<string, any>>(method: string, path: string, expect: number, json?: unknown): Promise<T> => {
      const res = await http.send(method, path, { headers: { 'x-auth-token': target.token }, json, expect });
      return (res.body ? JSON.parse(res.body) : undefined) as T;
    };
    try {
      return await measure(call, trials);
    } finally {
      http.close();
      await cleanup();
    }
  }

  async function measure(call: <T = Record<string, any>>(m: string, p: string, e: number, j?: unknown) => Promise<T>, trials: number): Promise<number[]> {
    const tag = randomBytes(3).toString('hex');
    const pub = (await call('GET', '/networks?name=public', 200)).networks[0];
    if (!pub) throw new Error('no external network "public" (NEPHOS_NETWORK_CREATE_DEFAULTS)');
    // A tenant network of its own behind a router to public, and a group with no ingress rule.
    const net = (await call('POST', '/networks', 201, { network: { name: `bench-sg-${tag}` } })).network;
    const subnet = (await call('POST', '/subnets', 201, { subnet: { network_id: net.id, ip_version: 4, cidr: VM_CIDR, name: `bench-sg-${tag}` } })).subnet;
    const router = (await call('POST', '/routers', 201, { router: { name: `bench-sg-${tag}`, external_gateway_info: { network_id: pub.id } } })).router;
    await call('PUT', `/routers/${router.id}/add_router_interface`, 200, { subnet_id: subnet.id });
    const group = (await call('POST', '/security-groups', 201, { security_group: { name: `bench-sg-${tag}` } })).security_group;
    // Bound to the agent's host as Nova binds an instance port: the agent makes its TAP.
    const port = (await call('POST', '/ports', 201, {
      port: { network_id: net.id, name: `bench-sg-${tag}`, security_groups: [group.id], 'binding:host_id': input.host, device_owner: 'compute:nova', device_id: randomUUID() },
    })).port;
    const tap = tapName(port.id);
    await waitFor(`the agent making ${tap} in ${hostNs}`, 30_000, 100, () => linkGet(hostNs, tap));
    // The fake VM takes the TAP's place (a veth of the same name, which the agent adopts). The agent
    // may recreate the TAP between the delete and the plug: then try again (bounded).
    await waitFor(`plugging the fake VM into ${tap}`, 20_000, 200, async () => {
      await netnsDelete(vmNs);
      await linkDelete(hostNs, tap);
      await plugFakeVm({ ns: vmNs, hostNs, hostLink: tap, mac: String(port.mac_address), mtu: 1500 });
      return (await linkGet(hostNs, tap))?.kind === 'veth' && (await linkGet(vmNs, VM_DEV)) !== null;
    });
    // Any API change pokes the agent, which then plugs the veth into the bridge.
    const fip = (await call('POST', '/floatingips', 201, { floatingip: { floating_network_id: pub.id, port_id: port.id } })).floatingip;
    const lease = await waitFor('a DHCP lease for the fake VM', 60_000, 500, () => dhcpLease(vmNs, input.workDir));
    if (lease.ip !== port.fixed_ips[0].ip_address) throw new Error(`DHCP gave ${lease.ip}, the port has ${port.fixed_ips[0].ip_address}`);
    await addrAdd(vmNs, VM_DEV, `${lease.ip}/${VM_CIDR.split('/')[1]}`);
    await linkSet(vmNs, VM_DEV, { mtu: Number(lease.mtu ?? 1500) });
    await routeReplace(vmNs, { dst: 'default', via: String(lease.router) });

    const vm = new NetnsProbe(vmNs);
    probes.push(vm);
    const outside = new NetnsProbe(input.publicNamespace);
    probes.push(outside);
    for (const p of [READY_PORT, TRIAL_PORT]) {
      const a = await vm.ask({ op: 'listen-tcp', port: p });
      if (!a.ok) throw new Error(`fake VM could not listen on ${p}: ${String(a.error)}`);
    }
    const rule = (portNo: number) => ({ security_group_rule: { security_group_id: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: portNo, port_range_max: portNo } });
    const connects = async (portNo: number, timeoutMs: number): Promise<boolean> =>
      (await outside.ask({ op: 'tcp-connect', host: fip.floating_ip_address, port: portNo, timeoutMs })).ok;
    // The whole path (router, SNAT/DNAT, bridge, firewall) works before any timing.
    await call('POST', '/security-group-rules', 201, rule(READY_PORT));
    await waitFor(`a connection to ${fip.floating_ip_address}:${READY_PORT} from ${input.publicNamespace}`, 60_000, 200, () => connects(READY_PORT, 500));
    if (await connects(TRIAL_PORT, 500)) throw new Error(`port ${TRIAL_PORT} is open without a rule`);
    log(`nephos: SG rule -> wire: fake VM ${lease.ip} (floating IP ${fip.floating_ip_address}) on ${input.host}; ${trials} trials`);

    const out: number[] = [];
    for (let i = 0; i < trials; i++) {
      // The prober starts first and tries a new connection every 5 ms; the first that connects ends it.
      const first = outside.ask({ op: 'probe', host: fip.floating_ip_address, port: TRIAL_PORT, everyMs: 5, maxMs: 10_000 }, 20_000);
      first.catch(() => undefined); // awaited below; a failed POST must not leave it unhandled
      const t0 = wallMs();
      const made = (await call('POST', '/security-group-rules', 201, rule(TRIAL_PORT))).security_group_rule;
      const at = (await first).at;
      if (typeof at !== 'number') throw new Error(`trial ${i + 1}: the rule was not enforced within 10 s`);
      out.push(at - t0);
      await call('DELETE', `/security-group-rules/${made.id}`, 204);
      await waitFor(`trial ${i + 1}: port ${TRIAL_PORT} closed again after the rule's delete`, 10_000, 50, async () => !(await connects(TRIAL_PORT, 300)));
    }
    return out;
  }

  return { probe, cleanup };
}
