/**
 * What compute asks of the image service (Glance's v2 API, as Nova's glance client does): an
 * image's record, its data streamed into the host's image cache, and snapshots uploaded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import { ServiceApi, ServiceCallError } from './service-auth.js';

export interface ImageRecord {
  readonly id: string;
  readonly name: string | null;
  readonly status: string;
  readonly visibility: string;
  readonly owner: string | null;
  readonly disk_format: string | null;
  readonly container_format: string | null;
  readonly size: number | null;
  readonly virtual_size: number | null;
  readonly min_disk: number;
  readonly min_ram: number;
  readonly checksum: string | null;
  readonly [k: string]: unknown;
}

/** Glance's image keys that are not custom properties. */
const CORE = new Set([
  'id', 'name', 'status', 'visibility', 'owner', 'disk_format', 'container_format', 'size', 'virtual_size', 'min_disk', 'min_ram',
  'checksum', 'os_hash_algo', 'os_hash_value', 'protected', 'os_hidden', 'tags', 'created_at', 'updated_at', 'self', 'file', 'schema',
  'direct_url', 'locations', 'stores',
]);

/** The custom properties of an image (kernel_id, hw_*, os_command_line, …) as strings. */
export function imageProperties(img: ImageRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(img)) if (!CORE.has(k) && v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** The custom properties of an image as the image service returns them (values not converted). */
export function customProperties(img: ImageRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img)) if (!CORE.has(k)) out[k] = v;
  return out;
}

/** One change of an image's JSON patch (`application/openstack-images-v2.1-json-patch`). */
export interface ImagePatchOp { readonly op: 'add' | 'replace' | 'remove'; readonly path: string; readonly value?: unknown }

/**
 * The image service as the caller of a compute request sees it: calls made with the caller's own
 * token, so the image service's visibility and ownership rules decide (Nova passes the user's
 * token to Glance for its image API proxy). Failures are ServiceCallErrors with Glance's status.
 */
export class CallerImageApi {
  constructor(readonly baseUrl: string, readonly token: string) {}

  async #call(method: string, path: string, o: { body?: unknown; contentType?: string } = {}): Promise<any> {
    const headers: Record<string, string> = { 'x-auth-token': this.token, accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
      method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (res.status >= 400) throw new ServiceCallError('image', res.status, text, `${method} ${path.split('?')[0]}`);
    try { return text ? JSON.parse(text) : null; } catch { return null; }
  }

  /** An image the caller may see (404 ServiceCallError otherwise). */
  async get(id: string): Promise<ImageRecord> {
    return await this.#call('GET', `/v2/images/${encodeURIComponent(id)}`) as ImageRecord;
  }

  /**
   * Images the caller may see, matching `filters` (Glance's list query), following the image
   * service's `next` links until `limit` images (all when undefined), in its order (newest first).
   */
  async list(filters: Readonly<Record<string, string>>, o: { limit?: number; marker?: string } = {}): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    const q = new URLSearchParams(filters);
    if (o.marker !== undefined) q.set('marker', o.marker);
    const page = (): number => Math.min(1000, o.limit === undefined ? 1000 : o.limit - out.length);
    q.set('limit', String(page()));
    let path: string | undefined = `/v2/images?${q.toString()}`;
    for (let pages = 0; path && pages < 10_000; pages++) {
      const body = await this.#call('GET', path) as { images?: ImageRecord[]; next?: string };
      out.push(...(body.images ?? []));
      if (o.limit !== undefined && out.length >= o.limit) return out.slice(0, o.limit);
      if (!body.next || !(body.images ?? []).length) break;
      const next = new URL(body.next, 'http://x');
      next.searchParams.set('limit', String(page()));
      path = `${next.pathname.startsWith('/v2/') ? '' : '/v2'}${next.pathname}?${next.searchParams.toString()}`;
    }
    return out;
  }

  /** Applies a JSON patch to an image; returns the image as changed. */
  async patch(id: string, ops: readonly ImagePatchOp[]): Promise<ImageRecord> {
    return await this.#call('PATCH', `/v2/images/${encodeURIComponent(id)}`, { body: ops, contentType: 'application/openstack-images-v2.1-json-patch' }) as ImageRecord;
  }

  async delete(id: string): Promise<void> {
    await this.#call('DELETE', `/v2/images/${encodeURIComponent(id)}`);
  }
}

export class ImageClient {
  constructor(readonly api: ServiceApi) {}

  /** The image service with the caller's token (see {@link CallerImageApi}). */
  forCaller(token: string): CallerImageApi { return new CallerImageApi(this.api.baseUrl, token); }

  /** An image as the service user sees it (any visibility), or null when there is none. */
  async image(id: string): Promise<ImageRecord | null> {
    try {
      return (await this.api.call('GET', `/v2/images/${encodeURIComponent(id)}`)).json as ImageRecord;
    } catch (e) {
      if (e instanceof ServiceCallError && e.status === 404) return null;
      throw e;
    }
  }

  /** Streams an image's data to `dest` (written under a temporary name, checked against its md5 checksum, then renamed). */
  async download(img: ImageRecord, dest: string): Promise<void> {
    // Unique per download: two agents of one process may fetch the same image into one cache at once.
    const tmp = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const res = await fetch(`${this.api.baseUrl.replace(/\/$/, '')}/v2/images/${encodeURIComponent(img.id)}/file`, {
        headers: { 'x-auth-token': await this.api.auth.token() }, signal: AbortSignal.timeout(600_000),
      });
      if (res.status !== 200 || !res.body) throw new ServiceCallError('image', res.status, await res.text(), `download image ${img.id}`);
      const md5 = createHash('md5');
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
      body.on('data', (b: Buffer) => md5.update(b));
      await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
      if (img.checksum && md5.digest('hex') !== img.checksum) throw new Error(`image ${img.id}: downloaded data does not match its checksum`);
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Creates an image record (a snapshot's), returning it. */
  async create(meta: Record<string, unknown>): Promise<ImageRecord> {
    return (await this.api.call('POST', '/v2/images', { body: meta, what: 'create image' })).json as ImageRecord;
  }

  /** Uploads a file as an image's data. */
  async upload(id: string, path: string): Promise<void> {
    const size = (await stat(path)).size;
    const res = await fetch(`${this.api.baseUrl.replace(/\/$/, '')}/v2/images/${encodeURIComponent(id)}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': await this.api.auth.token(), 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: Readable.toWeb(createReadStream(path)) as unknown as BodyInit, duplex: 'half',
      signal: AbortSignal.timeout(600_000),
    } as RequestInit);
    if (res.status !== 204) throw new ServiceCallError('image', res.status, await res.text(), `upload image ${id}`);
  }

  async delete(id: string): Promise<void> {
    try { await this.api.call('DELETE', `/v2/images/${encodeURIComponent(id)}`); } catch (e) { if (!(e instanceof ServiceCallError && e.status === 404)) throw e; }
  }
}
