/**
 * The agent side of the metadata service (Neutron's metadata agent). Each DHCP namespace runs an
 * haproxy on 169.254.169.254:80 (metadata-haproxy.ts) that forwards every request to this HTTP
 * server on a unix socket, adding the network id, the client's address (`X-Forwarded-For`, set —
 * never appended — from the TCP source) and a per-network token. This server finds the instance
 * that owns that address on that network and forwards the request to the compute metadata service
 * with `X-Instance-ID`, `X-Tenant-ID` and `X-Instance-ID-Signature` (HMAC-SHA256 of the instance
 * id with the shared secret, which Nova checks), exactly as Neutron does.
 *
 * Isolation: an address with no instance on that network gets 404, never someone else's data; the
 * socket must be reachable by haproxy running as `nobody`, so it is world-connectable and the
 * token (HMAC of the network id with a key only root can read; haproxy reads it from its
 * root-only config before dropping privileges) proves a request came from that network's haproxy,
 * not from any local process claiming a network and an address. Identity headers a client sends
 * are never passed upstream.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chmod, lstat, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { canonicalIp } from '../ipam/addr.js';
import { assertTraversableByOthers } from '../host/files.js';

/** The instance an address belongs to. */
export interface MetadataInstance {
  readonly instanceId: string;
  readonly projectId: string;
}

/**
 * Finds the instance owning `ip` on network `networkId` (the lead wires it to the port with that
 * fixed IP whose device_owner starts with `compute:`), or null.
 */
export type MetadataResolver = (networkId: string, ip: string) => Promise<MetadataInstance | null> | MetadataInstance | null;

export interface MetadataProxyOptions {
  /** Unix socket to listen on; its directory must let `nobody` (haproxy) through. */
  readonly socketPath: string;
  /** Compute metadata service base URL, e.g. `http://127.0.0.1:8775`. */
  readonly upstreamUrl: string;
  /** Shared with the compute metadata service (`metadata_proxy_shared_secret`). */
  readonly sharedSecret: string;
  /** Key of the per-network haproxy tokens (see `metadataProxyToken`, `loadOrCreateProxyKey`). */
  readonly proxyKey: string;
  readonly resolve: MetadataResolver;
  /** Upstream answer deadline (default 20 s; haproxy gives up at 32 s). */
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

/** A running metadata proxy. */
export interface MetadataProxy {
  readonly socketPath: string;
  close(): Promise<void>;
}

/** Header carrying the network id (set by haproxy, as Neutron's). */
export const NETWORK_ID_HEADER = 'X-Neutron-Network-ID';
/** Header carrying haproxy's per-network token. */
export const PROXY_TOKEN_HEADER = 'X-Nephos-Metadata-Token';

const ID_RE = /^[A-Za-z0-9-]{1,64}$/;
const MAX_BODY = 1024 * 1024;

/** Nova's check of the instance id: hex HMAC-SHA256 of the id keyed by the shared secret. */
export function instanceSignature(sharedSecret: string, instanceId: string): string {
  return createHmac('sha256', sharedSecret).update(instanceId).digest('hex');
}

/** The token haproxy of network `networkId` adds to every request. */
export function metadataProxyToken(proxyKey: string, networkId: string): string {
  return createHmac('sha256', proxyKey).update(`metadata-proxy:${networkId}`).digest('hex');
}

/**
 * Reads the proxy key at `path`, or creates it (32 random bytes, hex, mode 0600) when absent. It
 * must persist: haproxy processes outlive the agent with the tokens derived from it.
 */
export async function loadOrCreateProxyKey(path: string): Promise<string> {
  for (let i = 0; i < 3; i++) {
    try {
      const key = (await readFile(path, 'utf8')).trim();
      if (key.length >= 32) return key;
      throw new Error(`metadata proxy key ${path} is too short`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await writeFile(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it: read theirs
    }
  }
  throw new Error(`cannot create metadata proxy key ${path}`);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) + 1 });
  res.end(`${text}\n`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function tokenOk(proxyKey: string, networkId: string, given: string | undefined): boolean {
  if (!given) return false;
  const want = Buffer.from(metadataProxyToken(proxyKey, networkId));
  const got = Buffer.from(given);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The client address haproxy set; the last entry if a chain was appended. */
function clientIp(req: IncomingMessage): string | undefined {
  const xff = header(req, 'x-forwarded-for');
  const last = xff?.split(',').pop()?.trim();
  return last ? canonicalIp(last) : undefined;
}

/** Starts the metadata proxy on its unix socket. */
export async function startMetadataProxy(o: MetadataProxyOptions): Promise<MetadataProxy> {
  const upstream = new URL(o.upstreamUrl);
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new Error(`metadata upstream must be http(s): ${o.upstreamUrl}`);
  if (o.proxyKey.length < 32) throw new Error('metadata proxy key is too short');
  const timeoutMs = o.timeoutMs ?? 20_000;
  await mkdir(dirname(o.socketPath), { recursive: true, mode: 0o755 });
  await assertTraversableByOthers(dirname(o.socketPath));
  await removeStaleSocket(o.socketPath);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.log?.error({ err }, 'metadata proxy request failed');
      reply(res, 500, 'An unknown error has occurred while proxying the metadata request.');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const networkId = header(req, NETWORK_ID_HEADER);
    if (!networkId || !ID_RE.test(networkId)) { reply(res, 400, `${NETWORK_ID_HEADER} header missing or invalid`); return; }
    if (!tokenOk(o.proxyKey, networkId, header(req, PROXY_TOKEN_HEADER))) {
      o.log?.warn({ networkId }, 'metadata request without a valid proxy token refused');
      reply(res, 403, 'Request did not come through the metadata proxy of this network.');
      return;
    }
    const ip = clientIp(req);
    if (!ip) { reply(res, 400, 'X-Forwarded-For header missing or invalid'); return; }
    if (Number(header(req, 'content-length') ?? 0) > MAX_BODY) { reply(res, 413, 'Request body too large.'); return; }
    const instance = await o.resolve(networkId, ip);
    if (!instance) {
      o.log?.info({ networkId, ip }, 'metadata request from an address with no instance');
      reply(res, 404, 'No instance found for this address on this network.');
      return;
    }
    forward(req, res, ip, instance);
  }

  function forward(req: IncomingMessage, res: ServerResponse, ip: string, instance: MetadataInstance): void {
    const headers: OutgoingHttpHeaders = {
      'X-Forwarded-For': ip,
      'X-Instance-ID': instance.instanceId,
      'X-Tenant-ID': instance.projectId,
      'X-Instance-ID-Signature': instanceSignature(o.sharedSecret, instance.instanceId),
    };
    // Only what describes the body or the wanted representation; every identity header is ours.
    for (const h of ['content-type', 'content-length', 'accept']) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    const base = upstream.pathname.replace(/\/$/, '');
    const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    const up = send({
      protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port || undefined,
      method: req.method, path: `${base}${req.url ?? '/'}`, headers,
    }, (ures) => {
      const out: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(ures.statusCode ?? 502, out);
      ures.pipe(res);
      ures.on('error', () => res.destroy());
    });
    up.setTimeout(timeoutMs, () => up.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    up.on('error', (err: NodeJS.ErrnoException) => {
      const timedOut = err.code === 'ETIMEDOUT';
      o.log?.warn({ err, upstream: o.upstreamUrl }, 'metadata upstream failed');
      reply(res, timedOut ? 504 : 502, timedOut
        ? `The metadata service at ${o.upstreamUrl} did not answer within ${timeoutMs} ms.`
        : `The metadata service at ${o.upstreamUrl} is unreachable (${err.code ?? err.message}).`);
    });
    req.pipe(up);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socketPath, () => { server.off('error', reject); resolve(); });
  });
  // haproxy runs as nobody; the token, not the file mode, is what authenticates a caller.
  await chmod(o.socketPath, 0o666);
  return { socketPath: o.socketPath, close: () => closeServer(server) };
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function closeServer(server: Server): Promise<void> {
  // libuv unlinks the socket file of a pipe server when it closes.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
