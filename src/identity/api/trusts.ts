import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Fault, notFound } from '../../platform/http/faults.js';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import type { TrustRow } from '../store/schema.js';
import { bool, parseJsonObject } from '../util.js';
import { assignedRoleIds, expandImplied } from '../assignments/effective.js';
import { loadPrincipal } from '../auth/principals.js';
import { keystoneIsotime, parseExpiresAt } from '../app-creds/expires-at.js';
import { forbiddenAction } from '../credentials/delegation.js';
import { loadRoles, resolveRoleRefs, roleEntity, roleRefList } from '../trusts/role-refs.js';
import { TRUST_ATTRIBUTES, createTrust, deleteTrust, getTrust, listTrustRows, type Trust } from '../trusts/store.js';
import { baseUrl, listBody } from './listing.js';
import { boolField, invalid } from './validate.js';

type Params = Record<string, string>;

/** A trust as Keystone shows it (expires_at at seconds precision with `.000000Z`), with `links`. */
function trustEntity(req: FastifyRequest, row: TrustRow): Record<string, unknown> {
  return {
    ...parseJsonObject(row.extra),
    id: row.id, trustor_user_id: row.trustor_user_id, trustee_user_id: row.trustee_user_id, project_id: row.project_id,
    impersonation: bool(row.impersonation), deleted_at: row.deleted_at, expires_at: keystoneIsotime(row.expires_at),
    remaining_uses: row.remaining_uses, redelegated_trust_id: row.redelegated_trust_id, redelegation_count: row.redelegation_count,
    links: { self: `${baseUrl(req)}/v3/OS-TRUST/trusts/${row.id}` },
  };
}

/** The trust's role entities (each with its /v3/roles link) and Keystone's `roles_links`. */
async function trustRoles(req: FastifyRequest, id: Identity, t: Trust) {
  const roles = (await loadRoles(id, t.roleIds)).map((r) => ({ ...roleEntity(r), links: { self: `${baseUrl(req)}/v3/roles/${r.id}` } }));
  // Keystone builds this link without the OS-TRUST/trusts prefix; clients only display it.
  return { roles, roles_links: { self: `${baseUrl(req)}/v3/${t.row.id}/roles`, next: null, previous: null } };
}

/**
 * Application-credential tokens may not read or manage trusts (upstream Keystone's fix for
 * CVE-2026-43000; Zed only refused restricted ones, and only for create and delete).
 */
function refuseAppCred(ctx: TokenContext): void {
  if (ctx.appCred) throw forbiddenAction("Using method 'application_credential' is not allowed for managing trusts");
}

const EXTERNAL_ID = (o: Record<string, unknown>, f: string, required: boolean): string | undefined => {
  const v = o[f];
  if (v === undefined) {
    if (required) throw invalid(f, `'${f}' is a required property`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length < 1 || v.length > 64) throw invalid(f, `${JSON.stringify(v)} is not a valid id`);
  return v;
};

function intField(o: Record<string, unknown>, f: string, min: number): number | null | undefined {
  const v = o[f];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(f, `${JSON.stringify(v)} is not of type 'integer', 'null'`);
  if (v < min) throw invalid(f, `${v} is less than the minimum of ${min}`);
  return v;
}

/** POST /v3/OS-TRUST/trusts after policy: Keystone's validation and checks, in its order. */
async function create(req: FastifyRequest, id: Identity, ctx: TokenContext, t: Record<string, unknown>) {
  const trustorId = EXTERNAL_ID(t, 'trustor_user_id', true)!;
  const trusteeId = EXTERNAL_ID(t, 'trustee_user_id', true)!;
  const impersonation = boolField(t, 'impersonation', true)!;
  const projectId = t.project_id ?? null;
  if (projectId !== null && (typeof projectId !== 'string' || projectId.length < 1 || projectId.length > 64 || !/^[a-zA-Z0-9-]+$/.test(projectId))) {
    throw invalid('project_id', `${JSON.stringify(projectId)} is not a valid id`);
  }
  const remainingUses = intField(t, 'remaining_uses', 1) ?? null;
  const redelegationCount = intField(t, 'redelegation_count', 0);
  if (t.expires_at !== undefined && t.expires_at !== null && typeof t.expires_at !== 'string') {
    throw invalid('expires_at', `${JSON.stringify(t.expires_at)} is not of type 'null', 'string'`);
  }
  if (t.allow_redelegation !== undefined && t.allow_redelegation !== null && typeof t.allow_redelegation !== 'boolean') {
    throw invalid('allow_redelegation', `${JSON.stringify(t.allow_redelegation)} is not of type 'boolean', 'null'`);
  }
  const roleRefs = roleRefList(t) ?? [];
  refuseAppCred(ctx);
  if (projectId && roleRefs.length === 0) throw forbiddenAction('At least one role should be specified');
  if (ctx.userId !== trustorId) throw forbiddenAction('The authenticated user should match the trustor');
  if (!(await loadPrincipal(id, trusteeId))) throw notFound(`Could not find user: ${trusteeId}.`);
  const roleIds = await resolveRoleRefs(id, roleRefs);
  // The trustor must hold every delegated role on the project (domain-specific ones count too).
  let held = new Set<string>();
  if (projectId) {
    const p = await id.db.selectFrom('project').select('id').where('id', '=', projectId).executeTakeFirst();
    if (!p) throw notFound(`Could not find project: ${projectId}.`);
    held = new Set((await expandImplied(id, await assignedRoleIds(id, trustorId, { project: projectId }), false)).map((r) => r.id));
  }
  const missing = roleIds.find((r) => !held.has(r));
  if (missing) throw notFound(`Could not find role: ${missing}.`);
  const expiresAt = parseExpiresAt(t.expires_at);
  let parent: Trust | undefined;
  if (ctx.trust) parent = await getTrust(id, ctx.trust.id);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) if (!(TRUST_ATTRIBUTES as readonly string[]).includes(k)) extra[k] = v;
  const made = await createTrust(id, {
    trustorUserId: trustorId, trusteeUserId: trusteeId, projectId, impersonation, expiresAt, remainingUses,
    allowRedelegation: t.allow_redelegation === true, redelegationCount, roleIds, extra,
  }, parent);
  id.changed();
  return { ...trustEntity(req, made.row), ...(await trustRoles(req, id, made)) };
}

/** Routes of OS-TRUST: trusts and their roles. */
export function register(app: FastifyInstance, id: Identity): void {
  /** Keystone loads the trust before policy: a missing, deleted, expired or used-up trust is 404 for anyone. */
  const loadTarget = async (req: FastifyRequest) => {
    const { trust_id: trustId } = req.params as Params;
    const trust = await getTrust(id, trustId);
    return { trust, policy: { trust_id: trustId, target: { trust: trustEntity(req, trust.row) } } };
  };
  const guarded = async (req: FastifyRequest, rule: string) => {
    const ctx = await id.caller(req);
    const { trust, policy } = await loadTarget(req);
    id.enforce(ctx, rule, policy);
    refuseAppCred(ctx);
    return { ctx, trust };
  };

  app.post('/v3/OS-TRUST/trusts', async (req, reply) => {
    const ctx = await id.caller(req);
    const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>).trust : undefined;
    const t = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    // Only the trustor id reaches the policy target, never the raw body (upstream's CVE-2026-42999 fix).
    const trustor = { trustor_user_id: t.trustor_user_id };
    id.enforce(ctx, 'identity:create_trust', { trust: trustor, target: { trust: trustor } });
    const trust = await create(req, id, ctx, t);
    reply.status(201);
    return { trust };
  });

  app.get('/v3/OS-TRUST/trusts', async (req) => {
    const ctx = await id.caller(req);
    const q = req.query as Record<string, unknown>;
    const one = (k: string) => (Array.isArray(q[k]) ? String((q[k] as unknown[])[0]) : typeof q[k] === 'string' ? (q[k] as string) : undefined);
    const trustor = one('trustor_user_id');
    const trustee = one('trustee_user_id');
    if (trustor) id.enforce(ctx, 'identity:list_trusts_for_trustor', { target: { trust: { trustor_user_id: trustor } } });
    else if (trustee) id.enforce(ctx, 'identity:list_trusts_for_trustee', { target: { trust: { trustee_user_id: trustee } } });
    else id.enforce(ctx, 'identity:list_trusts', {});
    refuseAppCred(ctx);
    let rows: TrustRow[] = [];
    if (Object.keys(q).length === 0) rows = await listTrustRows(id);
    else if (trustor) rows = await listTrustRows(id, { trustor_user_id: trustor });
    else if (trustee) rows = await listTrustRows(id, { trustee_user_id: trustee });
    return listBody(req, 'trusts', rows.map((r) => trustEntity(req, r)));
  });

  app.get('/v3/OS-TRUST/trusts/:trust_id', async (req) => {
    const { trust } = await guarded(req, 'identity:get_trust');
    return { trust: { ...trustEntity(req, trust.row), ...(await trustRoles(req, id, trust)) } };
  });

  app.delete('/v3/OS-TRUST/trusts/:trust_id', async (req, reply) => {
    const { trust } = await guarded(req, 'identity:delete_trust');
    await deleteTrust(id, trust.row.id);
    id.changed();
    reply.status(204);
  });

  app.get('/v3/OS-TRUST/trusts/:trust_id/roles', async (req) => {
    const { trust } = await guarded(req, 'identity:list_roles_for_trust');
    const { roles, roles_links: links } = await trustRoles(req, id, trust);
    return { roles, links };
  });

  app.get('/v3/OS-TRUST/trusts/:trust_id/roles/:role_id', async (req) => {
    const { role_id: roleId } = req.params as Params;
    const { trust } = await guarded(req, 'identity:get_role_for_trust');
    const [role] = trust.roleIds.includes(roleId) ? await loadRoles(id, [roleId]) : [];
    if (!role) throw notFound(`Could not find role: ${roleId}.`);
    return { role: { ...roleEntity(role), links: { self: `${baseUrl(req)}/v3/roles/${role.id}` } } };
  });

  // Trusts are immutable: Keystone answers PATCH with 405.
  app.patch('/v3/OS-TRUST/trusts/:trust_id', async () => {
    throw new Fault(405, 'The method is not allowed for the requested URL.');
  });
}
