// `nephos network cleanup`: on a host left with a running DHCP namespace (dnsmasq and the metadata
// haproxy, by pid file), a router namespace holding a stray dnsmasq without a pid file, and
// runtime files, the command removes all of it; a namespace where another process still runs is
// kept and reported (exit 1) until that process is gone; this machine's own host also loses its
// public namespace, and is refused while its cloud runs. Host `t<pid>c`; the leak check ends it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DesiredHostState, DesiredNetwork, DesiredPort } from '../../src/network/agent/desired.js';
import { convergeL2 } from '../../src/network/agent/l2.js';
import { convergeDhcp, defaultDhcpDir, defaultMetadataSocket } from '../../src/network/agent/dhcp.js';
import { cleanupHost } from '../../src/network/agent/cleanup.js';
import { processAlive } from '../../src/platform/host/daemon.js';
import { netnsAdd, netnsDelete, netnsList } from '../../src/network/host/ip.js';
import { hostNamespace, routerNamespace } from '../../src/network/host/names.js';
import { assertNoLeaks, hostLeaks } from '../lib/host-leaks.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const host = `t${process.pid}c`;
const hostNs = hostNamespace(host);
const publicNs = `nephos-t${process.pid}cpub`;
const routerNs = routerNamespace(host, randomUUID());
const T = { timeout: 90_000 };

const net: DesiredNetwork = { id: randomUUID(), type: 'flat', segmentationId: null, physicalNetwork: null, mtu: 1500, adminStateUp: true };
const subnetId = randomUUID();
const dhcpPort: DesiredPort = {
  id: randomUUID(), networkId: net.id, macAddress: 'fa:16:3e:94:00:02', fixedIps: [{ subnetId, ipAddress: '10.94.0.2' }],
  allowedAddressPairs: [], adminStateUp: true, portSecurity: false, securityGroupIds: [], deviceOwner: 'network:dhcp',
};
const desired: DesiredHostState = {
  host, networks: [net], ports: [], securityGroups: {}, groupMembers: {}, routers: [], vtepPeers: {},
  dhcp: [{
    networkId: net.id, port: dhcpPort, dnsDomain: 'openstacklocal.', hosts: [],
    subnets: [{ id: subnetId, networkId: net.id, ipVersion: 4, cidr: '10.94.0.0/24', gatewayIp: '10.94.0.1', enableDhcp: true, dnsNameservers: [], hostRoutes: [] }],
  }],
};

let stateDir: string;
const children: ChildProcess[] = [];

/** Runs the nephos CLI with a private config (state dir, and optionally this machine's host name). */
function nephos(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], {
      timeout: 60_000, env: { ...process.env, NEPHOS_CONFIG: '/dev/null', NEPHOS_PLATFORM_STATE_DIR: stateDir, ...env },
    }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }));
  });
}

/** A process we start in a namespace (stopped by its pid in `after`). */
function startIn(ns: string, argv: readonly string[], argv0?: string): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore', ...(argv0 ? { argv0 } : {}) });
  children.push(child);
  return child;
}

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'nephos-test-cleanup-'));
  // What an agent leaves running: host namespace, DHCP namespace with dnsmasq and the metadata haproxy.
  assert.deepEqual((await convergeL2(desired)).errors, []);
  const r = await convergeDhcp(desired, { dir: defaultDhcpDir(host), metadata: { socketPath: defaultMetadataSocket(host), proxyKey: 'k'.repeat(64) } });
  assert.deepEqual(r.errors, []);
  assert.ok(r.pids[net.id]?.dnsmasq && r.pids[net.id]?.haproxy, 'dnsmasq and haproxy run');
  // A router namespace with a dnsmasq nobody recorded (a crash between start and pid file).
  await netnsAdd(routerNs);
  startIn(routerNs, ['dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--pid-file']);
  await netnsAdd(publicNs);
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cleanupHost(host, { publicNamespace: publicNs });
  rmSync(stateDir, { recursive: true, force: true });
  await assertNoLeaks(host, { publicNamespace: publicNs });
});

test('refused for this machine\'s own host while its cloud runs', T, async () => {
  // A live process whose command line says nephos, named by the pid file, is a running cloud.
  const cloud = spawn('sleep', ['60'], { argv0: 'nephos', stdio: 'ignore' });
  children.push(cloud);
  writeFileSync(join(stateDir, 'nephos.pid'), `${cloud.pid}\n`);
  try {
    const r = await nephos(['network', 'cleanup'], { NEPHOS_NETWORK_HOST: host });
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /nephos down/);
    assert.ok((await netnsList()).includes(hostNs), 'nothing removed');
  } finally {
    cloud.kill('SIGKILL');
    rmSync(join(stateDir, 'nephos.pid'), { force: true });
  }
});

test('--host H removes its namespaces, daemons (by pid file and by namespace) and files; a foreign process keeps its namespace', T, async () => {
  const foreign = startIn(hostNs, ['sleep', '60']);
  await sleep(200);
  const leaksBefore = await hostLeaks(host);
  assert.ok(leaksBefore.some((l) => /^process dnsmasq/.test(l)) && leaksBefore.some((l) => /^process haproxy/.test(l)), `daemons seen: ${leaksBefore.join('; ')}`);

  const first = await nephos(['network', 'cleanup', '--host', host]);
  assert.equal(first.code, 1, first.out + first.err);
  assert.match(first.err, new RegExp(`not removed: ${hostNs} kept: sleep \\(pid \\d+\\)`));
  assert.match(first.out, /stopped dnsmasq \(pid \d+\) in nephos-t\d+c-router-/, 'the stray dnsmasq found in its namespace');
  assert.match(first.out, /removed DHCP of /);
  let namespaces = await netnsList();
  assert.ok(namespaces.includes(hostNs), 'kept while sleep runs in it');
  assert.ok(!namespaces.some((n) => n.startsWith(`${hostNs}-`)), 'DHCP and router namespaces removed');
  assert.ok(namespaces.includes(publicNs), 'another host\'s cleanup leaves the public namespace alone');

  foreign.kill('SIGKILL');
  for (let i = 0; i < 50 && foreign.pid !== undefined && await processAlive(foreign.pid); i++) await sleep(50);
  const second = await nephos(['network', 'cleanup', '--host', host]);
  assert.equal(second.code, 0, second.out + second.err);
  namespaces = await netnsList();
  assert.ok(!namespaces.includes(hostNs));
  assert.ok(!existsSync(`/run/nephos/${host}`), 'runtime files removed');
  assert.deepEqual(await hostLeaks(host), []);

  const third = await nephos(['network', 'cleanup', '--host', host]);
  assert.equal(third.code, 0);
  assert.match(third.out, /nothing to remove/);
});

test('without --host it cleans this machine\'s host, public namespace included', T, async () => {
  await netnsAdd(hostNs);
  const r = await nephos(['network', 'cleanup'], { NEPHOS_NETWORK_HOST: host, NEPHOS_NETWORK_PUBLIC_NAMESPACE: publicNs });
  assert.equal(r.code, 0, r.out + r.err);
  const namespaces = await netnsList();
  assert.ok(!namespaces.includes(hostNs) && !namespaces.includes(publicNs));
  assert.equal((await nephos(['network', 'cleanup', '--host', 'bad/name'])).code, 2, 'a host name that is no namespace name is refused');
  await netnsDelete(publicNs);
});
