import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/platform/config/config.js';
import { silentLogger } from '../../src/platform/log.js';
import { startCloud, type Cloud } from '../../src/allinone/cloud.js';
import type { Identity } from '../../src/identity/identity.js';

/** A scope for tokenFor: a project or domain name in Default, system, or unscoped. */
export type TestScope = { project: string } | { domain: string } | { system: true } | 'unscoped' | { projectId: string } | { domainId: string };

export interface IdentityHarness {
  readonly app: FastifyInstance;
  readonly id: Identity;
  readonly cloud: Cloud;
  readonly config: Config;
  /** Base URL (http://127.0.0.1:PORT) — the API also listens, for real clients. */
  readonly url: string;
  /** Base URL of the image API (listening too; the catalog advertises it). */
  readonly imageUrl: string;
  readonly networkUrl: string;
  /** Base URL of the compute API (http://127.0.0.1:PORT; the catalog advertises `${computeUrl}/v2.1`). */
  readonly computeUrl: string;
  /** Base URL of the placement API (http://127.0.0.1:PORT, as the catalog advertises it). */
  readonly placementUrl: string;
  readonly adminPassword: string;
  readonly demoPassword: string;
  /** A project-scoped admin token (project admin), cached. */
  adminToken(): Promise<string>;
  /** A token for a user of the Default domain (by name) or by id. */
  tokenFor(user: string | { id: string }, password: string, scope?: TestScope): Promise<string>;
  /** Shortcut for app.inject with a token and JSON body. */
  request(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * Starts the all-in-one's services in-process on a temporary SQLite database (or `databaseUrl`),
 * bootstrapped like the all-in-one, identity, image and network listening on free loopback ports (the
 * guest image upload is off unless overridden).
 * bcrypt cost is 4 here (tests create many users); everything else is the shipped default
 * unless overridden.
 */
export async function startIdentity(opts: { overrides?: Record<string, Record<string, unknown>>; databaseUrl?: string } = {}): Promise<IdentityHarness> {
  const state = mkdtempSync(join(tmpdir(), 'nephos-test-'));
  const port = await freePort();
  const imagePort = await freePort();
  const networkPort = await freePort();
  const computePort = await freePort();
  const placementPort = await freePort();
  const config = loadConfig({
    file: '/dev/null',
    env: {},
    overrides: {
      ...opts.overrides,
      platform: { state_dir: state, log_level: 'silent', public_host: '127.0.0.1', ...opts.overrides?.platform },
      identity: { port, password_hash_rounds: 4, admin_password: 'admin-secret', demo_password: 'demo-secret', ...opts.overrides?.identity },
      image: { port: imagePort, upload_guest: false, ...opts.overrides?.image },
      network: { port: networkPort, create_defaults: false, agent_enabled: false, ...opts.overrides?.network },
      compute: { port: computePort, agent_enabled: false, ...opts.overrides?.compute },
      placement: { port: placementPort, ...opts.overrides?.placement },
      database: { url: opts.databaseUrl ?? `sqlite://${join(state, 'nephos.db')}`, ...opts.overrides?.database },
    },
  });
  const cloud = await startCloud(config, silentLogger(), { listen: false });
  const app = cloud.identity.app;
  await app.listen({ host: '127.0.0.1', port });
  await cloud.image.app.listen({ host: '127.0.0.1', port: imagePort });
  await cloud.network.app.listen({ host: '127.0.0.1', port: networkPort });
  await cloud.compute.app.listen({ host: '127.0.0.1', port: computePort });
  await cloud.placement.app.listen({ host: '127.0.0.1', port: placementPort });
  const url = `http://127.0.0.1:${port}`;

  const request: IdentityHarness['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers['x-auth-token'] = o.token;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.inject({ method: method as never, url: path, headers, payload: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body) });
    let body: unknown = res.body;
    try { body = res.body ? JSON.parse(res.body) : undefined; } catch { /* not JSON */ }
    return { status: res.statusCode, body, headers: res.headers as Record<string, unknown> };
  };

  const tokenFor: IdentityHarness['tokenFor'] = async (user, password, scope = 'unscoped') => {
    const u = typeof user === 'string' ? { name: user, domain: { id: 'default' }, password } : { id: user.id, password };
    let s: unknown;
    if (scope === 'unscoped') s = 'unscoped';
    else if ('project' in scope) s = { project: { name: scope.project, domain: { id: 'default' } } };
    else if ('projectId' in scope) s = { project: { id: scope.projectId } };
    else if ('domain' in scope) s = { domain: { name: scope.domain } };
    else if ('domainId' in scope) s = { domain: { id: scope.domainId } };
    else s = { system: { all: true } };
    const res = await request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: u } }, scope: s } } });
    if (res.status !== 201) throw new Error(`token for ${JSON.stringify(user)} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return String(res.headers['x-subject-token']);
  };

  let admin: string | undefined;
  return {
    app, id: cloud.identity.identity, cloud, config, url, imageUrl: `http://127.0.0.1:${imagePort}`, networkUrl: `http://127.0.0.1:${networkPort}`, computeUrl: `http://127.0.0.1:${computePort}`, placementUrl: `http://127.0.0.1:${placementPort}`, adminPassword: cloud.adminPassword, demoPassword: cloud.demoPassword,
    adminToken: async () => (admin ??= await tokenFor('admin', cloud.adminPassword, { project: 'admin' })),
    tokenFor,
    request,
    close: async () => {
      await cloud.close();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** A free loopback port (the catalog must advertise the real port, so it is chosen before start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}
