/**
 * A cloud with simulated compute hosts, for server tests that need no VM: the all-in-one
 * in-process (identity, image, network with its default topology, placement, compute) and
 * compute agents with `fake` drivers on hosts named for the run — no network agent (the fake
 * driver does not wait for TAPs), no QEMU. A tiny real qcow2 image (`tiny`, public) to boot from.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { exec } from '../../src/platform/host/exec.js';
import { FakeDriver } from '../../src/compute/driver/fake/driver.js';
import type { CliAuth } from '../lib/openstack-cli.js';
import { computeApi, type ComputeApi } from './client.js';
import { pollUntil } from '../lib/until.js';

export interface FakeCompute {
  readonly h: IdentityHarness;
  readonly api: ComputeApi;
  /** Project-scoped tokens of admin (project admin) and demo (project demo). */
  readonly admin: string;
  readonly demo: string;
  readonly adminProject: string;
  readonly demoProject: string;
  /** The fake hosts, in the order given. */
  readonly hosts: readonly string[];
  readonly drivers: ReadonlyMap<string, FakeDriver>;
  readonly imageId: string;
  readonly cliAdmin: CliAuth;
  readonly cliDemo: CliAuth;
  /** POST /servers (202); returns the server id. Body fields are merged over a tiny private server. */
  createServer(token: string, server: Record<string, unknown>, hints?: Record<string, unknown>, version?: string): Promise<string>;
  /** A server as admin sees it (2.1: OS-EXT-SRV-ATTR:host present). */
  show(id: string, version?: string): Promise<any>;
  /** Bounded wait until the server's status is one of `want` (returns the server). */
  waitStatus(id: string, ...want: string[]): Promise<any>;
  /** Deletes and waits until the server is gone. */
  deleteServer(token: string, id: string): Promise<void>;
  close(): Promise<void>;
}

/** Polls `check` until it returns a truthy value (bounded). */
export const until = <T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> => pollUntil(what, check, ms, 100);

export async function startFakeCompute(hostNames: readonly string[], o: { overrides?: Record<string, Record<string, unknown>>; databaseUrl?: string } = {}): Promise<FakeCompute> {
  const h = await startIdentity({ overrides: { ...o.overrides, network: { create_defaults: true, ...o.overrides?.network } }, ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}) });
  const dir = mkdtempSync(join(tmpdir(), 'nephos-test-fake-'));
  try {
    const api = computeApi(h.computeUrl);
    const admin = await h.adminToken();
    const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
    const projectId = async (name: string) => (await h.id.db.selectFrom('project').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
    const adminProject = await projectId('admin');
    const demoProject = await projectId('demo');

    // A real (empty, 1 MiB) qcow2 image: the agent downloads it as it would any image.
    const file = join(dir, 'tiny.qcow2');
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', file, '1M']);
    const headers = { 'x-auth-token': admin, 'content-type': 'application/json' };
    const img = await fetch(`${h.imageUrl}/v2/images`, {
      method: 'POST', headers, body: JSON.stringify({ name: 'tiny', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' }),
    });
    assert.equal(img.status, 201, await img.clone().text());
    const imageId = ((await img.json()) as { id: string }).id;
    const up = await fetch(`${h.imageUrl}/v2/images/${imageId}/file`, {
      method: 'PUT', headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream' }, body: readFileSync(file),
    });
    assert.equal(up.status, 204, await up.text());

    const servers = h.cloud.servers!;
    const drivers = new Map<string, FakeDriver>();
    for (const host of hostNames) {
      const driver = new FakeDriver({ host, snapshotDir: join(dir, 'snapshots') });
      drivers.set(host, driver);
      await servers.startAgent({ host, driver, periodMs: 2000 });
    }
    const nets = await (await fetch(`${h.networkUrl}/v2.0/networks?name=private`, { headers: { 'x-auth-token': demo } })).json() as { networks: { id: string }[] };
    const privateNet = nets.networks[0]!.id;

    const show = async (id: string, version?: string) => api.ok('GET', `/v2.1/servers/${id}`, admin, undefined, 200, version ? { version } : {}).then((b) => b.server);
    const fc: FakeCompute = {
      h, api, admin, demo, adminProject, demoProject, hosts: [...hostNames], drivers, imageId,
      cliAdmin: { authUrl: `${h.url}/v3`, username: 'admin', password: h.adminPassword, projectName: 'admin' },
      cliDemo: { authUrl: `${h.url}/v3`, username: 'demo', password: h.demoPassword, projectName: 'demo' },
      createServer: async (token, server, hints, version) => {
        const body: Record<string, unknown> = { server: { name: 's', imageRef: imageId, flavorRef: '42', networks: [{ uuid: privateNet }], ...server } };
        if (hints) body['os:scheduler_hints'] = hints;
        const r = await api.ok('POST', '/v2.1/servers', token, body, 202, version ? { version } : {});
        return r.server.id as string;
      },
      show,
      waitStatus: (id, ...want) => until(`server ${id} ${want.join('/')}`, async () => {
        const s = await show(id);
        return want.includes(s.status) ? s : undefined;
      }),
      deleteServer: async (token, id) => {
        await api.ok('DELETE', `/v2.1/servers/${id}`, token, undefined, 204);
        await until(`server ${id} deleted`, async () => (await api.call('GET', `/v2.1/servers/${id}`, admin)).status === 404);
      },
      close: async () => {
        await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    // Warm the image cache once: the agents of this process share one cache directory, and two
    // first downloads of one image by two agents at once collide on their temporary file
    // (ImageClient.download names it by pid) — reported; tests here are about scheduling.
    const warm = await fc.createServer(admin, { name: 'warm-up', networks: 'none' }, undefined, '2.37');
    const w = await fc.waitStatus(warm, 'ACTIVE', 'ERROR');
    assert.equal(w.status, 'ACTIVE', `warm-up server: ${JSON.stringify(w.fault)}`);
    await fc.deleteServer(admin, warm);
    return fc;
  } catch (err) {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
