import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../../platform/http/faults.js';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import { assignedRoleIds, expandImplied } from '../assignments/effective.js';
import { accessRuleList } from '../app-creds/access-rules.js';
import { parseExpiresAt } from '../app-creds/expires-at.js';
import { appCredEntity, createAppCred, deleteAppCred, findAppCred, getAppCred, listAppCreds } from '../app-creds/store.js';
import { generateAppCredSecret } from '../app-creds/verify.js';
import { assertNotRestrictedAppCred, forbiddenAction } from '../credentials/delegation.js';
import { resolveRoleRefs, roleRefList } from '../trusts/role-refs.js';
import { applyFilters, baseUrl, listBody } from './listing.js';
import { boolField, invalid, name as nameField } from './validate.js';

type Params = Record<string, string>;

const withLinks = (req: FastifyRequest, e: Record<string, unknown>) => ({ ...e, links: { self: `${baseUrl(req)}/v3/application_credentials/${e.id}` } });

/**
 * Trust-scoped tokens may not manage application credentials or access rules: a credential made
 * through a trust would outlive it (upstream Keystone's fix for bug 2150089).
 */
export function refuseTrustToken(ctx: TokenContext): void {
  if (ctx.trust) throw forbidden();
}

const unassignedRole = () => badRequest('Invalid application credential: Cannot create an application credential with unassigned role');

/** The role ids the new credential gets: the requested ones plus what they imply, or all the token's roles. */
async function chooseRoles(id: Identity, ctx: TokenContext, body: Record<string, unknown>): Promise<string[]> {
  const refs = roleRefList(body);
  const tokenRoles = new Set(ctx.roles.map((r) => r.id));
  if (!refs || refs.length === 0) return [...tokenRoles];
  const requested = await resolveRoleRefs(id, refs);
  // As Keystone since 2024.1: a requested role brings the roles it implies (a member credential can read).
  const implied = (await expandImplied(id, requested, true)).map((r) => r.id);
  const ids = [...new Set([...requested, ...implied])];
  if (!ids.every((r) => tokenRoles.has(r))) throw unassignedRole();
  return ids;
}

/** Validates Keystone's application credential create schema; returns the body object. */
function validateBody(raw: unknown): Record<string, unknown> {
  const b = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>).application_credential : undefined;
  if (b === undefined) throw invalid('name', "'name' is a required property");
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('application_credential', `${JSON.stringify(b)} is not of type 'object'`);
  const o = b as Record<string, unknown>;
  const n = o.name;
  if (n === undefined) throw invalid('name', "'name' is a required property");
  if (typeof n !== 'string' || n.length < 1 || n.length > 255 || !/\S/.test(n)) nameField(o, 'name');
  if (o.description !== undefined && o.description !== null && typeof o.description !== 'string') {
    throw invalid('description', `${JSON.stringify(o.description)} is not of type 'string', 'null'`);
  }
  for (const f of ['secret', 'expires_at']) {
    if (o[f] !== undefined && o[f] !== null && typeof o[f] !== 'string') throw invalid(f, `${JSON.stringify(o[f])} is not of type 'null', 'string'`);
  }
  boolField(o, 'unrestricted');
  roleRefList(o);
  accessRuleList(o);
  return o;
}

/** Routes of /v3/users/{user_id}/application_credentials. */
export function register(app: FastifyInstance, id: Identity): void {
  /** Keystone judges ownership by the credential's own user, not the path's (else anyone could name themselves). */
  const ownerTarget = async (req: FastifyRequest) => {
    const { user_id: userId, application_credential_id: acId } = req.params as Params;
    const ac = await findAppCred(id, acId);
    return { user_id: ac?.row.user_id ?? userId, application_credential_id: acId };
  };

  app.get('/v3/users/:user_id/application_credentials', async (req) => {
    const { user_id: userId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:list_application_credentials', { user_id: userId });
    refuseTrustToken(ctx);
    const items = await Promise.all((await listAppCreds(id, userId)).map((ac) => appCredEntity(id, ac)));
    return listBody(req, 'application_credentials', applyFilters(items, req.query as Record<string, unknown>, ['name']).map((e) => withLinks(req, e)));
  });

  app.post('/v3/users/:user_id/application_credentials', async (req, reply) => {
    const { user_id: userId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:create_application_credential', { user_id: userId });
    const body = validateBody(req.body);
    assertNotRestrictedAppCred(ctx, 'additional application credentials');
    if (ctx.userId !== userId) throw forbiddenAction('Cannot create an application credential for another user');
    refuseTrustToken(ctx);
    const secret = typeof body.secret === 'string' && body.secret !== '' ? body.secret : generateAppCredSecret();
    const projectId = ctx.project?.id ?? null;
    const roleIds = await chooseRoles(id, ctx, body);
    const expiresAt = parseExpiresAt(body.expires_at);
    if (projectId) {
      // Keystone re-checks the roles against the user's assignments, not only the token.
      const held = new Set((await expandImplied(id, await assignedRoleIds(id, userId, { project: projectId }), false)).map((r) => r.id));
      if (!roleIds.every((r) => held.has(r))) {
        const missing = roleIds.find((r) => !held.has(r));
        throw badRequest(`Invalid application credential: Could not find role assignment with role: ${missing}, user or group: ${userId}, project, domain, or system: ${projectId}.`);
      }
    }
    const ac = await createAppCred(id, {
      name: body.name as string, description: (body.description as string | null | undefined) ?? null, secret, userId, projectId, expiresAt,
      unrestricted: body.unrestricted === true, roleIds, accessRules: accessRuleList(body) ?? [],
    });
    reply.status(201);
    return { application_credential: withLinks(req, { ...(await appCredEntity(id, ac)), secret }) };
  });

  app.get('/v3/users/:user_id/application_credentials/:application_credential_id', async (req) => {
    const { application_credential_id: acId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:get_application_credential', () => ownerTarget(req));
    refuseTrustToken(ctx);
    return { application_credential: withLinks(req, await appCredEntity(id, await getAppCred(id, acId))) };
  });

  app.delete('/v3/users/:user_id/application_credentials/:application_credential_id', async (req, reply) => {
    const { application_credential_id: acId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:delete_application_credential', () => ownerTarget(req));
    assertNotRestrictedAppCred(ctx, 'additional application credentials');
    refuseTrustToken(ctx);
    await deleteAppCred(id, acId);
    // Tokens carry the credential id; a consumer_id event matches them (see the auth validator).
    await id.revoke({ consumer_id: acId });
    reply.status(204);
  });
}
