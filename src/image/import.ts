/**
 * Interoperable image import (`POST /v2/images/{id}/import`): `glance-direct` imports what
 * `PUT /stage` put in the staging area; `web-download` first fetches a URL from an allowlisted
 * host into it. The request answers 202 at once; the import runs in the background
 * (importing → active), applying the format checks and the optional qcow2 → raw conversion.
 * On failure the image goes back to `queued` with `os_glance_failed_import` naming the store.
 */
import { randomUUID } from 'node:crypto';
import { finishTask, startImportTask } from './tasks.js';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { badRequest, conflict } from '../platform/http/faults.js';
import { receiveImageData, type ReceivedData } from './data/upload.js';
import { convertToRaw } from './formats/index.js';
import type { Caller, ImageContext } from './context.js';
import { authorize, getVisible, notification } from './images.js';
import { loadImage, transition, viewOf, writeProperties } from './repo.js';
import { enforceQuota } from './quotas.js';
import { checkData, type StageInfo } from './transfer.js';

const TASK = 'os_glance_import_task';
const IMPORTING = 'os_glance_importing_to_stores';
const FAILED = 'os_glance_failed_import';
/** How long web-download waits for the remote server's response headers. */
const FETCH_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

/** The import methods this cloud offers (`/v2/info/import`). */
export function importMethods(ctx: ImageContext): string[] {
  return ctx.config.image.web_download_allowed_hosts.length > 0 ? ['glance-direct', 'web-download'] : ['glance-direct'];
}

/** 400 unless `uri` is http(s) on an allowlisted host (Glance's `validate_import_uri`). */
function checkUri(ctx: ImageContext, uri: unknown): URL {
  const refuse = () => badRequest(`URI for web-download does not pass filtering: ${String(uri)}`);
  if (typeof uri !== 'string') throw refuse();
  let url: URL;
  try { url = new URL(uri); } catch { throw refuse(); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse();
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (!ctx.config.image.web_download_allowed_hosts.some((h) => h.toLowerCase() === host)) throw refuse();
  return url;
}

interface ImportRequest { readonly method: string; readonly uri?: string; readonly stores: string[] }

function parseImportBody(ctx: ImageContext, body: unknown): ImportRequest {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest("Import request requires a 'method' field.");
  const b = body as Record<string, unknown>;
  const method = b.method;
  if (method === undefined) throw badRequest("Import request requires a 'method' field.");
  if (typeof method !== 'object' || method === null || Array.isArray(method) || !Object.hasOwn(method, 'name')) {
    throw badRequest("Import request requires a 'name' field.");
  }
  const name = (method as Record<string, unknown>).name;
  if (typeof name !== 'string' || !importMethods(ctx).includes(name)) throw badRequest(`Unknown import method name '${String(name)}'.`);
  if (b.all_stores_must_succeed !== undefined && typeof b.all_stores_must_succeed !== 'boolean') {
    throw badRequest("'all_stores_must_succeed' must be boolean value only");
  }
  if (b.all_stores !== undefined && typeof b.all_stores !== 'boolean') throw badRequest("'all_stores' must be boolean value only");
  let stores = [ctx.store.id];
  if (b.stores !== undefined && b.all_stores !== true) {
    if (!Array.isArray(b.stores)) throw badRequest("'stores' must be a list of store identifiers");
    stores = b.stores.map(String);
    for (const s of stores) if (s !== ctx.store.id) throw conflict(`Unknown scheme '${s}' found in URI`);
  }
  const uri = (method as Record<string, unknown>).uri;
  return { method: name, uri: typeof uri === 'string' ? uri : undefined, stores: [...new Set(stores)] };
}

/** `POST /v2/images/{id}/import`: checks, takes the import lock, starts the import; 202 follows. */
export async function importImage(ctx: ImageContext, caller: Caller, id: string, body: unknown): Promise<void> {
  const req = parseImportBody(ctx, body);
  await enforceQuota(ctx.db, ctx.config, caller.projectId, 'image_size_total');
  const img = await getVisible(ctx, caller, id);
  const { status } = img.row;
  if (status === 'active') throw conflict('Image with status active cannot be target for import');
  if (req.method === 'web-download' && status !== 'queued') throw conflict(`Image needs to be in 'queued' state to use 'web-download' method`);
  if (req.method === 'glance-direct' && status !== 'uploading') throw conflict("Image needs to be staged before 'glance-direct' method can be used");
  if (!img.row.container_format) throw conflict("'container_format' needs to be set before import");
  if (!img.row.disk_format) throw conflict("'disk_format' needs to be set before import");
  await authorize(ctx, caller, img, 'modify_image', { mutable: true });
  if (ctx.imports.has(id)) throw conflict(`New operation on image '${id}' is not permitted as prior operation is still in progress`);
  if (req.method === 'web-download') checkUri(ctx, req.uri);

  if (!(await transition(ctx.db, id, status, { status: 'importing' }))) {
    throw conflict(`New operation on image '${id}' is not permitted as prior operation is still in progress`);
  }
  const taskId = await startImportTask(ctx, caller, id, body as Record<string, unknown>);
  const failed = (img.extra[FAILED] ?? '').split(',').filter((s) => s && !req.stores.includes(s));
  await writeProperties(ctx.db, id, { [TASK]: taskId, [IMPORTING]: req.stores.join(','), [FAILED]: failed.join(',') });
  const run = runImport(ctx, id, req, caller.projectId)
    .then((error) => finishTask(ctx, taskId, id, error === undefined ? { ok: true } : { ok: false, message: error }))
    .catch((err: unknown) => ctx.log.warn({ err, taskId }, 'import task not updated'))
    .finally(() => ctx.imports.delete(id));
  ctx.imports.set(id, run);
}

/**
 * The background part of an import; never rejects (failures are recorded on the image) and
 * returns the failure's reason, or undefined on success.
 */
async function runImport(ctx: ImageContext, id: string, req: ImportRequest, project: string | null): Promise<string | undefined> {
  let stored: string | null = null;
  try {
    if (req.method === 'web-download') await downloadToStaging(ctx, id, req.uri!, project);
    const img = await loadImage(ctx.db, id);
    if (!img || img.row.status !== 'importing' || !img.row.stage_location) throw new Error('image gone or nothing staged');
    const info = JSON.parse(img.row.stage_info ?? '{}') as StageInfo;
    checkData(ctx, id, img.row.disk_format!, info);
    let diskFormat = img.row.disk_format!;
    let received: ReceivedData;
    if (ctx.config.image.convert_to_raw && info.inspection?.format === 'qcow2') {
      received = await convertedIntoStore(ctx, id, img.row.stage_location);
      diskFormat = 'raw';
    } else {
      received = await receiveImageData(await ctx.staging.read(img.row.stage_location), { store: ctx.store, imageId: id, replace: true });
    }
    stored = received.location;
    const ok = await transition(ctx.db, id, 'importing', {
      status: 'active', size: received.size, checksum: received.checksum, os_hash_algo: received.osHashAlgo,
      os_hash_value: received.osHashValue, virtual_size: received.inspection.virtualSize ?? info.inspection?.virtualSize ?? null,
      location: received.location, disk_format: diskFormat, stage_location: null, stage_info: null,
    });
    if (!ok) throw new Error('image deleted during import');
    stored = null;
    await ctx.staging.delete(img.row.stage_location).catch(() => undefined);
    await writeProperties(ctx.db, id, { [IMPORTING]: '' }, [TASK]);
    const done = await loadImage(ctx.db, id);
    if (done) ctx.notify('image.activate', notification(viewOf(done)));
    return undefined;
  } catch (err) {
    ctx.log.warn({ err, imageId: id, method: req.method }, 'image import failed');
    if (stored) await ctx.store.delete(stored).catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    const img = await loadImage(ctx.db, id).catch(() => undefined);
    if (!img) return reason;
    if (img.row.stage_location) await ctx.staging.delete(img.row.stage_location).catch(() => undefined);
    await transition(ctx.db, id, 'importing', { status: 'queued', size: null, virtual_size: null, stage_location: null, stage_info: null })
      .catch(() => undefined);
    const failed = new Set((img.extra[FAILED] ?? '').split(',').filter(Boolean));
    for (const s of req.stores) failed.add(s);
    await writeProperties(ctx.db, id, { [IMPORTING]: '', [FAILED]: [...failed].join(',') }, [TASK]).catch(() => undefined);
    return reason;
  }
}

/** qcow2 → raw with qemu-img (the staged file is local), then into the store with fresh hashes. */
async function convertedIntoStore(ctx: ImageContext, id: string, staged: string): Promise<ReceivedData> {
  const pathFor = (ctx.staging as { pathFor?: (l: string) => string }).pathFor;
  if (!pathFor) throw new Error('the staging store has no local files to convert');
  const src = pathFor.call(ctx.staging, staged);
  const dst = join(ctx.config.image.staging_dir!, `.convert-${id}-${randomUUID()}.raw`);
  try {
    await convertToRaw(src, dst, { sourceFormat: 'qcow2' });
    return await receiveImageData(createReadStream(dst), { store: ctx.store, imageId: id, replace: true });
  } finally {
    await rm(dst, { force: true });
  }
}

/** web-download: fetches the URL (following redirects only to allowlisted hosts) into the staging area. */
async function downloadToStaging(ctx: ImageContext, id: string, uri: string, project: string | null): Promise<void> {
  let url = checkUri(ctx, uri);
  let res: Response | undefined;
  for (let i = 0; i <= MAX_REDIRECTS; i++) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no response from ${url.host} within ${FETCH_TIMEOUT_MS} ms`)), FETCH_TIMEOUT_MS);
    try {
      res = await fetch(url, { redirect: 'manual', signal: abort.signal });
    } finally {
      clearTimeout(timer);
    }
    const next = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    if (!next) break;
    await res.body?.cancel();
    url = checkUri(ctx, new URL(next, url).toString());
    res = undefined;
  }
  if (!res || !res.ok || !res.body) throw new Error(`web-download of ${uri} failed: HTTP ${res?.status ?? 'redirect loop'}`);
  const room = await enforceQuota(ctx.db, ctx.config, project, 'image_stage_total');
  const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  const received = await receiveImageData(body, { store: ctx.staging, imageId: id, maxBytes: room, replace: true });
  const info: StageInfo = { size: received.size, checksum: received.checksum, osHashValue: received.osHashValue, inspection: received.inspection };
  const ok = await transition(ctx.db, id, 'importing', { size: received.size, stage_location: received.location, stage_info: JSON.stringify(info) });
  if (!ok) {
    await ctx.staging.delete(received.location).catch(() => undefined);
    throw new Error('image deleted during web-download');
  }
}
