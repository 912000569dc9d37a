/**
 * The security-group firewall with real packets. A host namespace holds a network's bridge; three
 * "instance" namespaces plug into it by veth pairs whose host ends are named like instance TAPs
 * (`tap<portid[0:11]>`) and whose far ends carry the port's MAC and address, as a VM would. The
 * compiled ruleset is applied with `nft -f -` in the host namespace, as the agent does, and a probe
 * process inside each instance namespace sends and receives the traffic.
 *
 * Ports: A (group "client", member of it), B (group "server"), C (port security off).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exec } from '../../src/platform/host/exec.js';
import { addrAdd, linkAddBridge, linkAddVeth, linkSet, netnsAdd, netnsDelete, sysctlSet } from '../../src/network/host/ip.js';
import { bridgeName, hostNamespace, tapName } from '../../src/network/host/names.js';
import { compileFirewall, FIREWALL_SYSCTLS } from '../../src/network/agent/firewall.js';
import type { DesiredHostState, DesiredPort, DesiredRule } from '../../src/network/agent/desired.js';
import { wallMs, type ProbeRequest } from './netns-probe.js';

const PROBE = fileURLToPath(new URL('./netns-probe.js', import.meta.url));
const HOST = `t${process.pid}f`;
const HOST_NS = hostNamespace(HOST);
const NET = 'f1f1f1f1-0000-4000-8000-000000000001';
const SG_CLIENT = 'c0c0c0c0-0000-4000-8000-000000000001';
const SG_SERVER = '5e5e5e5e-0000-4000-8000-000000000002';

interface Vm { readonly name: string; readonly port: string; readonly mac: string; readonly ip: string; readonly ns: string }
const vm = (name: string, n: number): Vm => ({
  name, port: `${name}${name}${name}${name}0000-0000-4000-8000-00000000000${n}`, mac: `fa:16:3e:77:00:0${n}`,
  ip: `10.77.0.1${n}`, ns: `${HOST_NS}-vm-${name}`,
});
const A = vm('a', 1);
const B = vm('b', 2);
const C = vm('c', 3);

type Request = ProbeRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
interface Answer { readonly ok: boolean; readonly [k: string]: unknown }

/** The probe process inside one instance namespace. */
class Probe {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (a: Answer) => void>();
  #next = 1;

  constructor(ns: string) {
    this.#child = spawn('ip', ['netns', 'exec', ns, process.execPath, PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as Answer & { id: number };
      this.#waiting.get(a.id)?.(a);
      this.#waiting.delete(a.id);
    });
  }

  ask(req: Request, timeoutMs = 15_000): Promise<Answer> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`probe did not answer ${req.op}`)), timeoutMs);
      this.#waiting.set(id, (a) => { clearTimeout(timer); resolve(a); });
      this.#child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** Ends the probe: stdin closed, then its own pid signalled if it is still there. */
  stop(): void {
    this.#child.stdin?.end();
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
  }
}

const rule = (o: Partial<DesiredRule>): DesiredRule => ({
  id: 'r', direction: 'ingress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null,
  remoteIpPrefix: null, remoteGroupId: null, ...o,
});
const tcpIn = (port: number, o: Partial<DesiredRule> = {}): DesiredRule =>
  rule({ protocol: '6', portRangeMin: port, portRangeMax: port, ...o });

const port = (v: Vm, o: Partial<DesiredPort>): DesiredPort => ({
  id: v.port, networkId: NET, macAddress: v.mac, fixedIps: [{ subnetId: 's', ipAddress: v.ip }], allowedAddressPairs: [],
  adminStateUp: true, portSecurity: true, securityGroupIds: [], deviceOwner: 'compute:nova', ...o,
});

/** The host's desired state: B's group gets `serverRules`; the client group's members are `clients`. */
function desired(serverRules: readonly DesiredRule[], clients: readonly string[] = [A.ip]): DesiredHostState {
  return {
    host: HOST,
    networks: [{ id: NET, type: 'flat', segmentationId: null, physicalNetwork: 'test', mtu: 1500, adminStateUp: true }],
    ports: [
      port(A, { securityGroupIds: [SG_CLIENT] }),
      port(B, { securityGroupIds: [SG_SERVER] }),
      port(C, { portSecurity: false }),
    ],
    securityGroups: {
      [SG_CLIENT]: [rule({ direction: 'egress' }), rule({ protocol: '17', portRangeMin: 5353, portRangeMax: 5353 })],
      [SG_SERVER]: [
        rule({ direction: 'egress' }),
        rule({ protocol: '17', portRangeMin: 5353, portRangeMax: 5353, remoteIpPrefix: '0.0.0.0/0' }),
        tcpIn(9090, { remoteGroupId: SG_CLIENT }),
        ...serverRules,
      ],
    },
    groupMembers: { [SG_CLIENT]: clients },
    dhcp: [], routers: [], vtepPeers: {},
  };
}

/** Applies the compiled firewall as the agent does; wall times before and after `nft` ran. */
async function apply(state: DesiredHostState): Promise<{ t0: number; t1: number }> {
  const t0 = wallMs();
  await exec('nft', ['-f', '-'], { netns: HOST_NS, input: compileFirewall(state) });
  return { t0, t1: wallMs() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BLOCKED_MS = 400;

const root = process.getuid?.() === 0;

describe('security-group firewall on real packets', { skip: root ? false : 'needs root (namespaces, nft)' }, () => {
  const probes = new Map<string, Probe>();
  const p = (v: Vm): Probe => probes.get(v.name)!;

  async function connects(from: Vm, to: Vm, tcpPort: number, timeoutMs = 3000): Promise<boolean> {
    return (await p(from).ask({ op: 'tcp-connect', host: to.ip, port: tcpPort, timeoutMs })).ok;
  }

  /** Sends a UDP datagram and reports whether `to` got it (from which source). */
  async function udpDelivered(from: Vm, to: Vm, o: { host?: string; src?: string } = {}): Promise<boolean> {
    const tag = `m${Math.random()}`;
    await p(from).ask({ op: 'udp-send', host: o.host ?? to.ip, port: 5353, data: tag, ...(o.src ? { from: o.src } : {}) });
    await sleep(300);
    const got = (await p(to).ask({ op: 'udp-received' })).received as { from: string; data: string }[];
    return got.some((g) => g.data === tag && g.from === (o.src ?? from.ip));
  }

  before(async () => {
    await netnsAdd(HOST_NS);
    await sysctlSet(HOST_NS, FIREWALL_SYSCTLS);
    const br = bridgeName(NET);
    await linkAddBridge(HOST_NS, br);
    await linkSet(HOST_NS, br, { up: true });
    for (const v of [A, B, C]) {
      await netnsAdd(v.ns);
      await linkAddVeth(HOST_NS, tapName(v.port), { name: 'eth0', netns: v.ns, mac: v.mac });
      await linkSet(HOST_NS, tapName(v.port), { master: br, up: true });
      await linkSet(v.ns, 'lo', { up: true });
      await linkSet(v.ns, 'eth0', { up: true });
      await addrAdd(v.ns, 'eth0', `${v.ip}/24`);
      probes.set(v.name, new Probe(v.ns));
    }
    await p(B).ask({ op: 'listen-tcp', port: 8080 });
    await p(B).ask({ op: 'listen-tcp', port: 9090 });
    await p(C).ask({ op: 'listen-tcp', port: 7070 });
    for (const v of [A, B, C]) await p(v).ask({ op: 'listen-udp', port: 5353 });
    await apply(desired([]));
  });

  after(async () => {
    for (const pr of probes.values()) pr.stop();
    for (const ns of [A.ns, B.ns, C.ns, HOST_NS]) await netnsDelete(ns);
  });

  it('blocks ingress to a port the group does not open', async () => {
    assert.equal(await connects(A, B, 8080, BLOCKED_MS), false);
    assert.equal(await connects(C, B, 8080, BLOCKED_MS), false);
  });

  it('opens it once a rule is added, well within a second of the apply', async () => {
    const probing = p(A).ask({ op: 'probe', host: B.ip, port: 8080, everyMs: 2, maxMs: 5000 });
    await sleep(150); // the probe is failing (SYNs dropped) before the rule exists
    const { t0, t1 } = await apply(desired([tcpIn(8080)]));
    const at = (await probing).at as number | null;
    assert.ok(at !== null, 'no connection got through within 5 s of the apply');
    console.log(`firewall: nft -f took ${(t1 - t0).toFixed(1)} ms; first new connection through ${(at - t0).toFixed(1)} ms after the apply started (${(at - t1).toFixed(1)} ms after nft returned)`);
    assert.ok(at - t0 < 1000, `enforced after ${at - t0} ms`);
    assert.equal(await connects(C, B, 8080), true);
  });

  it('keeps an established connection across re-applies, even when its rule goes', async () => {
    const open = await p(A).ask({ op: 'tcp-open', host: B.ip, port: 8080, timeoutMs: 3000 });
    assert.ok(open.ok);
    const conn = open.conn as number;
    assert.ok((await p(A).ask({ op: 'tcp-echo', conn, data: 'one', timeoutMs: 2000 })).ok);
    await apply(desired([tcpIn(8080), tcpIn(8081)]));
    assert.ok((await p(A).ask({ op: 'tcp-echo', conn, data: 'two', timeoutMs: 2000 })).ok, 'flow lost on re-apply');
    await apply(desired([]));
    assert.ok((await p(A).ask({ op: 'tcp-echo', conn, data: 'three', timeoutMs: 2000 })).ok, 'flow lost when its rule went');
    assert.equal(await connects(A, B, 8080, BLOCKED_MS), false, 'a new connection still passes');
  });

  it('drops packets sent from an address the port does not own (IP spoofing)', async () => {
    await addrAdd(A.ns, 'eth0', '10.77.0.99/32');
    assert.equal(await udpDelivered(A, B), true);
    assert.equal(await udpDelivered(A, B, { src: '10.77.0.99' }), false);
  });

  it('drops ARP replies claiming an address the port does not own', async () => {
    // A holds 10.77.0.99 (previous test) and answers ARP for it; the answer must not reach B.
    assert.equal(await udpDelivered(B, A), true);
    assert.equal(await udpDelivered(B, A, { host: '10.77.0.99' }), false);
    const neigh = (await exec('ip', ['-n', B.ns, 'neigh', 'show', '10.77.0.99'])).stdout;
    assert.doesNotMatch(neigh, /lladdr/, `B learned a MAC for the spoofed address: ${neigh}`);
  });

  it('drops frames sent from a MAC the port does not own (MAC spoofing)', async () => {
    await linkSet(A.ns, 'eth0', { mac: 'fa:16:3e:77:00:ee' });
    try {
      assert.equal(await udpDelivered(A, B), false);
    } finally {
      await linkSet(A.ns, 'eth0', { mac: A.mac });
    }
    assert.equal(await udpDelivered(A, B), true);
  });

  it('lets a remote-group rule admit the group members only, following membership', async () => {
    assert.equal(await connects(A, B, 9090), true);
    assert.equal(await connects(C, B, 9090, BLOCKED_MS), false);
    await apply(desired([], [A.ip, C.ip]));
    assert.equal(await connects(C, B, 9090), true);
    await apply(desired([]));
  });

  it('leaves a port with port security off unfiltered both ways', async () => {
    assert.equal(await connects(A, C, 7070), true);
    assert.equal(await udpDelivered(A, C), true);
    await addrAdd(C.ns, 'eth0', '10.77.0.98/32');
    assert.equal(await udpDelivered(C, B, { src: '10.77.0.98' }), true);
  });

  it('fails closed when br_netfilter does not pass bridged traffic to the inet table', async () => {
    await apply(desired([tcpIn(8080)]));
    assert.equal(await connects(A, B, 8080), true);
    await sysctlSet(HOST_NS, { 'net.bridge.bridge-nf-call-iptables': '0' });
    try {
      assert.equal(await connects(A, B, 8080, BLOCKED_MS), false);
      assert.equal(await udpDelivered(C, B), false, 'unchecked traffic reaches filtered port B');
      assert.equal(await udpDelivered(A, C), false, 'filtered port A still sends unchecked');
    } finally {
      await sysctlSet(HOST_NS, FIREWALL_SYSCTLS);
    }
    assert.equal(await connects(A, B, 8080), true);
  });
});
