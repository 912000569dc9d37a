/**
 * The compute API's image proxy (Nova's `/images` and `/images/{id}/metadata`): the image
 * service's images in Nova's old shape, read and changed with the caller's own token so the
 * image service's visibility and ownership rules decide. Removed by microversion 2.36 (images)
 * and 2.39 (image metadata): 404 from there on, as Nova answers a method its version lacks.
 *
 * Image statuses map as Nova maps them (queued/saving → SAVING, active → ACTIVE, killed →
 * ERROR, deleted/pending_delete → DELETED, anything else UNKNOWN), with Nova's progress figures;
 * `metadata` is the image's custom properties; a snapshot (property instance_uuid) links its server.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComputeContext } from '../context.js';
import { badRequest, conflict, forbidden, notFound } from '../faults.js';
import { atLeast, nextLinks, params, selfLinks, type ComputeRoutes } from '../api/http.js';
import { metadata as metadataSchema, multiParams, positiveInteger, queryLists, validateBody, validateQuery, type Schema } from '../api/schema.js';
import { customProperties, type CallerImageApi, type ImageClient, type ImageRecord, type ImagePatchOp } from '../clients/image.js';
import { ServiceCallError } from '../clients/service-auth.js';
import { imageLocation } from '../servers/snapshot.js';
import { userQuotas } from '../quotas.js';

/** The microversions that removed the image proxy and the image metadata proxy. */
const IMAGES_REMOVED = '2.36';
const IMAGE_METADATA_REMOVED = '2.39';

/** Nova's query filters of an image list and the image service's names for them. */
const FILTERS: Readonly<Record<string, string>> = {
  name: 'name', status: 'status', 'changes-since': 'updated_at', server: 'instance_uuid', type: 'image_type', minRam: 'min_ram', minDisk: 'min_disk',
};

const STATUS: Readonly<Record<string, string>> = { active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', deleted: 'DELETED', pending_delete: 'DELETED', killed: 'ERROR' };
const PROGRESS: Readonly<Record<string, number>> = { queued: 25, saving: 50, active: 100 };
/** Properties Nova stores as JSON text and shows decoded. */
const JSON_PROPERTIES = ['block_device_mapping', 'mappings'];

const LIST_QUERY: Schema = {
  type: 'object',
  properties: { limit: multiParams(positiveInteger), page_size: multiParams(positiveInteger), offset: multiParams(positiveInteger), marker: multiParams({ type: 'string' }) },
  additionalProperties: true,
};

/** Nova's (and oslo's) `isotime`: seconds, UTC, `Z`. */
function isotime(t: unknown): string | null {
  if (typeof t !== 'string' || !t) return null;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(ms) ? null : `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** oslo's bool_from_string (non-strict). */
const truthy = (v: unknown): boolean => ['1', 't', 'true', 'on', 'y', 'yes'].includes(String(v).trim().toLowerCase());

/** The image's custom properties as Nova shows them (its JSON-valued ones decoded). */
function propertiesOf(img: ImageRecord): Record<string, unknown> {
  const props = customProperties(img);
  for (const k of JSON_PROPERTIES) {
    if (typeof props[k] !== 'string') continue;
    try { props[k] = JSON.parse(props[k] as string); } catch { /* shown as stored */ }
  }
  return props;
}

function links(req: FastifyRequest, images: ImageClient, id: string): Record<string, string>[] {
  return [...selfLinks(req, 'images', id), { rel: 'alternate', type: 'application/vnd.openstack.image', href: imageLocation(images, id) }];
}

/** Nova's detailed image view. */
function imageView(req: FastifyRequest, images: ImageClient, img: ImageRecord): Record<string, unknown> {
  const metadata = propertiesOf(img);
  const out: Record<string, unknown> = {
    id: img.id, name: img.name ?? null, minRam: Number(img.min_ram ?? 0) || 0, minDisk: Number(img.min_disk ?? 0) || 0, metadata,
    created: isotime(img.created_at), updated: isotime(img.updated_at), status: STATUS[img.status] ?? 'UNKNOWN', progress: PROGRESS[img.status] ?? 0,
    'OS-EXT-IMG-SIZE:size': img.size ?? 0, links: links(req, images, img.id),
  };
  const server = metadata.instance_uuid;
  if (server !== undefined && server !== null) out.server = { id: server, links: selfLinks(req, 'servers', String(server)) };
  if (metadata.auto_disk_config !== undefined && metadata.auto_disk_config !== null) out['OS-DCF:diskConfig'] = truthy(metadata.auto_disk_config) ? 'AUTO' : 'MANUAL';
  return out;
}

/** The image service's own message in an error body. */
function glanceMessage(err: ServiceCallError): string {
  try {
    const j = JSON.parse(err.body) as Record<string, any>;
    return String(j.message ?? j.error?.message ?? j.title ?? err.body);
  } catch {
    return err.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  }
}

const callError = (err: unknown, status: number): err is ServiceCallError => err instanceof ServiceCallError && err.status === status;

/** The caller's token (the proxy acts as the caller towards the image service). */
function callerImages(images: ImageClient, req: FastifyRequest): CallerImageApi {
  const token = req.headers['x-auth-token'];
  const t = Array.isArray(token) ? token[0] : token;
  if (!t) throw forbidden('The image API proxy needs a token to act with.');
  return images.forCaller(t);
}

export interface ImageProxyDeps {
  readonly ctx: ComputeContext;
  readonly images: ImageClient;
}

export function registerImageProxy(routes: ComputeRoutes, d: ImageProxyDeps): void {
  const { ctx, images } = d;
  const gone = (req: FastifyRequest, removedAt: string): void => {
    if (atLeast(req, removedAt)) throw notFound('The resource could not be found.');
  };
  const imageId = (req: FastifyRequest): string => params<{ image_id: string }>(req).image_id;

  /** An image the caller sees, or Nova's 404 (403 when the image service refuses them). */
  const imageOf = async (api: CallerImageApi, id: string): Promise<ImageRecord> => {
    try {
      return await api.get(id);
    } catch (err) {
      if (callError(err, 404) || callError(err, 400)) throw notFound('Image not found.');
      if (callError(err, 403) || callError(err, 401)) throw forbidden(`Not authorized for image ${id}.`);
      throw err;
    }
  };

  // ---------------------------------------------------------------- images

  const list = async (req: FastifyRequest, detail: boolean) => {
    gone(req, IMAGES_REMOVED);
    const q = queryLists(req.query);
    validateQuery(LIST_QUERY, q);
    const last = (k: string): string | undefined => q[k]?.[q[k]!.length - 1];
    const filters: Record<string, string> = {};
    for (const [k, values] of Object.entries(q)) {
      const v = values[values.length - 1]!;
      if (k in FILTERS) filters[FILTERS[k]!] = v;
      else if (k.startsWith('property-') && k.length > 'property-'.length) filters[k.slice('property-'.length)] = v;
    }
    // A server filter may be the server's link: its last path segment is the id.
    if (filters.instance_uuid?.includes('/')) filters.instance_uuid = filters.instance_uuid.slice(filters.instance_uuid.lastIndexOf('/') + 1);
    if (filters.status !== undefined) filters.status = filters.status.toLowerCase();
    if (filters.updated_at !== undefined) filters.updated_at = `gte:${filters.updated_at}`;
    const limit = last('limit') ? Number(last('limit')) : undefined;
    let found: ImageRecord[];
    try {
      found = await callerImages(images, req).list(filters, { ...(limit ? { limit } : {}), ...(last('marker') ? { marker: last('marker')! } : {}) });
    } catch (err) {
      if (err instanceof ServiceCallError && err.status === 400) throw badRequest(glanceMessage(err));
      if (err instanceof ServiceCallError && (err.status === 403 || err.status === 401)) throw forbidden(glanceMessage(err));
      if (err instanceof ServiceCallError && err.status === 404) throw notFound(glanceMessage(err));
      throw err;
    }
    const out: Record<string, unknown> = {
      images: found.map((img) => (detail ? imageView(req, images, img) : { id: img.id, name: img.name ?? null, links: links(req, images, img.id) })),
    };
    const more = nextLinks(req, detail ? 'images/detail' : 'images', found.length, found[found.length - 1]?.id, ctx.maxLimit);
    if (more.length) out.images_links = more;
    return out;
  };
  routes.get('/images', (req) => list(req, false));
  routes.get('/images/detail', (req) => list(req, true));

  routes.get('/images/:image_id', async (req) => {
    gone(req, IMAGES_REMOVED);
    return { image: imageView(req, images, await imageOf(callerImages(images, req), imageId(req))) };
  });

  routes.delete('/images/:image_id', async (req, reply: FastifyReply) => {
    gone(req, IMAGES_REMOVED);
    try {
      await callerImages(images, req).delete(imageId(req));
    } catch (err) {
      if (callError(err, 404) || callError(err, 400)) throw notFound('Image not found.');
      if (callError(err, 403) || callError(err, 401)) throw forbidden('You are not allowed to delete the image.');
      if (callError(err, 409)) throw conflict(`Conflict deleting image. Reason: ${glanceMessage(err)}.`);
      throw err;
    }
    reply.status(204);
    return reply.send();
  });

  // ------------------------------------------------------- image metadata

  /** Nova's image metadata quota: the project's metadata_items limit (403 beyond it). */
  const checkQuota = async (req: FastifyRequest, props: Readonly<Record<string, unknown>>): Promise<void> => {
    const n = Object.keys(props).length;
    if (n === 0) return;
    const caller = routes.caller(req);
    const limit = (await userQuotas(ctx, caller.projectId, caller.userId)).metadata_items.limit;
    if (limit >= 0 && n > limit) throw forbidden('Image metadata limit exceeded');
  };

  /** Makes the image's custom properties exactly `next` (Nova's update with purge_props); returns the image as changed. */
  const writeProperties = async (api: CallerImageApi, img: ImageRecord, next: Readonly<Record<string, unknown>>): Promise<ImageRecord> => {
    const cur = customProperties(img);
    const ops: ImagePatchOp[] = [];
    const pointer = (k: string) => `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    for (const [k, v] of Object.entries(next)) {
      const value = v === null || typeof v === 'string' ? v : JSON.stringify(v);
      if (!(k in cur)) ops.push({ op: 'add', path: pointer(k), value });
      else if (cur[k] !== value) ops.push({ op: 'replace', path: pointer(k), value });
    }
    for (const k of Object.keys(cur)) if (!(k in next)) ops.push({ op: 'remove', path: pointer(k) });
    if (!ops.length) return img;
    try {
      return await api.patch(img.id, ops);
    } catch (err) {
      if (callError(err, 404)) throw notFound('Image not found.');
      if (callError(err, 403) || callError(err, 401)) throw forbidden(`Not authorized for image ${img.id}.`);
      if (callError(err, 413)) throw forbidden(`Quota exceeded or out of space for image ${img.id} in the image service.`);
      if (err instanceof ServiceCallError && err.status >= 400 && err.status < 500) throw badRequest(`Request of image ${img.id} got BadRequest response: ${glanceMessage(err)}`);
      throw err;
    }
  };

  const md = (req: FastifyRequest) => params<{ image_id: string; key?: string }>(req);

  routes.get('/images/:image_id/metadata', async (req) => {
    gone(req, IMAGE_METADATA_REMOVED);
    return { metadata: propertiesOf(await imageOf(callerImages(images, req), md(req).image_id)) };
  });

  routes.get('/images/:image_id/metadata/:key', async (req) => {
    gone(req, IMAGE_METADATA_REMOVED);
    const props = propertiesOf(await imageOf(callerImages(images, req), md(req).image_id));
    const k = md(req).key!;
    if (!(k in props)) throw notFound('The resource could not be found.');
    return { meta: { [k]: props[k] } };
  });

  const setAll = async (req: FastifyRequest, replace: boolean) => {
    gone(req, IMAGE_METADATA_REMOVED);
    validateBody({ type: 'object', properties: { metadata: metadataSchema }, required: ['metadata'], additionalProperties: false }, req.body);
    const given = (req.body as { metadata: Record<string, string> }).metadata;
    const api = callerImages(images, req);
    const img = await imageOf(api, md(req).image_id);
    const next = replace ? { ...given } : { ...customProperties(img), ...given };
    await checkQuota(req, next);
    const written = await writeProperties(api, img, next);
    return { metadata: replace ? given : propertiesOf(written) };
  };
  routes.post('/images/:image_id/metadata', (req) => setAll(req, false));
  routes.put('/images/:image_id/metadata', (req) => setAll(req, true));

  routes.put('/images/:image_id/metadata/:key', async (req) => {
    gone(req, IMAGE_METADATA_REMOVED);
    validateBody({ type: 'object', properties: { meta: { ...metadataSchema, minProperties: 1, maxProperties: 1 } }, required: ['meta'], additionalProperties: false }, req.body);
    const meta = (req.body as { meta: Record<string, string> }).meta;
    const k = md(req).key!;
    if (!(k in meta)) throw badRequest('Request body and URI mismatch');
    const api = callerImages(images, req);
    const img = await imageOf(api, md(req).image_id);
    const next = { ...customProperties(img), [k]: meta[k] };
    await checkQuota(req, next);
    await writeProperties(api, img, next);
    return { meta };
  });

  routes.delete('/images/:image_id/metadata/:key', async (req, reply: FastifyReply) => {
    gone(req, IMAGE_METADATA_REMOVED);
    const api = callerImages(images, req);
    const img = await imageOf(api, md(req).image_id);
    const k = md(req).key!;
    const cur = customProperties(img);
    if (!(k in cur)) throw notFound('Invalid metadata key');
    const { [k]: _gone, ...rest } = cur;
    await writeProperties(api, img, rest);
    reply.status(204);
    return reply.send();
  });
}
