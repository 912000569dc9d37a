import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { Fault } from '../../platform/http/faults.js';
import type { ImageContext } from '../context.js';
import { downloadData, stageData, uploadData } from '../transfer.js';
import { importImage } from '../import.js';
import { FileReadStream } from '../data/read-stream.js';
import { callerOf, mediaType, methodNotAllowed, noContent, param } from './common.js';

/** Uploads must say `application/octet-stream` (Glance: 415 otherwise), checked before the body is read. */
async function requireOctetStream(req: FastifyRequest): Promise<void> {
  const type = mediaType(req);
  if (type !== 'application/octet-stream') throw new Fault(415, `Invalid content type ${type ?? 'None'}`);
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** How long the rest of a refused upload is read and discarded before the connection is cut. */
const DISCARD_MS = 30_000;

/**
 * A refused upload (quota, bad format, conflict) is answered at once, but the client is still
 * sending: the rest of its body is read and discarded so that it gets to read the answer (closing
 * the socket under a sending client resets the connection and loses the answer). A client that
 * keeps sending longer than DISCARD_MS is cut off.
 */
function discardRestOfBody(req: FastifyRequest): void {
  const raw = req.raw;
  if (raw.complete || raw.destroyed) return;
  raw.removeAllListeners('data');
  raw.resume();
  const cut = setTimeout(() => raw.destroy(), DISCARD_MS);
  cut.unref();
  raw.once('end', () => clearTimeout(cut));
  raw.once('close', () => clearTimeout(cut));
}

/** Image data: upload, download, staging and import. */
export function register(app: FastifyInstance, ctx: ImageContext): void {
  // Upload bodies stay streams (no body limit): the upload pipeline consumes them.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  app.addHook('onError', async (req) => {
    if (req.method === 'PUT' && /\/(file|stage)$/.test(req.routeOptions.url ?? '')) discardRestOfBody(req);
  });

  app.put('/v2/images/:id/file', { onRequest: requireOctetStream }, async (req, reply) => {
    await uploadData(ctx, callerOf(ctx, req), param(req, 'id'), req.body as Readable | undefined);
    return noContent(reply);
  });
  app.get('/v2/images/:id/file', async (req, reply: FastifyReply) => {
    const dl = await downloadData(ctx, callerOf(ctx, req), param(req, 'id'), header(req, 'range'), header(req, 'content-range'));
    if (dl === null) return noContent(reply);
    reply.status(dl.status).headers(dl.headers);
    if (dl.body instanceof FileReadStream && req.method === 'GET') {
      // The fast path writes into the socket itself, with recycled buffers (see FileReadStream.sendTo).
      reply.hijack();
      const head: Record<string, string | number | string[]> = {};
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) head[k] = v;
      reply.raw.writeHead(dl.status, head);
      await dl.body.sendTo(reply.raw).catch((err: unknown) => req.log.error({ err }, 'image download failed mid-way'));
      return reply;
    }
    return reply.send(dl.body);
  });
  app.route({ method: ['POST', 'DELETE', 'PATCH'], url: '/v2/images/:id/file', handler: async () => { throw methodNotAllowed('GET, PUT'); } });

  app.put('/v2/images/:id/stage', { onRequest: requireOctetStream }, async (req, reply) => {
    await stageData(ctx, callerOf(ctx, req), param(req, 'id'), req.body as Readable | undefined);
    return noContent(reply);
  });
  app.route({ method: ['GET', 'POST', 'DELETE', 'PATCH'], url: '/v2/images/:id/stage', handler: async () => { throw methodNotAllowed('PUT'); } });

  app.post('/v2/images/:id/import', async (req, reply) => {
    await importImage(ctx, callerOf(ctx, req), param(req, 'id'), req.body);
    return reply.status(202).send();
  });
  app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: '/v2/images/:id/import', handler: async () => { throw methodNotAllowed('POST'); } });
}
