/**
 * The few Images v2 calls the image bench makes, with streaming upload (chunked transfer, as
 * glanceclient sends) and a download that discards the bytes, each timed from request start to
 * the last byte / the server's answer.
 */
import { once } from 'node:events';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createHttpClient } from './http-client.js';
import { runCommand } from './proc.js';

/** A token and the image API root it is meant for. */
export interface ImageTarget {
  /** Image API root, without /v2. */
  url: string;
  token: string;
}

/** What the server reports about an image after upload. */
export interface ImageFacts {
  status: string;
  size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
}

/** A timed transfer. */
export interface Transfer {
  bytes: number;
  seconds: number;
}

/**
 * Issues a project-scoped password token for `admin` (Default domain) and returns it with the
 * catalog's public image endpoint, if the catalog has one.
 */
export async function adminToken(identityUrl: string, password: string): Promise<{ token: string; imageUrl?: string }> {
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
    type Catalog = { token: { catalog?: { type: string; endpoints: { interface: string; url: string }[] }[] } };
    const catalog = (JSON.parse(res.body) as Catalog).token.catalog ?? [];
    const image = catalog.find((s) => s.type === 'image')?.endpoints.find((e) => e.interface === 'public');
    return { token: String(res.headers['x-subject-token']), imageUrl: image?.url.replace(/\/+$/, '').replace(/\/v2$/, '') };
  } finally {
    client.close();
  }
}

function call(target: ImageTarget, method: string, path: string, opts: { json?: unknown; expect: number }): Promise<string> {
  const client = createHttpClient(target.url, 1);
  return client
    .send(method, path, { headers: { 'x-auth-token': target.token }, json: opts.json, expect: opts.expect })
    .then((r) => r.body)
    .finally(() => client.close());
}

/** Creates a private raw/bare image record and returns its id. */
export async function createImage(target: ImageTarget, name: string): Promise<string> {
  const body = await call(target, 'POST', '/v2/images', {
    expect: 201,
    json: { name, disk_format: 'raw', container_format: 'bare', visibility: 'private' },
  });
  return (JSON.parse(body) as { id: string }).id;
}

export async function showImage(target: ImageTarget, id: string): Promise<ImageFacts> {
  return JSON.parse(await call(target, 'GET', `/v2/images/${id}`, { expect: 200 })) as ImageFacts;
}

export async function deleteImage(target: ImageTarget, id: string): Promise<void> {
  await call(target, 'DELETE', `/v2/images/${id}`, { expect: 204 });
}

/** A cheap authenticated request, to warm the server's token cache before a timed transfer. */
export async function listImages(target: ImageTarget): Promise<void> {
  await call(target, 'GET', '/v2/images?limit=1', { expect: 200 });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('error', reject);
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

/**
 * PUT /v2/images/{id}/file with chunked transfer encoding, writing `chunks` as fast as the
 * server takes them (respecting back-pressure). Resolves when the server answered 204.
 */
export async function uploadImage(target: ImageTarget, id: string, chunks: Iterable<Buffer>): Promise<Transfer> {
  const base = new URL(target.url);
  const t0 = process.hrtime.bigint();
  const req = request({
    host: base.hostname,
    port: base.port || 80,
    method: 'PUT',
    path: `${base.pathname.replace(/\/+$/, '')}/v2/images/${id}/file`,
    headers: { 'x-auth-token': target.token, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
  });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  // A server that answers early (an error) must not leave the writer waiting for 'drain'.
  let early: IncomingMessage | undefined;
  void answered.then((r) => (early = r), () => undefined);
  let bytes = 0;
  for (const chunk of chunks) {
    if (early || req.destroyed) break;
    bytes += chunk.length;
    if (!req.write(chunk)) await Promise.race([once(req, 'drain'), answered]);
  }
  req.end();
  const res = await answered;
  const body = await readAll(res);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.statusCode !== 204) throw new Error(`upload ${id}: HTTP ${res.statusCode} ${body.slice(0, 300)}`);
  return { bytes, seconds };
}

/**
 * PUT /v2/images/{id}/file with curl from a file (chunked, no Expect: 100-continue pause): a
 * client in C whose own CPU cost leaves the most of a small machine to the server measured.
 */
export async function uploadWithCurl(target: ImageTarget, id: string, file: string): Promise<Transfer> {
  const url = `${target.url.replace(/\/+$/, '')}/v2/images/${id}/file`;
  const headers = ['Expect:', 'Transfer-Encoding: chunked', 'Content-Type: application/octet-stream', `X-Auth-Token: ${target.token}`];
  const { stdout } = await runCommand(
    'curl',
    ['-sS', '-X', 'PUT', '-T', file, ...headers.flatMap((h) => ['-H', h]), '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{time_total}', url],
    { timeoutMs: 600_000 },
  );
  const [status, bytes, seconds] = stdout.trim().split(' ');
  if (status !== '204') throw new Error(`upload ${id}: HTTP ${status}`);
  return { bytes: Number(bytes), seconds: Number(seconds) };
}

/**
 * GET /v2/images/{id}/file with curl writing to /dev/null: a client in C, so the figure is the
 * server's (Node's own HTTP client spends more CPU per byte than either server here). The time is
 * curl's own, from its start of the request to the last byte.
 */
export async function downloadWithCurl(target: ImageTarget, id: string): Promise<Transfer> {
  const url = `${target.url.replace(/\/+$/, '')}/v2/images/${id}/file`;
  const { stdout } = await runCommand('curl', ['-sS', '-o', '/dev/null', '-H', `X-Auth-Token: ${target.token}`, '-w', '%{http_code} %{size_download} %{time_total}', url], {
    timeoutMs: 600_000,
  });
  const [status, bytes, seconds] = stdout.trim().split(' ');
  if (status !== '200') throw new Error(`download ${id}: HTTP ${status}`);
  return { bytes: Number(bytes), seconds: Number(seconds) };
}
