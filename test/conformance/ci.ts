/**
 * Self-contained conformance run: starts a Nephos cloud (identity, image) on free loopback ports
 * with the security-compliance settings tempest's identity defaults expect (lockout after 2
 * failures for 5 s, password history 2), runs tempest against it through run.js, and stops it.
 *
 *   node dist/test/conformance/ci.js identity            # CI subset, checked against the baseline
 *   node dist/test/conformance/ci.js identity --full     # all 138 identity v3 tests
 *   node dist/test/conformance/ci.js image               # all of tempest.api.image.v2 (83 tests)
 *   node dist/test/conformance/ci.js network             # CI subset (88 of tempest.api.network's 264)
 *   node dist/test/conformance/ci.js network --full      # all 264
 *   node dist/test/conformance/ci.js compute             # CI subset (136 of the foundation's 143: no server boots)
 *   node dist/test/conformance/ci.js compute --full      # all 143 (5 boot servers: they need a compute agent and image_ref)
 *
 * For network, the all-in-one's default topology (external network `public`) exists and a network
 * agent of this run's own host name reports its heartbeats (the agents and DHCP scheduler tests
 * need live agents); it converges no host objects, so tempest's hundreds of networks stay API-only
 * (the data plane is proven by test/network/*dataplane* and the e2e suites).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { arch, cpus, tmpdir, totalmem } from 'node:os';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { uptimeLine } from '../../src/compute/hypervisors.js';
import { startInProcessAgent } from '../../src/network/agent/in-process.js';

async function main(): Promise<number> {
  const [service = 'identity', ...rest] = process.argv.slice(2);
  if (service !== 'identity' && service !== 'image' && service !== 'network' && service !== 'compute') {
    console.error(`conformance: only 'identity', 'image', 'network' and 'compute' are served by this build (asked for ${service})`);
    return 2;
  }
  // web-download fetches from a loopback server of this process; `does-not.exist` is allowed
  // too so that tempest's bad-URL test reaches the download (and sees it fail) instead of the filter.
  const web = service === 'image' ? await serveImageFile() : undefined;
  const h = await startIdentity({
    overrides: {
      identity: {
        password_hash_rounds: 12, lockout_failure_attempts: 2, lockout_duration: 5,
        unique_last_password_count: 2, minimum_password_age: 0,
      },
      image: { web_download_allowed_hosts: web ? ['127.0.0.1', 'does-not.exist'] : [] },
      network: { create_defaults: service === 'network' },
    },
  });
  const agent = service === 'network' ? await startInProcessAgent(h.cloud.network.ctx, { host: `ci${process.pid}`, steps: [] }) : undefined;
  // For compute, this host's nova-compute service is kept alive as its agent would (services,
  // hypervisors and zones tests need one); it boots nothing.
  const hostReports = service === 'compute' ? await startHostReports(h, `ci${process.pid}`) : undefined;
  try {
    const runner = join(dirname(fileURLToPath(import.meta.url)), 'run.js');
    const args = [runner, service, '--url', `${h.url}/v3`, '--admin-password', h.adminPassword, '--concurrency', '4',
      '--baseline-check', ...(web ? ['--conf', `image.http_image=${web.url}`] : []),
      // The image suite runs whole: it has no subset list.
      ...(service === 'image' && !rest.includes('--full') ? ['--full'] : []), ...rest];
    // Asynchronously: the services answer tempest from this very process.
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    hostReports?.stop();
    await agent?.stop();
    // The agent's runtime directory (its metadata proxy socket): nothing of this run may stay behind.
    if (agent) rmSync(`/run/nephos/${agent.host}`, { recursive: true, force: true });
    await h.close();
    web?.server.close();
  }
}

/**
 * Heartbeats and hypervisor reports of `host` every 10 s with this machine's real capacity, as the
 * compute agent sends them (the first before returning).
 */
async function startHostReports(h: IdentityHarness, host: string): Promise<{ stop(): void }> {
  let version = 0;
  try {
    const out = execFileSync('qemu-system-x86_64', ['--version'], { timeout: 10_000, encoding: 'utf8' });
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
    if (m) version = Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]);
  } catch { /* no QEMU here: version 0 */ }
  const disk = statfsSync(tmpdir());
  const report = async () => {
    await h.cloud.compute.heartbeat(host, 'nova-compute');
    await h.cloud.compute.reportHypervisor(host, {
      hypervisor_type: 'QEMU', hypervisor_version: version, virt_type: 'qemu', vcpus: cpus().length,
      memory_mb: Math.floor(totalmem() / 2 ** 20), local_gb: Math.floor((disk.blocks * disk.bsize) / 2 ** 30),
      cpu_info: { arch: arch() === 'x64' ? 'x86_64' : arch(), model: 'qemu64', vendor: 'QEMU', topology: { cells: 1, sockets: 1, cores: cpus().length, threads: 1 }, features: [] },
      host_ip: '127.0.0.1', uptime: uptimeLine(),
    });
  };
  await report();
  const timer = setInterval(() => { report().catch((err: unknown) => console.error('compute host report failed', err)); }, 10_000);
  return { stop: () => clearInterval(timer) };
}

/** A loopback HTTP server with one 1 MiB file of random bytes, for web-download imports. */
async function serveImageFile(): Promise<{ url: string; server: Server }> {
  const data = randomBytes(1 << 20);
  const server = createServer((req, res) => {
    if (req.url !== '/image.raw') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/image.raw`, server };
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
