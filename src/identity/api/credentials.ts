import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound, notImplemented, unauthorized } from '../../platform/http/faults.js';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import { loadPrincipal } from '../auth/principals.js';
import { newId } from '../util.js';
import { applyFilters, baseUrl, listBody } from './listing.js';
import { invalid } from './validate.js';
import { pythonJsonDumps } from '../credentials/python-json.js';
import {
  CREDENTIAL_COLUMNS, createCredential, credentialEntity, deleteCredential, findCredentialRow, getCredentialRow,
  listCredentialRows, updateCredential, type CredentialEntity,
} from '../credentials/store.js';
import { EC2, createEc2Credential, ec2CredentialId, ec2FromRow, ec2View, parseEc2Blob, type Ec2Credential } from '../credentials/ec2.js';
import { allowed, assertDelegationScope, assertNotRestrictedAppCred, inDelegationScope } from '../credentials/delegation.js';

type Params = Record<string, string>;

const withLinks = (req: FastifyRequest, c: CredentialEntity) => ({ ...c, links: { self: `${baseUrl(req)}/v3/credentials/${c.id}` } });

const ec2Links = (req: FastifyRequest, c: Ec2Credential) => ({
  ...ec2View(c), links: { self: `${baseUrl(req)}/v3/users/${c.user_id}/credentials/OS-EC2/${c.access}` },
});

/** The request's `credential` object ({} when absent, as Keystone enforces policy before validating). */
function credentialBody(body: unknown): Record<string, unknown> {
  const c = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).credential : undefined;
  return c && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>) : {};
}

/** Keystone's credential schema: the known attributes are strings (project_id may also be null). */
function checkTypes(c: Record<string, unknown>): void {
  for (const f of ['blob', 'type', 'user_id']) {
    if (c[f] !== undefined && typeof c[f] !== 'string') throw invalid(f, `${JSON.stringify(c[f])} is not of type 'string'`);
  }
  if (c.project_id !== undefined && c.project_id !== null && typeof c.project_id !== 'string') {
    throw invalid('project_id', `${JSON.stringify(c.project_id)} is not of type 'string', 'null'`);
  }
  // The columns' widths (Keystone's too): longer values would be a database error, not a 400.
  for (const [f, max] of [['user_id', 64], ['project_id', 64], ['type', 255]] as const) {
    const v = c[f];
    if (typeof v === 'string' && v.length > max) throw invalid(f, `'${v.slice(0, 40)}…' is too long`);
  }
}

function extraOf(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (!(CREDENTIAL_COLUMNS as readonly string[]).includes(k) && k !== 'links') out[k] = v;
  return out;
}

/** Creates a credential the way POST /v3/credentials does after policy. */
async function create(id: Identity, ctx: TokenContext, c: Record<string, unknown>): Promise<CredentialEntity> {
  checkTypes(c);
  for (const f of ['blob', 'type', 'user_id']) if (c[f] === undefined) throw invalid(f, `'${f}' is a required property`);
  const type = c.type as string;
  const isEc2 = type.toLowerCase() === EC2;
  if (isEc2 && (c.project_id === undefined || c.project_id === null)) throw invalid('project_id', "'project_id' is a required property");
  const projectId = (c.project_id as string | null | undefined) ?? null;
  if (isEc2) assertNotRestrictedAppCred(ctx, 'additional credentials');
  assertDelegationScope(ctx, projectId);
  let credId = newId();
  let blob = c.blob as string;
  if (isEc2) {
    const parsed = parseEc2Blob(blob);
    credId = ec2CredentialId(String(parsed.access));
    // A key made under a trust or application credential yields tokens of that same delegation.
    const bind: Record<string, unknown> = {};
    if (ctx.trust) bind.trust_id = ctx.trust.id;
    if (ctx.appCred) bind.app_cred_id = ctx.appCred.id;
    if (Object.keys(bind).length) blob = pythonJsonDumps({ ...parsed, ...bind });
  }
  return createCredential(id, { id: credId, user_id: c.user_id as string, project_id: projectId, type, blob, extra: extraOf(c) });
}

/** Routes of /v3/credentials, the OS-EC2 user credentials, and /v3/ec2tokens. */
export function register(app: FastifyInstance, id: Identity): void {
  const target = async (credentialId: string) => {
    const row = await findCredentialRow(id, credentialId);
    return { credential_id: credentialId, target: row ? { credential: credentialEntity(id, row) } : {} };
  };

  app.get('/v3/credentials', async (req) => {
    const ctx = await id.caller(req);
    id.enforce(ctx, 'identity:list_credentials', ctx.system ? {} : { target: { credential: { user_id: ctx.userId } } });
    const q = req.query as Record<string, unknown>;
    const exact = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
    const rows = await listCredentialRows(id, { user_id: exact('user_id'), type: exact('type') });
    const visible = rows.map((r) => credentialEntity(id, r))
      .filter((c) => allowed(id, ctx, 'identity:get_credential', { target: { credential: c } }) && inDelegationScope(ctx, c.project_id));
    return listBody(req, 'credentials', applyFilters(visible, q, ['user_id', 'type']).map((c) => withLinks(req, c)));
  });

  app.post('/v3/credentials', async (req, reply) => {
    const ctx = await id.caller(req);
    const c = credentialBody(req.body);
    id.enforce(ctx, 'identity:create_credential', { target: { credential: c } });
    const made = await create(id, ctx, c);
    reply.status(201);
    return { credential: withLinks(req, made) };
  });

  app.get('/v3/credentials/:credential_id', async (req) => {
    const { credential_id: credId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:get_credential', () => target(credId));
    const row = await getCredentialRow(id, credId);
    assertDelegationScope(ctx, row.project_id);
    return { credential: withLinks(req, credentialEntity(id, row)) };
  });

  app.patch('/v3/credentials/:credential_id', async (req) => {
    const { credential_id: credId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:update_credential', () => target(credId));
    const row = await getCredentialRow(id, credId);
    assertDelegationScope(ctx, row.project_id);
    const body = req.body as Record<string, unknown> | undefined;
    const changes = body && typeof body === 'object' ? body.credential : undefined;
    if (!changes || typeof changes !== 'object' || Array.isArray(changes)) throw invalid('credential', `${JSON.stringify(changes ?? null)} is not of type 'object'`);
    const ch = changes as Record<string, unknown>;
    if (Object.keys(ch).length === 0) throw invalid('credential', '{} does not have enough properties');
    checkTypes(ch);
    const current = credentialEntity(id, row);
    if (row.type.toLowerCase() === EC2 && ch.blob !== undefined) {
      const next = parseEc2Blob(ch.blob);
      let old: Record<string, unknown> = {};
      try { old = JSON.parse(current.blob) as Record<string, unknown>; } catch { /* a damaged old blob binds nothing */ }
      for (const k of ['trust_id', 'app_cred_id', 'access_token_id', 'access_id']) {
        if ((old[k] ?? null) !== (next[k] ?? null)) throw badRequest(`${k} can not be updated for credential`);
      }
    }
    if (ch.id !== undefined && ch.id !== credId) throw badRequest('Cannot change ID');
    id.enforce(ctx, 'identity:update_credential', { credential_id: credId, target: { credential: { ...current, ...ch } } });
    if (typeof ch.type === 'string' && ch.type.toLowerCase() === EC2 && !ch.project_id && !row.project_id) {
      throw badRequest('Expecting to find project_id in credential. The server could not comply with the request since it is '
        + 'either malformed or otherwise incorrect. The client is assumed to be in error.');
    }
    if (ch.project_id !== undefined) assertDelegationScope(ctx, ch.project_id as string | null);
    return { credential: withLinks(req, await updateCredential(id, row, ch)) };
  });

  app.delete('/v3/credentials/:credential_id', async (req, reply) => {
    const { credential_id: credId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:delete_credential', () => target(credId));
    const row = await getCredentialRow(id, credId);
    assertDelegationScope(ctx, row.project_id);
    await deleteCredential(id, credId);
    reply.status(204);
  });

  registerEc2(app, id);
}

/** GET/POST /v3/users/{user_id}/credentials/OS-EC2 and GET/DELETE …/{access}, plus /v3/ec2tokens. */
function registerEc2(app: FastifyInstance, id: Identity): void {
  const requireUser = async (userId: string) => {
    if (!(await loadPrincipal(id, userId))) throw notFound(`Could not find user: ${userId}.`);
  };
  /** Keystone looks the credential up before policy: an unknown access key is 404 for anyone. */
  const ec2Target = async (userId: string, access: string) => {
    const row = await getCredentialRow(id, ec2CredentialId(access));
    return { row, policy: { user_id: userId, credential_id: access, target: { credential: credentialEntity(id, row) } } };
  };
  const asEc2 = (row: Parameters<typeof ec2FromRow>[1]) => {
    const c = ec2FromRow(id, row);
    if (!c) throw unauthorized();
    return c;
  };

  app.get('/v3/users/:user_id/credentials/OS-EC2', async (req) => {
    const { user_id: userId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:ec2_list_credentials', { user_id: userId });
    await requireUser(userId);
    const rows = await listCredentialRows(id, { user_id: userId, type: EC2 });
    const creds = rows.flatMap((r) => ec2FromRow(id, r) ?? []).filter((c) => inDelegationScope(ctx, c.project_id));
    return listBody(req, 'credentials', creds.map((c) => ec2Links(req, c)));
  });

  app.post('/v3/users/:user_id/credentials/OS-EC2', async (req, reply) => {
    const { user_id: userId } = req.params as Params;
    const ctx = await id.authorize(req, 'identity:ec2_create_credential', { user_id: userId, target: { credential: { user_id: userId } } });
    assertNotRestrictedAppCred(ctx, 'additional credentials');
    await requireUser(userId);
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const tenantId = typeof body.tenant_id === 'string' ? body.tenant_id : null;
    const project = tenantId ? await id.db.selectFrom('project').select('id').where('id', '=', tenantId).executeTakeFirst() : undefined;
    if (!project || !tenantId) throw notFound(`Could not find project: ${tenantId ?? 'None'}.`);
    assertDelegationScope(ctx, tenantId, 'EC2 credential');
    const c = await createEc2Credential(id, userId, tenantId, ctx.trust?.id ?? null);
    reply.status(201);
    return { credential: ec2Links(req, c) };
  });

  app.get('/v3/users/:user_id/credentials/OS-EC2/:access', async (req) => {
    const { user_id: userId, access } = req.params as Params;
    const ctx = await id.caller(req);
    const { row, policy } = await ec2Target(userId, access);
    id.enforce(ctx, 'identity:ec2_get_credential', policy);
    await requireUser(userId);
    const c = asEc2(row);
    assertDelegationScope(ctx, c.project_id, 'EC2 credential');
    return { credential: ec2Links(req, c) };
  });

  app.delete('/v3/users/:user_id/credentials/OS-EC2/:access', async (req, reply) => {
    const { user_id: userId, access } = req.params as Params;
    const ctx = await id.caller(req);
    const { row, policy } = await ec2Target(userId, access);
    id.enforce(ctx, 'identity:ec2_delete_credential', policy);
    await requireUser(userId);
    const c = asEc2(row);
    assertDelegationScope(ctx, c.project_id, 'EC2 credential');
    await deleteCredential(id, row.id);
    reply.status(204);
  });

  // EC2 request-signature authentication (Signature v2/v4 → token) is not built yet; say so plainly.
  app.post('/v3/ec2tokens', async () => {
    throw notImplemented('EC2 token authentication (POST /v3/ec2tokens) is not implemented by Nephos yet.');
  });
}
