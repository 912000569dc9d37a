/** The token is missing, malformed, expired, revoked or not allowed for this request (→ 401). */
export class InvalidTokenError extends Error {
  constructor(message = 'Token authorization failed') {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

/** The identity service could not be asked, or refused the service's own credentials (→ 503). */
export class IdentityUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityUnavailableError';
  }
}
