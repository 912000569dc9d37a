import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ImageContext } from '../context.js';
import {
  addTag, createImage, deactivateImage, deleteImage, deleteTag, listImages, reactivateImage, showImage, updateImage,
} from '../images.js';
import { importMethods } from '../import.js';
import { baseUrl, callerOf, mediaType, methodNotAllowed, noContent, param, queryOf } from './common.js';

/** `first` and `next` links of an image list (relative, as Glance): the query without / with a new marker. */
function pageLinks(req: FastifyRequest, nextMarker: string | undefined): { first: string; next?: string } {
  const params = queryOf(req);
  params.delete('marker');
  const q = params.toString();
  const out: { first: string; next?: string } = { first: q ? `/v2/images?${q}` : '/v2/images' };
  if (nextMarker !== undefined) {
    params.set('marker', nextMarker);
    out.next = `/v2/images?${params.toString()}`;
  }
  return out;
}

/** Images, their actions and tags. */
export function register(app: FastifyInstance, ctx: ImageContext): void {
  app.post('/v2/images', async (req, reply) => {
    const view = await createImage(ctx, callerOf(ctx, req), req.body);
    reply.header('Location', `${baseUrl(req)}/v2/images/${view.id}`);
    reply.header('OpenStack-image-import-methods', importMethods(ctx).join(','));
    reply.header('OpenStack-image-store-ids', ctx.store.id);
    return reply.status(201).send(view);
  });
  app.get('/v2/images', async (req) => {
    const page = await listImages(ctx, callerOf(ctx, req), queryOf(req));
    const links = pageLinks(req, page.nextMarker);
    return { images: page.images, first: links.first, schema: '/v2/schemas/images', ...(links.next ? { next: links.next } : {}) };
  });
  app.route({ method: ['PUT', 'DELETE', 'PATCH'], url: '/v2/images', handler: async () => { throw methodNotAllowed('GET, POST'); } });

  app.get('/v2/images/:id', async (req) => showImage(ctx, callerOf(ctx, req), param(req, 'id')));
  app.patch('/v2/images/:id', async (req) => updateImage(ctx, callerOf(ctx, req), param(req, 'id'), req.body, mediaType(req)));
  app.delete('/v2/images/:id', async (req, reply) => {
    await deleteImage(ctx, callerOf(ctx, req), param(req, 'id'));
    return noContent(reply);
  });
  app.route({ method: ['PUT', 'POST'], url: '/v2/images/:id', handler: async () => { throw methodNotAllowed('GET, PATCH, DELETE'); } });

  app.post('/v2/images/:id/actions/deactivate', async (req, reply) => {
    await deactivateImage(ctx, callerOf(ctx, req), param(req, 'id'));
    return noContent(reply);
  });
  app.post('/v2/images/:id/actions/reactivate', async (req, reply) => {
    await reactivateImage(ctx, callerOf(ctx, req), param(req, 'id'));
    return noContent(reply);
  });
  for (const action of ['deactivate', 'reactivate']) {
    app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: `/v2/images/:id/actions/${action}`, handler: async () => { throw methodNotAllowed('POST'); } });
  }

  app.put('/v2/images/:id/tags/:tag', async (req, reply) => {
    await addTag(ctx, callerOf(ctx, req), param(req, 'id'), param(req, 'tag'));
    return noContent(reply);
  });
  app.delete('/v2/images/:id/tags/:tag', async (req, reply) => {
    await deleteTag(ctx, callerOf(ctx, req), param(req, 'id'), param(req, 'tag'));
    return noContent(reply);
  });
  app.route({ method: ['GET', 'POST', 'PATCH'], url: '/v2/images/:id/tags/:tag', handler: async () => { throw methodNotAllowed('PUT, DELETE'); } });
}
