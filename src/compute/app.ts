import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../platform/http/server.js';
import { Fault } from '../platform/http/faults.js';
import { installAuthentication, type TokenValidator } from '../platform/auth/index.js';
import type { ComputeContext } from './context.js';
import { renderNovaFault } from './faults.js';
import { ComputeRoutes } from './api/http.js';
import { registerExtensions, registerVersions } from './api/versions.js';
import { registerFlavors } from './api/flavors.js';
import { registerKeypairs } from './api/keypairs.js';
import { registerQuotas } from './api/quotas.js';
import { registerServices } from './api/services.js';
import { registerHypervisors } from './api/hypervisors.js';
import { registerAggregates } from './api/aggregates.js';

/** What the compute API needs from outside the compute service. */
export interface ComputeAppOptions {
  readonly validator: TokenValidator;
  /**
   * Nova's `verify_project_id`: whether a project exists (false → 400 "not a valid project");
   * undefined when it cannot tell (then the request goes on, as Nova does when Keystone is unsure).
   */
  readonly projectExists?: (projectId: string) => Promise<boolean | undefined>;
  /** Registers more routes (the servers API, when this process serves servers). */
  readonly extraRoutes?: (routes: ComputeRoutes) => void;
}

/** The compute v2.1 API as a Fastify app. */
export function createComputeApp(ctx: ComputeContext, opts: ComputeAppOptions): FastifyInstance {
  const app = createApiServer({
    service: 'compute', logger: ctx.log, bodyLimit: ctx.config.platform.max_body_bytes, renderFault: renderNovaFault,
    requestIdHeaders: ['x-compute-request-id'],
  });
  installAuthentication(app, { validator: opts.validator, onUnauthorized: (m) => new Fault(401, m), serviceType: 'compute' });
  const projectExists = opts.projectExists ?? (async () => undefined);
  registerVersions(app);
  const routes = new ComputeRoutes(app, ctx);
  registerExtensions(routes);
  registerFlavors(routes, projectExists);
  registerKeypairs(routes);
  registerQuotas(routes, projectExists);
  registerServices(routes);
  registerHypervisors(routes);
  registerAggregates(routes);
  opts.extraRoutes?.(routes);
  return app;
}
