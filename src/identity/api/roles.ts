import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { badRequest } from '../../platform/http/faults.js';
import { NULL_DOMAIN } from '../store/schema.js';
import { applyFilters, baseUrl, listBody } from './listing.js';
import { parseRoleBody } from '../assignments/role-body.js';
import { createRole, deleteRole, updateRole } from '../assignments/role-store.js';
import { findRole, renderRole, requireRole, roleDomainId, roleNotFound, roleTarget } from '../assignments/refs.js';
import {
  createImpliedRole, deleteImpliedRole, directlyImplied, inferenceRole, listInferences, requireImpliedRole,
} from '../assignments/implied.js';
import { firstValue, filterValues, policyTarget } from '../assignments/policy-target.js';

type Params = { role_id: string; implied_role_id: string };

/** Routes of /v3/roles (global and domain-specific roles, implied roles) and /v3/role_inferences. */
export function register(app: FastifyInstance, id: Identity): void {
  const v3 = (req: FastifyRequest) => `${baseUrl(req)}/v3`;

  /** Enforces `rule` (or its domain-role twin) for an existing role, or `rule` then 404 for a missing one. */
  const enforceOnRole = async (req: FastifyRequest, rule: string, domainRule: string, roleId: string) => {
    const ctx = await id.caller(req);
    const role = await findRole(id, roleId);
    if (!role || roleDomainId(role) === null) {
      id.enforce(ctx, rule, policyTarget(role ? { role: roleTarget(role) } : undefined, { role_id: roleId }));
      if (!role) throw roleNotFound(roleId);
    } else {
      id.enforce(ctx, domainRule, policyTarget({ role: roleTarget(role) }, { role_id: roleId }));
    }
    return role;
  };

  app.get('/v3/roles', async (req) => {
    const query = req.query as Record<string, unknown>;
    const domainFilter = firstValue(query.domain_id);
    const ctx = await id.caller(req);
    id.enforce(ctx, domainFilter ? 'identity:list_domain_roles' : 'identity:list_roles', policyTarget(undefined, {}, filterValues(query, ['name', 'domain_id'])));
    const rows = await id.db.selectFrom('role').selectAll().where('domain_id', '=', domainFilter || NULL_DOMAIN).execute();
    let roles = applyFilters(rows.map((r) => renderRole(r, v3(req))), query, ['name']);
    const limit = id.config.identity.list_limit;
    const truncated = limit > 0 && roles.length > limit;
    if (truncated) roles = roles.slice(0, limit);
    return listBody(req, 'roles', roles, truncated);
  });

  app.post('/v3/roles', async (req, reply) => {
    const ctx = await id.caller(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const raw = body.role;
    const isDomainRole = !!(raw && typeof raw === 'object' && (raw as Record<string, unknown>).domain_id);
    id.enforce(ctx, isDomainRole ? 'identity:create_domain_role' : 'identity:create_role', policyTarget(undefined, body));
    const row = await createRole(id, parseRoleBody(raw ?? {}, true));
    id.notify('identity.role.created', { resource_info: row.id });
    return reply.status(201).send({ role: renderRole(row, v3(req)) });
  });

  app.get<{ Params: Params }>('/v3/roles/:role_id', async (req) => {
    const role = await enforceOnRole(req, 'identity:get_role', 'identity:get_domain_role', req.params.role_id);
    return { role: renderRole(role!, v3(req)) };
  });

  app.patch<{ Params: Params }>('/v3/roles/:role_id', async (req) => {
    await enforceOnRole(req, 'identity:update_role', 'identity:update_domain_role', req.params.role_id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const input = parseRoleBody(body.role ?? {}, false);
    if (input.id !== undefined && input.id !== req.params.role_id) throw badRequest('Cannot change ID');
    const row = await updateRole(id, req.params.role_id, input);
    id.notify('identity.role.updated', { resource_info: row.id });
    return { role: renderRole(row, v3(req)) };
  });

  app.delete<{ Params: Params }>('/v3/roles/:role_id', async (req, reply) => {
    await enforceOnRole(req, 'identity:delete_role', 'identity:delete_domain_role', req.params.role_id);
    await deleteRole(id, req.params.role_id);
    id.notify('identity.role.deleted', { resource_info: req.params.role_id });
    return reply.status(204).send();
  });

  /** Keystone looks both roles up (404) before enforcing implied-role rules on them. */
  const enforceImplied = async (req: FastifyRequest<{ Params: Partial<Params> }>, rule: string) => {
    const ctx = await id.caller(req);
    const { role_id: priorId, implied_role_id: impliedId } = req.params;
    const target: Record<string, unknown> = { prior_role: roleTarget(await requireRole(id, priorId!)) };
    if (impliedId) target.implied_role = roleTarget(await requireRole(id, impliedId));
    id.enforce(ctx, rule, policyTarget(target, { prior_role_id: priorId, ...(impliedId ? { implied_role_id: impliedId } : {}) }));
    return ctx;
  };

  const inferenceBody = async (req: FastifyRequest, priorId: string, impliedId: string) => {
    await requireImpliedRole(id, priorId, impliedId);
    const prior = await requireRole(id, priorId);
    const implied = await requireRole(id, impliedId);
    return {
      role_inference: { prior_role: inferenceRole(prior, v3(req)), implies: inferenceRole(implied, v3(req)) },
      links: { self: `${v3(req)}/roles/${priorId}/implies/${impliedId}` },
    };
  };

  app.get<{ Params: Params }>('/v3/roles/:role_id/implies', async (req) => {
    await enforceImplied(req, 'identity:list_implied_roles');
    const prior = await requireRole(id, req.params.role_id);
    const implies = (await directlyImplied(id, prior.id)).map((r) => inferenceRole(r, v3(req)));
    return {
      role_inference: { prior_role: inferenceRole(prior, v3(req)), implies },
      links: { self: `${v3(req)}/roles/${prior.id}/implies` },
    };
  });

  // Declared before the GET route so that Fastify does not derive its own HEAD (200) from it.
  app.head<{ Params: Params }>('/v3/roles/:role_id/implies/:implied_role_id', async (req, reply) => {
    await enforceImplied(req, 'identity:check_implied_role');
    await enforceImplied(req, 'identity:get_implied_role');
    await requireImpliedRole(id, req.params.role_id, req.params.implied_role_id);
    return reply.status(204).send();
  });

  app.get<{ Params: Params }>('/v3/roles/:role_id/implies/:implied_role_id', async (req) => {
    await enforceImplied(req, 'identity:get_implied_role');
    return inferenceBody(req, req.params.role_id, req.params.implied_role_id);
  });

  app.put<{ Params: Params }>('/v3/roles/:role_id/implies/:implied_role_id', async (req, reply) => {
    await enforceImplied(req, 'identity:create_implied_role');
    await createImpliedRole(id, req.params.role_id, req.params.implied_role_id);
    return reply.status(201).send(await inferenceBody(req, req.params.role_id, req.params.implied_role_id));
  });

  app.delete<{ Params: Params }>('/v3/roles/:role_id/implies/:implied_role_id', async (req, reply) => {
    await enforceImplied(req, 'identity:delete_implied_role');
    await deleteImpliedRole(id, req.params.role_id, req.params.implied_role_id);
    return reply.status(204).send();
  });

  app.get('/v3/role_inferences', async (req) => {
    await id.authorize(req, 'identity:list_role_inference_rules', {});
    return { role_inferences: await listInferences(id, v3(req)) };
  });
}
