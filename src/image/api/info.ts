import type { FastifyInstance } from 'fastify';
import { notFound, notImplemented } from '../../platform/http/faults.js';
import type { ImageContext } from '../context.js';
import { importMethods } from '../import.js';
import { imageTasks, listTasks, showTask } from '../tasks.js';
import { usageReport } from '../quotas.js';
import { schemaByName } from './schemas.js';
import { callerOf, param } from './common.js';

/** Discovery (`/v2/info/*`), schemas, and clear 501s for the APIs this cloud does not serve. */
export function register(app: FastifyInstance, ctx: ImageContext): void {
  app.get('/v2/info/import', async (req) => {
    callerOf(ctx, req);
    return { 'import-methods': { description: 'Import methods available.', type: 'array', value: importMethods(ctx) } };
  });
  app.get('/v2/info/stores', async (req) => {
    callerOf(ctx, req);
    return { stores: [ctx.store.describe()] };
  });
  app.get('/v2/info/stores/detail', async (req) => {
    const caller = callerOf(ctx, req);
    ctx.enforce(caller, 'stores_info_detail', { project_id: caller.projectId });
    const dir = (ctx.store as { dir?: string }).dir;
    return { stores: [{ ...ctx.store.describe(), type: 'file', properties: { data_dir: dir ?? null, chunk_size: 65536, thin_provisioning: false } }] };
  });
  app.get('/v2/info/usage', async (req) => {
    const caller = callerOf(ctx, req);
    return { usage: await usageReport(ctx.db, ctx.config, caller.projectId) };
  });

  app.get('/v2/schemas/*', async (req) => {
    callerOf(ctx, req);
    const doc = schemaByName(param(req, '*').replace(/\/+$/, ''));
    if (!doc) throw notFound('The resource could not be found.');
    return doc;
  });

  const unsupported = (what: string) => async () => { throw notImplemented(`The ${what} API is not available in this cloud.`); };
  app.get('/v2/images/:id/tasks', async (req) => ({ tasks: await imageTasks(ctx, callerOf(ctx, req), param(req, 'id')) }));
  app.get('/v2/tasks', async (req) => ({ tasks: await listTasks(ctx, callerOf(ctx, req)), schema: '/v2/schemas/tasks' }));
  app.get('/v2/tasks/:id', async (req) => showTask(ctx, callerOf(ctx, req), param(req, 'id')));
  app.post('/v2/tasks', async () => {
    throw notImplemented('Creating tasks is not available in this cloud: use the interoperable image import (POST /v2/images/{image_id}/import).');
  });
  app.all('/v2/cache', unsupported('image cache'));
  app.all('/v2/cache/*', unsupported('image cache'));
  app.all('/v2/stores/*', unsupported('store management'));
}
