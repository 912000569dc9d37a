import type { AccessRule, CatalogService, ValidatedToken } from './request-context.js';
import { InvalidTokenError } from './errors.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function need(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new InvalidTokenError(`Invalid token data: no ${what}`);
  return v;
}

/** Keystone times ("2024-05-01T10:00:00.000000Z"); a time without a zone is UTC. */
export function parseKeystoneTime(v: unknown): Date | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(v);
  const d = new Date(hasZone ? v : `${v}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function catalogOf(v: unknown): CatalogService[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter(isObject).map((s) => ({
    ...(str(s.id) ? { id: str(s.id) } : {}),
    type: str(s.type) ?? '',
    name: str(s.name) ?? '',
    endpoints: (Array.isArray(s.endpoints) ? s.endpoints : []).filter(isObject).map((e) => ({
      ...(str(e.id) ? { id: str(e.id) } : {}),
      interface: str(e.interface) ?? '',
      region: str(e.region) ?? null,
      region_id: str(e.region_id) ?? null,
      url: str(e.url) ?? '',
    })),
  }));
}

function accessRulesOf(v: unknown): AccessRule[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter(isObject).map((r) => ({
    service: str(r.service) ?? '', method: str(r.method) ?? '', path: str(r.path) ?? '',
    ...(str(r.id) ? { id: str(r.id) } : {}),
  }));
}

/**
 * Reads the body identity returns for `GET /v3/auth/tokens` (`{"token": {...}}`) into what the
 * token proves. A body that does not describe a usable token is an `InvalidTokenError`, as in
 * keystonemiddleware ("Invalid token contents").
 */
export function parseTokenBody(body: unknown, token: string): ValidatedToken {
  const t = isObject(body) && isObject(body.token) ? body.token : undefined;
  if (!t) throw new InvalidTokenError('Invalid token data: no token');
  const user = isObject(t.user) ? t.user : {};
  const userDomain = isObject(user.domain) ? user.domain : {};
  const expiresAt = parseKeystoneTime(t.expires_at);
  if (!expiresAt) throw new InvalidTokenError('Invalid token data: no expires_at');
  const issuedAt = parseKeystoneTime(t.issued_at);

  const project = isObject(t.project) ? t.project : undefined;
  const projectDomain = project && isObject(project.domain) ? project.domain : {};
  const domain = isObject(t.domain) ? t.domain : undefined;
  const system = isObject(t.system) && t.system.all === true ? 'all' as const : undefined;
  const roles = (Array.isArray(t.roles) ? t.roles : []).filter(isObject);
  const roleNames = roles.map((r) => (str(r.name) ?? '').toLowerCase());
  const trust = isObject(t['OS-TRUST:trust']) ? t['OS-TRUST:trust'] : undefined;
  const appCred = isObject(t.application_credential) ? t.application_credential : undefined;
  const accessRules = appCred ? accessRulesOf(appCred.access_rules) : undefined;
  const serviceCatalog = catalogOf(t.catalog);

  return {
    token,
    userId: need(user.id, 'user id'),
    userName: str(user.name) ?? '',
    userDomainId: str(userDomain.id) ?? '',
    userDomainName: str(userDomain.name) ?? '',
    ...(project ? {
      projectId: need(project.id, 'project id'),
      projectName: str(project.name) ?? '',
      projectDomainId: str(projectDomain.id) ?? '',
      projectDomainName: str(projectDomain.name) ?? '',
    } : {}),
    ...(domain ? { domainId: need(domain.id, 'domain id'), domainName: str(domain.name) ?? '' } : {}),
    ...(system ? { systemScope: system } : {}),
    roles: roleNames,
    roleIds: roles.map((r) => str(r.id) ?? ''),
    isAdmin: roleNames.includes('admin'),
    isAdminProject: typeof t.is_admin_project === 'boolean' ? t.is_admin_project : true,
    expiresAt,
    ...(issuedAt ? { issuedAt } : {}),
    auditIds: (Array.isArray(t.audit_ids) ? t.audit_ids : []).filter((a): a is string => typeof a === 'string'),
    methods: (Array.isArray(t.methods) ? t.methods : []).filter((m): m is string => typeof m === 'string'),
    ...(serviceCatalog ? { serviceCatalog } : {}),
    ...(appCred && str(appCred.id) ? { appCredId: str(appCred.id) } : {}),
    ...(accessRules ? { accessRules } : {}),
    ...(trust && str(trust.id) ? { trustId: str(trust.id) } : {}),
  };
}
