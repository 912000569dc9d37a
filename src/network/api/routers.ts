/**
 * The router member actions: `PUT /v2.0/routers/{id}/add_router_interface`,
 * `remove_router_interface` (l3) and `add_extraroutes`, `remove_extraroutes`
 * (extraroute-atomic). The caller must see the router (owner or admin), else 404.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NetworkContext } from '../context.js';
import { render } from '../resource/body.js';
import { callerOf, loadVisible, type ResourceBehaviour } from '../resource/routes.js';
import { addRouterInterface, changeExtraRoutes, removeRouterInterface } from '../router-interfaces.js';

export function registerRouterActions(app: FastifyInstance, ctx: NetworkContext, routers: ResourceBehaviour): void {
  const base = `/v2.0/${routers.def.collection}/:id`;
  const load = async (req: FastifyRequest) => {
    const caller = callerOf(ctx, req);
    const router = await loadVisible(ctx, routers, (req.params as { id: string }).id, caller);
    return { caller, router };
  };
  app.put(`${base}/add_router_interface`, async (req) => {
    const { caller, router } = await load(req);
    return addRouterInterface(ctx, router.id, req.body, caller);
  });
  app.put(`${base}/remove_router_interface`, async (req) => {
    const { caller, router } = await load(req);
    return removeRouterInterface(ctx, router.id, req.body, caller);
  });
  for (const op of ['add', 'remove'] as const) {
    app.put(`${base}/${op}_extraroutes`, async (req) => {
      const { caller, router } = await load(req);
      const next = await changeExtraRoutes(ctx, router.id, req.body, caller, op);
      if (routers.decorate) await routers.decorate([next], caller);
      return { router: render(routers.def, next, caller) };
    });
  }
}
