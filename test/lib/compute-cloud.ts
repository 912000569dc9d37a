/**
 * A whole cloud for compute tests: the all-in-one in-process (identity, image, network, placement,
 * compute) with the Nephos guest images uploaded, this run's network agent and compute agent
 * (real QEMU) on a host named for the run, the metadata service, and Debian's `openstack` CLI
 * helpers. `close` deletes every server and removes every host object of the run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, freePort, type IdentityHarness } from './identity-harness.js';
import { openstack, type CliAuth, type CliResult } from './openstack-cli.js';
import { startInProcessAgent } from '../../src/network/agent/in-process.js';
import { cleanupHost } from '../../src/network/agent/cleanup.js';
import { uploadGuestImages } from '../../src/image/guest-upload.js';
import { persistentSecret } from '../../src/platform/secrets.js';
import { exec } from '../../src/platform/host/exec.js';
import type { ComputeAgent } from '../../src/compute/agent/agent.js';
import type { ServersRuntime } from '../../src/compute/servers/runtime.js';
import { pollUntil } from './until.js';

export const GUEST_CACHE = process.env.NEPHOS_GUEST_CACHE ?? '/tmp/nephos-guest-cache';
/** The guest's boot-complete line: [1] seconds, [2] uptime, [3] hostname, [4] ip/len, [5] mtu, [6] metadata source. */
export const BOOT_LINE = /nephos-guest: boot complete in ([\d.]+)s \(uptime ([\d.]+)[^)]*\) hostname=(\S+) ip=(\S+) mtu=(\d+) metadata=(\S+)/;

export interface ComputeCloud {
  readonly h: IdentityHarness;
  readonly host: string;
  readonly publicNs: string;
  readonly dir: string;
  readonly admin: CliAuth;
  readonly demo: CliAuth;
  readonly servers: ServersRuntime;
  agent: ComputeAgent;
  /** The `openstack` CLI: must succeed; `json` adds `-f json` and returns the parsed output. */
  run(auth: CliAuth, ...cmd: string[]): Promise<CliResult>;
  json(auth: CliAuth, ...cmd: string[]): Promise<any>;
  /** A server's status as the demo user sees it, and a bounded wait for one. */
  status(name: string, auth?: CliAuth): Promise<string>;
  waitStatus(name: string, want: string, auth?: CliAuth): Promise<void>;
  /** The nth boot-complete line of a server's console (bounded wait). */
  bootLine(name: string, nth?: number, auth?: CliAuth): Promise<RegExpExecArray>;
  /** SSH as root with the run's key (`key`, `key.pub` in dir) from the public namespace. */
  ssh(ip: string, cmd: string): Promise<{ stdout: string }>;
  close(): Promise<void>;
}

/** Polls `check` (bounded) until it returns a truthy value. */
export const until = <T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 90_000): Promise<T> => pollUntil(what, check, ms, 250);

/** Starts the cloud; `tag` (a letter or two) makes this run's host and namespace names unique. */
export async function startComputeCloud(tag: string, o: { overrides?: Record<string, Record<string, unknown>> } = {}): Promise<ComputeCloud> {
  const host = `t${process.pid}${tag}`;
  const publicNs = `nephos-t${process.pid}${tag}pub`;
  const dir = mkdtempSync(join(tmpdir(), `nephos-test-compute-${tag}-`));
  const metadataPort = await freePort();
  const h = await startIdentity({
    overrides: {
      ...o.overrides,
      network: { create_defaults: true, public_namespace: publicNs, metadata_upstream_url: `http://127.0.0.1:${metadataPort}`, ...o.overrides?.network },
      compute: { host, instances_dir: join(dir, 'instances'), ...o.overrides?.compute },
    },
  });
  const admin: CliAuth = { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' };
  const demo: CliAuth = { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' };
  const servers = h.cloud.servers!;
  let netAgent: Awaited<ReturnType<typeof startInProcessAgent>> | undefined;
  let agent: ComputeCloud['agent'];
  // Everything started so far is stopped again when a later step fails (else the test process hangs on it).
  const stopAll = async (): Promise<void> => {
    await servers.close();
    await netAgent?.stop();
    await cleanupHost(host, { publicNamespace: publicNs });
    rmSync(`/run/nephos/${host}`, { recursive: true, force: true });
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const adminProject = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
    await uploadGuestImages(h.cloud.image.ctx, { ownerProjectId: adminProject, outDir: GUEST_CACHE });
    netAgent = await startInProcessAgent(h.cloud.network.ctx, { host });
    await servers.startMetadata({ host: '127.0.0.1', port: metadataPort, sharedSecret: persistentSecret(h.config.platform.state_dir, 'metadata-proxy-secret', null) });
    await servers.startControlServices(host);
    agent = await servers.startAgent({ host, periodMs: 2000 });
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nephos-test', '-f', join(dir, 'key')]);
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }

  const run = async (auth: CliAuth, ...cmd: string[]) => {
    const r = await openstack(auth, ...cmd);
    assert.equal(r.code, 0, `${cmd.join(' ')} failed: ${r.stderr}`);
    return r;
  };
  const json = async (auth: CliAuth, ...cmd: string[]) => (await run(auth, ...cmd, '-f', 'json')).json;
  const status = async (name: string, auth = demo) => (await json(auth, 'server', 'show', name)).status as string;
  const cloud: ComputeCloud = {
    h, host, publicNs, dir, admin, demo, servers, agent, run, json, status,
    waitStatus: async (name, want, auth = demo) => { await until(`${name} ${want}`, async () => (await status(name, auth)) === want); },
    bootLine: (name, nth = 1, auth = demo) => until(`${name}'s boot-complete line #${nth}`, async () => {
      const out = (await run(auth, 'console', 'log', 'show', name)).stdout;
      const all = [...out.matchAll(new RegExp(BOOT_LINE.source, 'g'))];
      return all.length >= nth ? all[nth - 1]! as RegExpExecArray : undefined;
    }),
    ssh: (ip, cmd) => exec('ip', ['netns', 'exec', publicNs, 'ssh', '-i', join(dir, 'key'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', `root@${ip}`, cmd], { timeoutMs: 30_000 }),
    close: async () => {
      // Servers first (QEMU, ports), then the agents, then every host object of this run.
      for (const s of (await openstack(admin, 'server', 'list', '--all-projects', '-f', 'json')).json ?? []) await openstack(admin, 'server', 'delete', '--wait', s.ID);
      await stopAll();
    },
  };
  return cloud;
}
