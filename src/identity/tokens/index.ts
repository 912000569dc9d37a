/**
 * Nephos identity tokens: a compact payload sealed with Fernet under a Keystone-style key
 * repository. `TokenCodec` is the entry point; the parts are re-exported for tools and tests.
 */
import { decrypt, encrypt, InvalidTokenError } from './fernet.js';
import { DEFAULT_RECHECK_MS, load, type LoadOptions } from './key-repository.js';
import { decodePayload, encodePayload, type TokenPayload } from './payload.js';

export {
  decrypt,
  encrypt,
  encryptWithIv,
  FernetKey,
  generateKey,
  InvalidTokenError,
  restorePadding,
  type DecryptOptions,
  type FernetKeyInput,
  type FernetResult,
  type InvalidTokenReason,
} from './fernet.js';
export {
  DEFAULT_MAX_ACTIVE_KEYS,
  DEFAULT_RECHECK_MS,
  initialize as initializeKeyRepository,
  KeyRepositoryError,
  load as loadKeyRing,
  rotate as rotateKeys,
  type KeyRing,
  type LoadOptions,
  type RotationResult,
} from './key-repository.js';
export {
  decodePayload,
  encodePayload,
  KNOWN_METHODS,
  newAuditId,
  TOKEN_KINDS,
  type TokenKind,
  type TokenPayload,
} from './payload.js';

/** Keystone refuses longer tokens by default (max_token_size 255); ours leave room for long LDAP ids. */
export const DEFAULT_MAX_TOKEN_LENGTH = 2048;

/** A validated token's contents. */
export type OpenedToken = TokenPayload & {
  /** When the token was issued, to the second. */
  issuedAt: Date;
};

/** Options for {@link TokenCodec}. */
export interface TokenCodecOptions {
  /** Longer token strings are refused before any decoding; default {@link DEFAULT_MAX_TOKEN_LENGTH}. */
  maxTokenLength?: number;
  /**
   * How stale the cached keys may get before the repository directory is checked again, so
   * how soon a rotation by another process is seen; default DEFAULT_RECHECK_MS (1 s).
   */
  keyRecheckMs?: number;
}

/**
 * Issues and opens tokens with the keys of one repository directory, following rotations
 * made by other processes. Expiry and revocation are the caller's to check.
 */
export class TokenCodec {
  readonly maxTokenLength: number;
  readonly #loadOptions: LoadOptions;

  constructor(
    readonly keyDir: string,
    options: TokenCodecOptions = {},
  ) {
    this.maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
    this.#loadOptions = { recheckMs: options.keyRecheckMs ?? DEFAULT_RECHECK_MS };
  }

  /**
   * Seals a payload with the primary key. Throws TypeError/RangeError for a malformed payload
   * and KeyRepositoryError when the repository has no usable key.
   */
  issue(payload: TokenPayload, now?: Date): string {
    return encrypt(load(this.keyDir, this.#loadOptions).keys, encodePayload(payload), now);
  }

  /**
   * Authenticates and unpacks a token. Any bad token input gives {@link InvalidTokenError};
   * only a broken key repository gives something else (KeyRepositoryError).
   */
  open(token: string): OpenedToken {
    const keys = load(this.keyDir, this.#loadOptions).keys;
    if (typeof token !== 'string' || token.length > this.maxTokenLength) {
      throw new InvalidTokenError('malformed', 'not a string or too long');
    }
    try {
      const { plaintext, issuedAt } = decrypt(token, keys);
      return { ...decodePayload(plaintext), issuedAt };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      // A safety net: hostile input must not surface as a 500 even if a decoder has a gap.
      throw new InvalidTokenError('malformed', 'undecodable token', { cause: err });
    }
  }
}
