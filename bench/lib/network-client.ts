/**
 * The few Networking v2.0 calls the network bench makes, over one keep-alive client per side.
 * Works against any Neutron-compatible API: Nephos or the neutron-server peer.
 */
import { performance } from 'node:perf_hooks';
import { createHttpClient } from './http-client.js';
import type { HttpClient } from './http-client.js';

/** A network API root (without /v2.0) and a project-scoped admin token for it. */
export interface NetworkTarget {
  url: string;
  token: string;
  projectId: string;
}

/** Networking calls bound to one target. */
export class NetworkClient {
  readonly #http: HttpClient;
  readonly #headers: Record<string, string>;

  constructor(readonly target: NetworkTarget, maxSockets = 8) {
    this.#http = createHttpClient(`${target.url.replace(/\/+$/, '')}/v2.0`, maxSockets);
    this.#headers = { 'x-auth-token': target.token };
  }

  async #json<T>(method: string, path: string, expect: number, json?: unknown): Promise<T> {
    const res = await this.#http.send(method, path, { headers: this.#headers, json, expect });
    return JSON.parse(res.body) as T;
  }

  /** Creates a network and one IPv4 subnet of `cidr` on it; returns the network id. */
  async createNetwork(name: string, cidr: string): Promise<string> {
    const net = await this.#json<{ network: { id: string } }>('POST', '/networks', 201, { network: { name } });
    await this.#json('POST', '/subnets', 201, { subnet: { network_id: net.network.id, ip_version: 4, cidr, name } });
    return net.network.id;
  }

  async deleteNetwork(id: string): Promise<void> {
    await this.#http.send('DELETE', `/networks/${id}`, { headers: this.#headers, expect: 204 });
  }

  /** One port on `networkId` (an address from its subnet); returns its id. */
  async createPort(networkId: string, name: string): Promise<string> {
    return (await this.#json<{ port: { id: string } }>('POST', '/ports', 201, { port: { network_id: networkId, name } })).port.id;
  }

  /** Bulk create: one POST with a list of ports, all on `networkId`; returns their ids. */
  async createPorts(networkId: string, names: readonly string[]): Promise<string[]> {
    const body = { ports: names.map((name) => ({ network_id: networkId, name })) };
    const res = await this.#json<{ ports: { id: string }[] }>('POST', '/ports', 201, body);
    if (res.ports.length !== names.length) throw new Error(`bulk create of ${names.length} ports returned ${res.ports.length}`);
    return res.ports.map((p) => p.id);
  }

  async deletePort(id: string): Promise<void> {
    await this.#http.send('DELETE', `/ports/${id}`, { headers: this.#headers, expect: 204 });
  }

  /**
   * `GET /v2.0/ports?network_id=…` timed from the request to the last byte of the answer (what a
   * client waits for); the body is parsed afterwards, outside the timing, to count the ports.
   */
  async timedListPorts(networkId: string): Promise<{ ms: number; count: number; bytes: number }> {
    const t0 = performance.now();
    const res = await this.#http.send('GET', `/ports?network_id=${encodeURIComponent(networkId)}`, { headers: this.#headers, expect: 200 });
    const ms = performance.now() - t0;
    const count = (JSON.parse(res.body) as { ports: unknown[] }).ports.length;
    return { ms, count, bytes: Buffer.byteLength(res.body) };
  }

  /**
   * A few cheap authenticated reads, so that every API worker has validated the token (a
   * keystonemiddleware worker caches it after its first remote validation) before any timing.
   */
  async warm(rounds = 3, parallel = 4): Promise<void> {
    // Parallel requests open several connections, which the server spreads over its workers.
    for (let i = 0; i < rounds; i++) {
      await Promise.all(Array.from({ length: parallel }, () => this.#http.send('GET', '/networks?limit=1', { headers: this.#headers, expect: 200 })));
    }
  }

  /** The project's port quota (-1: unlimited). */
  async portQuota(): Promise<number> {
    const q = await this.#json<{ quota: { port: number } }>('GET', `/quotas/${this.target.projectId}`, 200);
    return q.quota.port;
  }

  async setPortQuota(limit: number): Promise<void> {
    await this.#json('PUT', `/quotas/${this.target.projectId}`, 200, { quota: { port: limit } });
  }

  close(): void {
    this.#http.close();
  }
}

/**
 * A password token for `admin` scoped to project `admin` (Default domain), its project id, and
 * the catalog's public network endpoint (without /v2.0) if the catalog has one.
 */
export async function issueAdminToken(identityUrl: string, password: string): Promise<{ token: string; projectId: string; networkUrl?: string }> {
  const client = createHttpClient(identityUrl, 1);
  try {
    const res = await client.send('POST', '/auth/tokens', {
      expect: 201,
      json: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      },
    });
    type Body = { token: { project: { id: string }; catalog?: { type: string; endpoints: { interface: string; url: string }[] }[] } };
    const body = JSON.parse(res.body) as Body;
    const network = body.token.catalog?.find((s) => s.type === 'network')?.endpoints.find((e) => e.interface === 'public');
    return {
      token: String(res.headers['x-subject-token']),
      projectId: body.token.project.id,
      networkUrl: network?.url.replace(/\/+$/, '').replace(/\/v2\.0$/, ''),
    };
  } finally {
    client.close();
  }
}
