/**
 * Self-contained conformance run: starts a Nephos cloud on free loopback ports
 * with the security-compliance settings tempest's identity defaults expect (lockout after 2
 * failures for 5 s, password history 2), runs tempest against it through run.js, and stops it.
 *
 *   node dist/test/conformance/ci.js identity            # CI subset, checked against the baseline
 *   node dist/test/conformance/ci.js identity --full     # all 138 identity v3 tests
 *   node dist/test/conformance/ci.js image               # all of tempest.api.image.v2 (83 tests)
 *   node dist/test/conformance/ci.js network             # CI subset (88 of tempest.api.network's 264)
 *   node dist/test/conformance/ci.js network --full      # all 264
 *   node dist/test/conformance/ci.js compute             # CI subset (the API foundation and a few server classes)
 *   node dist/test/conformance/ci.js compute --full      # all 595 of tempest.api.compute (volume tests skip: no cinder)
 *
 * For network, the all-in-one's default topology (external network `public`) exists and a network
 * agent of this run's own host name reports its heartbeats (the agents and DHCP scheduler tests
 * need live agents); it converges no host objects, so tempest's hundreds of networks stay API-only
 * (the data plane is proven by test/network/*dataplane* and the e2e suites).
 *
 * For compute, the cloud is test/lib/compute-cloud.ts's: a network agent converging tempest's
 * networks for real (namespaces, bridges, DHCP), a compute agent booting every server under QEMU,
 * the metadata service and the guest images; tempest.conf names `nephos-guest` and m1.nano.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import assert from 'node:assert/strict';
import { startComputeCloud } from '../lib/compute-cloud.js';
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
  // Compute boots real servers: the whole cloud with this run's network agent (the data plane of
  // tempest's networks), a compute agent running QEMU, the metadata service and the guest images.
  // Tempest runs four classes at once, each with its servers: 2 cores at Nova's default VCPU
  // ratio (4.0) hold 8 vCPUs, too few for that, so this cloud overcommits like Nova before Stein (16).
  const cc = service === 'compute' ? await startComputeCloud('ci', { overrides: { compute: { cpu_allocation_ratio: 16 } } }) : undefined;
  const h = cc?.h ?? await startIdentity({
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
  const computeConf = cc ? await computeFacts(h) : [];
  try {
    const runner = join(dirname(fileURLToPath(import.meta.url)), 'run.js');
    const args = [runner, service, '--url', `${h.url}/v3`, '--admin-password', h.adminPassword, '--concurrency', '4',
      '--baseline-check', ...(web ? ['--conf', `image.http_image=${web.url}`] : []), ...computeConf,
      // The image suite runs whole: it has no subset list.
      ...(service === 'image' && !rest.includes('--full') ? ['--full'] : []), ...rest];
    // Asynchronously: the services answer tempest from this very process.
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await agent?.stop();
    // The agent's runtime directory (its metadata proxy socket): nothing of this run may stay behind.
    if (agent) rmSync(`/run/nephos/${agent.host}`, { recursive: true, force: true });
    if (cc) await cc.close();
    else await h.close();
    web?.server.close();
  }
}

/**
 * The `[compute]` options of tempest.conf for this cloud: the guest image (its direct-boot variant
 * as the alternative image) and the nano/micro flavors, by id.
 */
async function computeFacts(h: IdentityHarness): Promise<string[]> {
  const images = await h.cloud.image.ctx.db.selectFrom('image').select(['id', 'name'])
    .where('name', 'in', ['nephos-guest', 'nephos-guest-direct']).where('status', '=', 'active').execute();
  const image = (name: string) => images.find((i) => i.name === name)?.id ?? assert.fail(`no active image ${name}`);
  return ['--conf', `compute.image_ref=${image('nephos-guest')}`, '--conf', `compute.image_ref_alt=${image('nephos-guest-direct')}`,
    '--conf', 'compute.flavor_ref=42', '--conf', 'compute.flavor_ref_alt=84'];
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
