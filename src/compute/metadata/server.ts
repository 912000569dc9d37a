/**
 * The instance metadata service (Nova's nova-api-metadata, port 8775), reached only through the
 * network's metadata proxy (src/network/agent/metadata-proxy.ts), which names the instance in
 * `X-Instance-ID` and `X-Tenant-ID` and signs the id (`X-Instance-ID-Signature`, HMAC-SHA256 with
 * the shared secret). As Nova: the root listing is public; a request missing one of those headers
 * gets 400, a bad signature 403, an unknown instance — or one of another project — 404. Answers are
 * plain text (JSON for the .json documents); only GET and HEAD are served.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { instanceSignature } from '../../network/agent/metadata-proxy.js';
import type { DocumentOptions } from './document-options.js';
import { isRoot, lookupDocument, rootListing, TEXT, type Found } from './lookup.js';
import type { InstanceMetadata } from './model.js';

/** Finds an instance by uuid (null when there is none). */
export type InstanceLookup = (instanceId: string) => Promise<InstanceMetadata | null>;

export interface MetadataServerOptions {
  /** Address to listen on (the proxy reaches it on loopback in the all-in-one). */
  readonly host: string;
  /** Port to listen on (`compute.metadata_port`, 8775); 0 picks a free one. */
  readonly port: number;
  /** Shared with the metadata proxy (`network.metadata_proxy_shared_secret`). */
  readonly sharedSecret: string;
  readonly lookup: InstanceLookup;
  readonly log: Logger;
  /** Domain appended to hostnames (Nova's `dhcp_domain`, default `novalocal`; null: none). */
  readonly dhcpDomain?: string | null;
  /** How long an instance's record is reused for its next requests (Nova's `metadata_cache_expiration`, 15 s); 0: never. */
  readonly cacheSeconds?: number;
}

/** A running metadata service. */
export interface MetadataServer {
  /** Base URL, e.g. `http://127.0.0.1:8775`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An answer, before it is written. */
export interface MetadataResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request as the handler needs it. */
export interface MetadataRequest {
  readonly method: string;
  /** The request target (path and query, as on the request line). */
  readonly url: string;
  /** Each header's values (lower-case names), as Node's `headersDistinct`. */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error',
};

function fault(status: number, explanation: string, headers?: Record<string, string>): MetadataResponse {
  return { status, contentType: TEXT, body: Buffer.from(`${status} ${REASONS[status] ?? ''}\n\n${explanation}\n`), headers };
}

const NOT_FOUND = 'The resource could not be found.';
const MAX_CACHE = 1024;

/** The path of a request target, percent-decoded; null when it cannot be decoded. */
function requestPath(url: string): string | null {
  let path = url;
  if (!path.startsWith('/')) {
    // absolute-form (`GET http://169.254.169.254/latest HTTP/1.1`): keep only the path.
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(path);
    path = m ? m[1]! : `/${path}`;
  }
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

/**
 * The request handler without a socket (for in-process tests too): the header, signature and
 * tenant checks, then the document. Instance records are reused for `cacheSeconds`.
 */
export function metadataHandler(o: Omit<MetadataServerOptions, 'host' | 'port'>): (req: MetadataRequest) => Promise<MetadataResponse> {
  const docOpts = (address: string | null): DocumentOptions => ({ dhcpDomain: o.dhcpDomain, address });
  const ttlMs = (o.cacheSeconds ?? 15) * 1000;
  const cache = new Map<string, { md: InstanceMetadata; expires: number }>();

  async function instance(id: string): Promise<InstanceMetadata | null> {
    const now = Date.now();
    const hit = cache.get(id);
    if (hit && hit.expires > now) return hit.md;
    cache.delete(id);
    const md = await o.lookup(id);
    if (md && ttlMs > 0) {
      if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(id, { md, expires: now + ttlMs });
    }
    return md;
  }

  return async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return fault(405, 'The metadata service serves GET and HEAD only.', { allow: 'GET, HEAD' });
    const path = requestPath(req.url);
    if (path === null) return fault(404, NOT_FOUND);
    if (isRoot(path)) return ok(rootListing());

    const one = (name: string): { value?: string; many: boolean } => {
      const v = req.headers[name];
      return { value: v?.[0], many: (v?.length ?? 0) > 1 };
    };
    const id = one('x-instance-id');
    const tenant = one('x-tenant-id');
    const signature = one('x-instance-id-signature');
    const address = one('x-forwarded-for').value?.split(',')[0]?.trim() || null;
    let missing: string | null = null;
    if (id.value === undefined) missing = 'X-Instance-ID header is missing from request.';
    else if (signature.value === undefined) missing = 'X-Instance-ID-Signature header is missing from request.';
    else if (tenant.value === undefined) missing = 'X-Tenant-ID header is missing from request.';
    else if (id.many) missing = 'Multiple X-Instance-ID headers found within request.';
    else if (tenant.many) missing = 'Multiple X-Tenant-ID headers found within request.';
    if (missing) return fault(400, missing);

    if (!signatureOk(o.sharedSecret, id.value!, signature.value!)) {
      o.log.warn({ instanceId: id.value, address }, 'metadata request with an invalid X-Instance-ID-Signature refused');
      return fault(403, 'Invalid proxy request signature.');
    }
    let md: InstanceMetadata | null;
    try {
      md = await instance(id.value!);
    } catch (err) {
      o.log.error({ err, instanceId: id.value }, 'metadata lookup failed');
      return fault(500, 'An unknown error has occurred. Please try your request again.');
    }
    if (!md) {
      o.log.info({ instanceId: id.value, address }, 'metadata request for an unknown instance');
      return fault(404, NOT_FOUND);
    }
    if (md.projectId !== tenant.value) {
      o.log.warn({ instanceId: id.value, tenantId: tenant.value, address }, 'metadata request whose X-Tenant-ID is not the instance\'s project');
      return fault(404, NOT_FOUND);
    }
    const found = lookupDocument(md, path, docOpts(address));
    return found ? ok(found) : fault(404, NOT_FOUND);
  };
}

const ok = (f: Found): MetadataResponse => ({ status: 200, contentType: f.contentType, body: f.body });

/** Constant-time comparison of the given signature with the expected one. */
function signatureOk(secret: string, instanceId: string, given: string): boolean {
  const want = Buffer.from(instanceSignature(secret, instanceId), 'utf8');
  const got = Buffer.from(given, 'utf8');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Starts the metadata service on `host:port`. */
export async function createMetadataServer(o: MetadataServerOptions): Promise<MetadataServer> {
  if (!o.sharedSecret) throw new Error('the metadata service needs the metadata proxy shared secret');
  const handle = metadataHandler(o);
  const server: Server = createServer((req, res) => { void serve(req, res); });
  // Headers and the request line stay within Node's limits (16 KiB; longer gets 431 from Node itself).
  server.requestTimeout = 30_000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req-${randomUUID()}`;
    let r: MetadataResponse;
    try {
      r = await handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct });
    } catch (err) {
      o.log.error({ err, requestId }, 'metadata request failed');
      r = fault(500, 'An unknown error has occurred. Please try your request again.');
    }
    o.log.debug({ method: req.method, url: req.url, status: r.status, request_id: requestId }, 'metadata request');
    // A request body is never read: drain it so the connection stays usable.
    req.resume();
    if (res.headersSent || res.destroyed) return;
    res.writeHead(r.status, {
      'content-type': r.contentType, 'content-length': r.body.length, 'x-openstack-request-id': requestId, ...r.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
