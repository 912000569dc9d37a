import type { FastifyInstance } from 'fastify';
import type { ImageContext } from '../context.js';
import { addMember, deleteMember, listMembers, showMember, updateMember } from '../members.js';
import { callerOf, methodNotAllowed, noContent, param } from './common.js';

/** `/v2/images/{id}/members[/{member}]`. */
export function register(app: FastifyInstance, ctx: ImageContext): void {
  app.post('/v2/images/:id/members', async (req) => addMember(ctx, callerOf(ctx, req), param(req, 'id'), req.body));
  app.get('/v2/images/:id/members', async (req) => listMembers(ctx, callerOf(ctx, req), param(req, 'id')));
  app.route({ method: ['PUT', 'DELETE', 'PATCH'], url: '/v2/images/:id/members', handler: async () => { throw methodNotAllowed('GET, POST'); } });
  app.get('/v2/images/:id/members/:member', async (req) => showMember(ctx, callerOf(ctx, req), param(req, 'id'), param(req, 'member')));
  app.put('/v2/images/:id/members/:member', async (req) =>
    updateMember(ctx, callerOf(ctx, req), param(req, 'id'), param(req, 'member'), req.body));
  app.delete('/v2/images/:id/members/:member', async (req, reply) => {
    await deleteMember(ctx, callerOf(ctx, req), param(req, 'id'), param(req, 'member'));
    return noContent(reply);
  });
  app.route({ method: ['POST', 'PATCH'], url: '/v2/images/:id/members/:member', handler: async () => { throw methodNotAllowed('GET, PUT, DELETE'); } });
}
