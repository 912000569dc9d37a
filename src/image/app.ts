import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../platform/http/server.js';
import { Fault, type FaultRenderer } from '../platform/http/faults.js';
import { authOf, installAuthentication, type TokenValidator } from '../platform/auth/index.js';
import type { ImageContext } from './context.js';
import { register as versions } from './api/versions.js';
import { register as images } from './api/images.js';
import { register as members } from './api/members.js';
import { register as data } from './api/data.js';
import { register as info } from './api/info.js';
import { registerMetadefRoutes } from './metadefs/index.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './images.js';

/**
 * Glance's fault body (webob's JSON error): `{"message", "code": "404 Not Found", "title"}`.
 * A 401 comes from keystonemiddleware in Glance, in Keystone's `{"error": …}` form.
 */
export const renderGlanceFault: FaultRenderer = (f: Fault) => (f.status === 401
  ? { error: { code: 401, title: f.title, message: f.message } }
  : { message: f.message, code: `${f.status} ${f.title}`, title: f.title });

/** The image v2 API as a Fastify app, authenticating with `validator`. */
export function createImageApp(ctx: ImageContext, validator: TokenValidator): FastifyInstance {
  const app = createApiServer({ service: 'image', logger: ctx.log, bodyLimit: ctx.config.platform.max_body_bytes, renderFault: renderGlanceFault });
  // An empty image id (`/v2/images/`) is a missing image in Glance, not the collection (the
  // server ignores trailing slashes elsewhere).
  app.addHook('onRequest', async (req) => {
    if (/^\/v2\/images\/+(\?|$)/.test(req.url)) throw new Fault(404, 'The resource could not be found.', {}, 'NotFound');
  });
  installAuthentication(app, { validator, onUnauthorized: (m) => new Fault(401, m), serviceType: 'image' });
  versions(app);
  images(app, ctx);
  members(app, ctx);
  data(app, ctx);
  info(app, ctx);
  registerMetadefRoutes(app, {
    db: ctx.db, limitDefault: DEFAULT_LIMIT, limitMax: MAX_LIMIT,
    enforce: (rule, target, req) => ctx.enforce(ctx.callerOf(authOf(req)), rule, target),
  });
  return app;
}
