/**
 * Authentication of API requests against the identity service, as keystonemiddleware's
 * auth_token does for the Python services.
 */
export type { AccessRule, CatalogEndpoint, CatalogService, RequestContext, ServiceCatalog, ValidatedToken } from './request-context.js';
export { policyCreds } from './request-context.js';
export { InvalidTokenError, IdentityUnavailableError } from './errors.js';
export { plausibleToken, type TokenValidator } from './validator.js';
export { CachedTokenValidator, type TokenCacheOptions } from './cache.js';
export { InProcessTokenValidator, fromTokenContext, type InProcessValidatorOptions, type TokenContextSource } from './in-process.js';
export { RemoteTokenValidator, type RemoteValidatorOptions } from './remote.js';
export { ServiceTokenSource, type ServiceCredentials, type ServiceTokenOptions } from './service-token.js';
export { parseTokenBody, parseKeystoneTime } from './token-body.js';
export { accessPathMatches, checkAccessRules } from './access-rules.js';
export { authenticate, installAuthentication, authOf, type AuthenticateOptions } from './authenticate.js';
export { inProcessValidator, remoteValidator } from './validators.js';
