import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { deleteAccessRule, getAccessRule, listAccessRules, type AccessRule } from '../app-creds/access-rules.js';
import { applyFilters, baseUrl, listBody } from './listing.js';
import { refuseTrustToken } from './app-creds.js';

type Params = Record<string, string>;

const withLinks = (req: FastifyRequest, r: AccessRule) => ({ ...r, links: { self: `${baseUrl(req)}/v3/access_rules/${r.id}` } });

/** Routes of /v3/users/{user_id}/access_rules. */
export function register(app: FastifyInstance, id: Identity): void {
  /** Keystone's user target: the path's user as stored (policy compares `target.user.id`). */
  const userTarget = async (req: FastifyRequest) => {
    const { user_id: userId } = req.params as Params;
    const u = await id.db.selectFrom('user_account').select(['id', 'domain_id']).where('id', '=', userId).executeTakeFirst();
    return { user_id: userId, target: u ? { user: { id: u.id, domain_id: u.domain_id } } : {} };
  };

  app.get('/v3/users/:user_id/access_rules', async (req) => {
    const { user_id: userId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:list_access_rules', () => userTarget(req));
    refuseTrustToken(ctx);
    const rules = applyFilters(await listAccessRules(id, userId), req.query as Record<string, unknown>, ['service', 'path', 'method']);
    return listBody(req, 'access_rules', rules.map((r) => withLinks(req, r)));
  });

  app.get('/v3/users/:user_id/access_rules/:access_rule_id', async (req) => {
    const { user_id: userId, access_rule_id: ruleId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:get_access_rule', () => userTarget(req));
    refuseTrustToken(ctx);
    return { access_rule: withLinks(req, await getAccessRule(id, userId, ruleId)) };
  });

  app.delete('/v3/users/:user_id/access_rules/:access_rule_id', async (req, reply) => {
    const { user_id: userId, access_rule_id: ruleId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:delete_access_rule', () => userTarget(req));
    refuseTrustToken(ctx);
    await deleteAccessRule(id, userId, ruleId);
    reply.status(204);
  });
}
