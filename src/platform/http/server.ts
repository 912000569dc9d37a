import Fastify, { LogController, type FastifyInstance, type FastifyError, type FastifyBaseLogger, type FastifyRequest, type FastifyReply } from 'fastify';

/**
 * One compact log line per request (method, path, status, time) instead of Fastify's two lines
 * with full request/response objects: request logging stays on at `info` at a fraction of the cost.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request');
  }
}
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Fault, badRequest, type FaultRenderer } from './faults.js';

/** Options of an API server: its name (for logs), fault dialect and body limit. */
export interface ApiServerOptions {
  readonly service: string;
  readonly logger: Logger;
  readonly bodyLimit: number;
  readonly renderFault: FaultRenderer;
  /** Extra response headers carrying the request id (e.g. Nova's x-compute-request-id). */
  readonly requestIdHeaders?: readonly string[];
}

/**
 * A Fastify server with the conventions every Nephos API shares: a request id on every response
 * and log line (one line per request, labelled `request_id`), JSON parsing whose failures are 400 faults, and one error handler that renders
 * every failure in the API's own fault dialect — never a bare 500 for bad input.
 */
export function createApiServer(opts: ApiServerOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: (opts.logger.bindings().service ? opts.logger : opts.logger.child({ service: opts.service })) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    genReqId: () => `req-${randomUUID()}`,
    logController: new RequestLog({ requestIdLogLabel: 'request_id' }),
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1024 },
    return503OnClosing: true,
    forceCloseConnections: true,
    // The router's own refusals (a URL that does not decode, a path parameter over maxParamLength)
    // in the API's fault dialect too, not Fastify's `{"error", "code", "message", "statusCode"}`.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const fault = toFault(err);
      reply.status(fault.status).type('application/json').send(opts.renderFault(fault));
    },
  });
  const idHeaders = ['x-openstack-request-id', ...(opts.requestIdHeaders ?? [])];
  // Every route, for generated tests that walk the whole API.
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: String(m), url: r.url });
  });
  routeTables.set(app, routes);

  app.addHook('onRequest', async (req, reply) => {
    for (const h of idHeaders) reply.header(h, req.id);
  });

  // JSON bodies: an empty body is "no body"; malformed JSON is a 400 in the API's dialect.
  app.removeAllContentTypeParsers();
  const parseJson = (_req: unknown, body: string, done: (err: Error | null, v?: unknown) => void) => {
    if (body.trim() === '') return done(null, undefined);
    try { done(null, JSON.parse(body)); } catch (e) { done(badRequest(`Malformed request body: ${(e as Error).message}`)); }
  };
  // Every body is read as JSON whatever its content type (clients often omit or garble it, and the
  // Python services accept that too); an API with binary uploads registers its own parser for them.
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJson);

  app.setErrorHandler((err: FastifyError | Fault, req, reply) => {
    const fault = toFault(err);
    if (fault.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ err: fault.message }, 'request refused');
    for (const [k, v] of Object.entries(fault.headers)) reply.header(k, v);
    reply.status(fault.status).type('application/json').send(opts.renderFault(fault));
  });
  app.setNotFoundHandler((req, reply) => {
    const fault = new Fault(404, `The resource could not be found.`);
    reply.status(404).type('application/json').send(opts.renderFault(fault));
  });
  return app;
}

/** A registered route. */
export interface RouteInfo { readonly method: string; readonly url: string }
const routeTables = new WeakMap<FastifyInstance, RouteInfo[]>();
/** The routes an API server registered (after `ready()`), e.g. to walk them with hostile input. */
export const routesOf = (app: FastifyInstance): readonly RouteInfo[] => routeTables.get(app) ?? [];

/** Maps framework errors onto faults; anything unknown is a 500 whose detail stays in the log. */
export function toFault(err: unknown): Fault {
  if (err instanceof Fault) return err;
  const e = err as FastifyError;
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new Fault(413, 'Request Entity Too Large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new Fault(415, 'Unsupported Media Type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return badRequest('Request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return badRequest('Invalid Content-Length');
    case 'FST_ERR_BAD_URL': case 'FST_ERR_ASYNC_CONSTRAINT': return badRequest('Malformed request URL');
    // A path parameter longer than any id or name: nothing has it.
    case 'FST_ERR_MAX_PARAM_LENGTH': return new Fault(404, 'The resource could not be found.');
    default: break;
  }
  if (e?.validation) return badRequest(e.message);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new Fault(e.statusCode, e.message);
  return new Fault(500, 'An unexpected error prevented the server from fulfilling your request.');
}
