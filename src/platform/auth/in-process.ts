import type { TokenContext } from '../../identity/context.js';
import type { ServiceCatalog, ValidatedToken } from './request-context.js';
import type { TokenValidator } from './validator.js';
import { InvalidTokenError, IdentityUnavailableError } from './errors.js';
import { Fault } from '../http/faults.js';

/** What the identity service's token service offers in-process. */
export interface TokenContextSource {
  validate(token: string): Promise<TokenContext>;
}

/** Options of the in-process validator. */
export interface InProcessValidatorOptions {
  /** Public identity URL, for `WWW-Authenticate`. */
  readonly identityUri?: string;
  /** The token's catalog (only asked for scoped tokens); without it `serviceCatalog` is absent. */
  readonly catalog?: (t: TokenContext) => Promise<ServiceCatalog>;
  /**
   * Which rejections of `source.validate` mean "bad token" (401, cached briefly); the rest mean
   * identity is broken (503, not cached). Default: the identity's `TokenInvalid` (matched by
   * name, so the platform does not load the identity service) and 401/404 faults.
   */
  readonly isInvalid?: (err: unknown) => boolean;
}

const defaultIsInvalid = (err: unknown): boolean =>
  (err instanceof Error && err.constructor.name === 'TokenInvalid') ||
  (err instanceof Fault && (err.status === 401 || err.status === 404));

/** What a token proves, from the identity service's own TokenContext. */
export function fromTokenContext(t: TokenContext, serviceCatalog?: ServiceCatalog): ValidatedToken {
  const roles = t.roles.map((r) => r.name.toLowerCase());
  return {
    token: t.token,
    userId: t.userId,
    userName: t.userName,
    userDomainId: t.userDomainId,
    userDomainName: t.userDomainName,
    ...(t.project ? {
      projectId: t.project.id, projectName: t.project.name,
      projectDomainId: t.project.domainId, projectDomainName: t.project.domainName,
    } : {}),
    ...(t.domain ? { domainId: t.domain.id, domainName: t.domain.name } : {}),
    ...(t.system ? { systemScope: t.system } : {}),
    roles,
    roleIds: t.roles.map((r) => r.id),
    isAdmin: roles.includes('admin'),
    isAdminProject: true,
    expiresAt: t.expiresAt,
    issuedAt: t.issuedAt,
    auditIds: [...t.auditIds],
    methods: [...t.methods],
    ...(serviceCatalog ? { serviceCatalog } : {}),
    ...(t.appCred ? { appCredId: t.appCred.id } : {}),
    ...(t.appCred?.accessRules ? { accessRules: t.appCred.accessRules.map((r) => ({ ...r })) } : {}),
    ...(t.trust ? { trustId: t.trust.id } : {}),
  };
}

/** Validates tokens by calling the identity service in the same process (the all-in-one): no HTTP hop. */
export class InProcessTokenValidator implements TokenValidator {
  readonly identityUri?: string;
  readonly #isInvalid: (err: unknown) => boolean;

  constructor(private readonly source: TokenContextSource, private readonly opts: InProcessValidatorOptions = {}) {
    this.identityUri = opts.identityUri;
    this.#isInvalid = opts.isInvalid ?? defaultIsInvalid;
  }

  async validate(token: string): Promise<ValidatedToken> {
    let t: TokenContext;
    try {
      t = await this.source.validate(token);
    } catch (err) {
      if (this.#isInvalid(err)) throw new InvalidTokenError(err instanceof Error ? err.message : undefined);
      throw new IdentityUnavailableError('Token validation failed in the identity service', { cause: err });
    }
    if (t.expiresAt.getTime() <= Date.now()) throw new InvalidTokenError('The token has expired.');
    let catalog: ServiceCatalog | undefined;
    if (this.opts.catalog && (t.project || t.domain || t.system)) {
      try { catalog = await this.opts.catalog(t); } catch (err) {
        throw new IdentityUnavailableError('Could not build the token catalog', { cause: err });
      }
    }
    return fromTokenContext(t, catalog);
  }
}
