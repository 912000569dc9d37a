import type { ValidatedToken } from './request-context.js';

/**
 * Validates user tokens for a service. `validate` resolves with what the token proves, or rejects
 * with `InvalidTokenError` (the token is no good: 401) or `IdentityUnavailableError` (identity
 * could not answer: 503). Any other rejection is a bug.
 */
export interface TokenValidator {
  validate(token: string): Promise<ValidatedToken>;
  /** Public identity URL for `WWW-Authenticate: Keystone uri="…"`, when the validator knows it. */
  readonly identityUri?: string;
}

const MAX_TOKEN_LENGTH = 8192;

/**
 * Whether a header value can be a token at all: visible ASCII and of sane length. Anything else
 * is refused without asking identity (and could not be put in an HTTP header anyway).
 */
export function plausibleToken(token: string): boolean {
  return token.length > 0 && token.length <= MAX_TOKEN_LENGTH && /^[\x21-\x7e]+$/.test(token);
}
