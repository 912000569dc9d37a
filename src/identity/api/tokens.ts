import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import type { TokenContext } from '../context.js';
import { TokenService } from '../auth/tokens.js';
import { buildCatalog } from '../catalog/build.js';
import { forbidden, notFound } from '../../platform/http/faults.js';
import { queryBool } from '../util.js';
import { tokenBody } from './token-body.js';

/** Subject-token policy target, as Keystone builds it. */
const subjectTarget = (t: TokenContext) => ({ target: { token: { user_id: t.userId } }, 'target.token.user_id': t.userId });

async function subject(id: Identity, req: FastifyRequest, allowExpired: boolean): Promise<TokenContext> {
  const raw = req.headers['x-subject-token'];
  if (typeof raw !== 'string' || raw === '') throw notFound('Could not find token: (no X-Subject-Token header).');
  try {
    return await id.tokens.validate(raw, { allowExpired });
  } catch {
    throw notFound(`Could not find token: ${raw.slice(0, 24)}.`);
  }
}

const catalogFor = (id: Identity, t: TokenContext) => buildCatalog(id, t.project?.id);

/** /v3/auth/tokens (issue, validate, check, revoke) and /v3/auth/catalog. */
export function register(app: FastifyInstance, id: Identity): void {
  const svc = () => id.tokens as TokenService;

  app.post('/v3/auth/tokens', async (req, reply) => {
    const ctx = await svc().issue(req.body);
    const q = req.query as Record<string, unknown>;
    const withCatalog = !queryBool(q.nocatalog) && (ctx.project || ctx.domain || ctx.system);
    id.notify('identity.authenticate', { outcome: 'success', user_id: ctx.userId });
    reply.status(201).header('x-subject-token', ctx.token);
    return tokenBody(ctx, withCatalog ? await catalogFor(id, ctx) : undefined);
  });

  app.get('/v3/auth/tokens', { exposeHeadRoute: false }, async (req) => {
    const caller = await id.caller(req);
    const q = req.query as Record<string, unknown>;
    const t = await subject(id, req, queryBool(q.allow_expired) === true);
    id.enforce(caller, 'identity:validate_token', subjectTarget(t));
    const withCatalog = !queryBool(q.nocatalog) && (t.project || t.domain || t.system);
    return tokenBody(t, withCatalog ? await catalogFor(id, t) : undefined);
  });

  app.head('/v3/auth/tokens', async (req, reply) => {
    const caller = await id.caller(req);
    const q = req.query as Record<string, unknown>;
    const t = await subject(id, req, queryBool(q.allow_expired) === true);
    id.enforce(caller, 'identity:check_token', subjectTarget(t));
    reply.status(200).send();
  });

  app.delete('/v3/auth/tokens', async (req, reply) => {
    const caller = await id.caller(req);
    const t = await subject(id, req, false);
    id.enforce(caller, 'identity:revoke_token', subjectTarget(t));
    await svc().revokeToken(t);
    reply.status(204).send();
  });

  app.get('/v3/auth/catalog', async (req) => {
    const caller = await id.caller(req);
    if (!caller.project && !caller.domain && !caller.system) throw forbidden('A catalog cannot be retrieved with an unscoped token.');
    return { catalog: await catalogFor(id, caller), links: { self: `${req.protocol}://${req.headers.host}/v3/auth/catalog`, previous: null, next: null } };
  });

  app.get('/v3/auth/tokens/OS-PKI/revoked', async (_req, reply) => {
    reply.status(410).send({ error: { code: 410, message: 'PKI tokens are not supported; the revocation list is gone as in Keystone.', title: 'Gone' } });
  });
}
