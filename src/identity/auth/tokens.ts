import type { Identity, TokenValidator } from '../identity.js';
import type { TokenContext } from '../context.js';
import type { RevocationEventRow } from '../store/schema.js';
import { TokenCodec, newAuditId, type TokenPayload, type OpenedToken } from '../tokens/index.js';
import { effectiveRoles, type RoleScope } from '../assignments/effective.js';
import { badRequest, forbidden, unauthorized, notFound } from '../../platform/http/faults.js';
import { bool, isoTime } from '../util.js';
import { loadPrincipal, loadScopeTarget, findDomainId } from './principals.js';
import { authenticatePassword, type ExternalPasswordCheck } from './password.js';
import { RevocationList } from './revocation.js';
import { verifyApplicationCredential, appCredRolesStillHeld } from '../app-creds/verify.js';
import { findAppCred } from '../app-creds/store.js';
import { getUsableTrust, consumeTrustUse } from '../trusts/usable.js';

/** The parsed `auth` request body, reduced to what issuing needs. */
interface AuthRequest {
  methods: string[];
  identity: Record<string, unknown>;
  scope: unknown;
}

/** Thrown when a token fails validation; the API maps it to 401 (caller) or 404 (subject). */
export class TokenInvalid extends Error {}

/**
 * Issues and validates tokens. Tokens are Fernet-encrypted payloads (no token table): validation
 * decrypts, checks expiry and revocation events, then re-derives the user, scope and roles from
 * the database (cached until the next identity write), so a disabled user or project, a removed
 * role assignment or a deleted trust invalidates tokens at once.
 */
export class TokenService implements TokenValidator {
  readonly revocations: RevocationList;
  #cache = new Map<string, { gen: number; ctx: TokenContext }>();
  /** LDAP-backed domains plug their password check in here. */
  externalPassword?: ExternalPasswordCheck;

  constructor(private readonly id: Identity, readonly codec: TokenCodec) {
    this.revocations = new RevocationList(id.db, id.config.identity.cache_ttl_ms);
  }

  async start(): Promise<void> { await this.revocations.load(); }

  /** POST /v3/auth/tokens: authenticates the request body and returns a new token and its context. */
  async issue(body: unknown): Promise<TokenContext> {
    const req = parseAuthBody(body);
    let userId: string | undefined;
    let methods: string[] = [...req.methods];
    let parent: TokenContext | undefined;
    let appCred: Awaited<ReturnType<typeof verifyApplicationCredential>> | undefined;
    for (const m of req.methods) {
      if (m === 'password') userId = await authenticatePassword(this.id, req.identity.password, this.externalPassword);
      else if (m === 'token') {
        const ref = req.identity.token as { id?: unknown } | undefined;
        if (!ref || typeof ref.id !== 'string') throw badRequest("Invalid input for field 'identity/token/id': not a string");
        // As Keystone: an invalid, expired or revoked token given as a method is "not found".
        try { parent = await this.validate(ref.id); } catch { throw notFound(`Could not find token: ${ref.id.slice(0, 24)}.`); }
        if (parent.trust) throw forbidden('Trust-scoped tokens cannot be used to obtain another token.');
        if (parent.appCred) throw forbidden('Application credential tokens cannot be rescoped.');
        userId = parent.userId;
        methods = [...new Set([...methods, ...parent.methods])];
      } else if (m === 'application_credential') {
        appCred = await verifyApplicationCredential(this.id, (req.identity.application_credential ?? {}) as never);
        userId = appCred.appCred.user_id;
      } else if (['totp', 'oauth1', 'mapped', 'external', 'saml2', 'openid', 'kerberos'].includes(m)) {
        throw unauthorized(`Authentication method '${m}' is not supported by Nephos.`);
      } else {
        throw unauthorized(`Attempted to authenticate with an unsupported method.`);
      }
    }
    if (!userId) throw unauthorized();
    const user = await loadPrincipal(this.id, userId);
    if (!user || !user.enabled || !user.domainEnabled) throw unauthorized();

    const ttl = this.id.config.identity.token_expiration * 1000;
    let expiresAt = parent ? parent.expiresAt : new Date(Date.now() + ttl);
    const auditIds = parent ? [newAuditId(), parent.auditIds[parent.auditIds.length - 1]] : [newAuditId()];
    let payload: TokenPayload;

    if (appCred) {
      if (req.scope !== undefined && req.scope !== 'unscoped') {
        const p = req.scope as { project?: { id?: string } };
        if (!p.project || p.project.id !== appCred.appCred.project_id) throw unauthorized('Application credentials cannot request a scope.');
      }
      if (appCred.appCred.expires_at && new Date(appCred.appCred.expires_at) < expiresAt) expiresAt = new Date(appCred.appCred.expires_at);
      payload = { kind: 'app_cred', userId, methods, projectId: appCred.appCred.project_id ?? undefined, appCredId: appCred.appCred.id, expiresAt, auditIds };
    } else {
      const scope = await this.resolveScope(req.scope, userId, parent);
      if ('trust' in scope) {
        const { trust } = await getUsableTrust(this.id, scope.trust, userId);
        await consumeTrustUse(this.id, trust.id);
        if (trust.expires_at && new Date(trust.expires_at) < expiresAt) expiresAt = new Date(trust.expires_at);
        const tokenUser = bool(trust.impersonation) ? trust.trustor_user_id : userId;
        payload = { kind: 'trust', userId: tokenUser, methods, projectId: trust.project_id ?? undefined, trustId: trust.id, expiresAt, auditIds };
      } else if ('project' in scope) payload = { kind: 'project', userId, methods, projectId: scope.project, expiresAt, auditIds };
      else if ('domain' in scope) payload = { kind: 'domain', userId, methods, domainId: scope.domain, expiresAt, auditIds };
      else if ('system' in scope) payload = { kind: 'system', userId, methods, system: 'all', expiresAt, auditIds };
      else payload = { kind: 'unscoped', userId, methods, expiresAt, auditIds };
    }
    const issuedAtMs = Date.now();
    const token = this.codec.issue({ ...payload, issuedAtMs });
    try {
      return await this.build(token, { ...payload, issuedAt: new Date(issuedAtMs), issuedAtMs }, true);
    } catch (e) {
      if (e instanceof TokenInvalid) throw unauthorized(e.message);
      throw e;
    }
  }

  /** Resolves the requested scope (or the user's default project) to a scope target id. */
  private async resolveScope(scope: unknown, userId: string, parent?: TokenContext): Promise<RoleScope | { trust: string } | Record<string, never>> {
    if (scope === 'unscoped') return {};
    if (scope === undefined || scope === null) {
      if (parent) return {};
      const u = await this.id.db.selectFrom('user_account').select('default_project_id').where('id', '=', userId).executeTakeFirst();
      if (u?.default_project_id) {
        const target = await loadScopeTarget(this.id, u.default_project_id);
        const roles = target && target.enabled ? await effectiveRoles(this.id, userId, { project: target.id }) : [];
        if (roles.length) return { project: target!.id };
      }
      return {};
    }
    if (typeof scope !== 'object' || Array.isArray(scope)) throw badRequest("Invalid input for field 'scope': not an object");
    const s = scope as Record<string, any>;
    const keys = Object.keys(s);
    if (keys.length !== 1) throw badRequest('Specify exactly one of project, domain, system or OS-TRUST:trust as the scope.');
    if (s.project) {
      const p = s.project;
      let projectId: string | undefined;
      if (typeof p.id === 'string') projectId = p.id;
      else if (typeof p.name === 'string') {
        if (!p.domain) throw badRequest('Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
        const domainId = await findDomainId(this.id, p.domain);
        const row = domainId ? await this.id.db.selectFrom('project').select('id').where('domain_id', '=', domainId).where('name', '=', p.name).executeTakeFirst() : undefined;
        projectId = row?.id;
      } else throw badRequest('Expecting to find id or name in project.');
      const target = projectId ? await loadScopeTarget(this.id, projectId) : undefined;
      if (!target) throw unauthorized(`Could not find project: ${p.id ?? p.name}.`);
      if (!target.enabled || !target.domainEnabled) throw unauthorized(`Project ${target.id} is disabled.`);
      if (target.isDomain) return { domain: target.id };
      return { project: target.id };
    }
    if (s.domain) {
      const domainId = await findDomainId(this.id, s.domain);
      if (!domainId) throw unauthorized(`Could not find domain: ${s.domain.id ?? s.domain.name}.`);
      const target = await loadScopeTarget(this.id, domainId);
      if (!target?.enabled) throw unauthorized(`Domain ${domainId} is disabled.`);
      return { domain: domainId };
    }
    if (s.system) {
      if (s.system.all !== true) throw badRequest("Invalid input for field 'scope/system/all': only {\"all\": true} is supported");
      return { system: 'all' };
    }
    if (s['OS-TRUST:trust']) {
      const t = s['OS-TRUST:trust'];
      if (typeof t.id !== 'string') throw badRequest("Invalid input for field 'scope/OS-TRUST:trust/id'");
      return { trust: t.id };
    }
    throw badRequest('Specify exactly one of project, domain, system or OS-TRUST:trust as the scope.');
  }

  /** Validates a token: its TokenContext, or TokenInvalid. */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenContext> {
    const now = Date.now();
    const hit = this.#cache.get(token);
    if (hit && hit.gen === this.id.generation) {
      if (hit.ctx.expiresAt.getTime() > now || (opts.allowExpired && this.withinExpiredWindow(hit.ctx.expiresAt, now))) return hit.ctx;
      throw new TokenInvalid('The token has expired.');
    }
    let p: OpenedToken;
    try { p = this.codec.open(token); } catch { throw new TokenInvalid('The token is malformed or was not issued by this cloud.'); }
    if (p.expiresAt.getTime() <= now && !(opts.allowExpired && this.withinExpiredWindow(p.expiresAt, now))) throw new TokenInvalid('The token has expired.');
    await this.revocations.refresh();
    const ctx = await this.build(token, p, false);
    if (this.#cache.size > 100_000) this.#cache.clear();
    this.#cache.set(token, { gen: this.id.generation, ctx });
    return ctx;
  }

  private withinExpiredWindow(expiresAt: Date, now: number): boolean {
    return now - expiresAt.getTime() < this.id.config.identity.allow_expired_window * 1000;
  }

  /** Re-derives a token's context from the database and checks it against revocation events. */
  private async build(token: string, p: OpenedToken, fresh: boolean): Promise<TokenContext> {
    const user = await loadPrincipal(this.id, p.userId);
    if (!user || !user.enabled || !user.domainEnabled) throw new TokenInvalid('The token\'s user is disabled or gone.');
    let project: TokenContext['project'];
    let domain: TokenContext['domain'];
    let roles: { id: string; name: string }[] = [];
    let trust: TokenContext['trust'];
    let appCred: TokenContext['appCred'];
    if (p.projectId) {
      const t = await loadScopeTarget(this.id, p.projectId);
      if (!t || !t.enabled || !t.domainEnabled) throw new TokenInvalid('The token\'s project is disabled or gone.');
      project = { id: t.id, name: t.name, domainId: t.domainId, domainName: t.domainName, isDomain: t.isDomain };
    }
    if (p.kind === 'trust' && p.trustId) {
      const { trust: row, roles: trustRoles } = await getUsableTrust(this.id, p.trustId, undefined).catch(() => { throw new TokenInvalid('The trust is gone.'); });
      trust = { id: row.id, trustorUserId: row.trustor_user_id, trusteeUserId: row.trustee_user_id, impersonation: bool(row.impersonation) };
      roles = trustRoles;
    } else if (p.kind === 'app_cred' && p.appCredId) {
      const ac = await findAppCred(this.id, p.appCredId);
      if (!ac) throw new TokenInvalid('The application credential is gone.');
      roles = await appCredRolesStillHeld(this.id, ac);
      appCred = { id: ac.row.id, name: ac.row.name, unrestricted: bool(ac.row.unrestricted), accessRules: ac.accessRules.length ? ac.accessRules : undefined };
    } else if (p.kind === 'project' && project) {
      roles = await effectiveRoles(this.id, p.userId, project.isDomain ? { domain: project.id } : { project: project.id });
    } else if (p.kind === 'domain' && p.domainId) {
      const t = await loadScopeTarget(this.id, p.domainId);
      if (!t || !t.enabled) throw new TokenInvalid('The token\'s domain is disabled or gone.');
      domain = { id: t.id, name: t.name };
      roles = await effectiveRoles(this.id, p.userId, { domain: t.id });
    } else if (p.kind === 'system') {
      roles = await effectiveRoles(this.id, p.userId, { system: 'all' });
    }
    const scoped = p.kind !== 'unscoped';
    if (scoped && roles.length === 0) {
      throw new TokenInvalid(fresh ? `User ${p.userId} has no access to ${p.projectId ? `project ${p.projectId}` : p.domainId ? `domain ${p.domainId}` : 'the system'}.` : 'The token no longer has any role.');
    }
    const issuedAtMs = p.issuedAtMs ?? p.issuedAt.getTime();
    if (!fresh && this.revocations.isRevoked({
      userId: p.userId, trustorUserId: trust?.trustorUserId, trusteeUserId: trust?.trusteeUserId, projectId: project?.id,
      domainIds: [user.domainId, project?.domainId, domain?.id].filter((x): x is string => !!x), roleIds: roles.map((r) => r.id),
      trustId: trust?.id, appCredId: appCred?.id, auditIds: p.auditIds, issuedAtMs,
    })) throw new TokenInvalid('The token has been revoked.');
    return {
      token, userId: user.id, userName: user.name, userDomainId: user.domainId, userDomainName: user.domainName,
      methods: p.methods, auditIds: p.auditIds, issuedAt: new Date(issuedAtMs), expiresAt: p.expiresAt,
      project, domain, system: p.kind === 'system' ? 'all' : undefined, roles, trust, appCred, passwordExpiresAt: user.passwordExpiresAt,
    };
  }

  /** Stores a revocation event; matching tokens fail validation from now on (this process at once). */
  async revoke(row: Partial<RevocationEventRow>): Promise<void> {
    await this.revocations.add({
      id: row.id!, domain_id: row.domain_id ?? null, project_id: row.project_id ?? null, user_id: row.user_id ?? null,
      role_id: row.role_id ?? null, trust_id: row.trust_id ?? null, consumer_id: row.consumer_id ?? null,
      access_token_id: row.access_token_id ?? null, audit_id: row.audit_id ?? null, audit_chain_id: row.audit_chain_id ?? null,
      expires_at: row.expires_at ?? null, issued_before: row.issued_before ?? isoTime(), revoked_at: row.revoked_at ?? isoTime(),
    });
    this.#cache.clear();
  }

  /** Revokes one token by its audit id (DELETE /v3/auth/tokens). */
  async revokeToken(ctx: TokenContext): Promise<void> {
    await this.id.revoke({ audit_id: ctx.auditIds[0] });
  }
}

function parseAuthBody(body: unknown): AuthRequest {
  const auth = (body as { auth?: unknown } | undefined)?.auth;
  if (!auth || typeof auth !== 'object' || Array.isArray(auth)) throw badRequest("Invalid input for field 'auth': None is not of type 'object'");
  const identity = (auth as { identity?: unknown }).identity;
  if (!identity || typeof identity !== 'object' || Array.isArray(identity)) throw badRequest("Invalid input for field 'auth/identity': 'identity' is a required property");
  const methods = (identity as { methods?: unknown }).methods;
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
    throw badRequest("Invalid input for field 'auth/identity/methods': must be a non-empty list of strings");
  }
  for (const m of methods) {
    if (!(m in (identity as Record<string, unknown>))) throw badRequest(`Invalid input for field 'auth/identity': '${m}' is a required property`);
  }
  return { methods: [...new Set(methods as string[])], identity: identity as Record<string, unknown>, scope: (auth as { scope?: unknown }).scope };
}
