/**
 * Fernet (https://github.com/fernet/spec) with node:crypto only, plus MultiFernet-style
 * decryption over a key ring. Tokens are written without base64 '=' padding, as Keystone
 * puts them on the wire; decryption accepts them with or without it.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Decipher, KeyObject } from 'node:crypto';

const VERSION = 0x80;
const HEADER_LEN = 1 + 8 + 16;
const HMAC_LEN = 32;
const BLOCK = 16;
/** Version, timestamp, IV, one cipher block, HMAC. */
const MIN_TOKEN_BYTES = HEADER_LEN + BLOCK + HMAC_LEN;
const DEFAULT_MAX_CLOCK_SKEW_S = 60;
/** Largest timestamp a Date can hold, in seconds. */
const MAX_DATE_S = 8.64e12;
const B64URL_BODY = /^[A-Za-z0-9_-]*$/;
const B64URL_VALUES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Why a token was refused; for logs only, clients should see one generic answer. */
export type InvalidTokenReason = 'malformed' | 'signature' | 'expired' | 'future' | 'payload';

/** The only error hostile or damaged token input produces. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  constructor(
    readonly reason: InvalidTokenReason,
    message: string = reason,
    options?: ErrorOptions,
  ) {
    super(`invalid token: ${message}`, options);
  }
}

/** A Fernet key with its two halves turned into key objects once, so they can be reused per call. */
export class FernetKey {
  private constructor(
    /** HMAC-SHA256 key: the first 16 bytes. */
    readonly signingKey: KeyObject,
    /** AES-128-CBC key: the last 16 bytes. */
    readonly encryptionKey: KeyObject,
  ) {}

  /**
   * Parses a key: 32 raw bytes, or its urlsafe base64 text (as a string or as bytes, the way
   * key files and Python's `Fernet(key)` hold it). Throws TypeError when it is not one.
   */
  static from(input: FernetKeyInput): FernetKey {
    if (input instanceof FernetKey) return input;
    const raw = typeof input !== 'string' && input.length === 32 ? Buffer.from(input) : decodeKeyText(input);
    return new FernetKey(createSecretKey(raw.subarray(0, 16)), createSecretKey(raw.subarray(16, 32)));
  }
}

/** Anything {@link FernetKey.from} accepts. */
export type FernetKeyInput = FernetKey | Buffer | Uint8Array | string;

/** What a successful decryption yields. */
export interface FernetResult {
  plaintext: Buffer;
  /** The token's creation time, at the one-second resolution Fernet keeps. */
  issuedAt: Date;
}

/** Optional Fernet TTL checks; Keystone does not use them (it checks its own expiry field). */
export interface DecryptOptions {
  /** Refuse tokens older than this many seconds; also enables the clock-skew check. */
  ttlSeconds?: number;
  /** The current time for TTL checks (Date or epoch milliseconds); default now. */
  now?: Date | number;
  /** How far in the future a timestamp may be when ttlSeconds is set; default 60. */
  maxClockSkewSeconds?: number;
}

/** A new random key as urlsafe base64 with padding (44 characters), the form key files hold. */
export function generateKey(): string {
  return `${randomBytes(32).toString('base64url')}=`;
}

/** Adds back the '=' padding Keystone strips, for standard Fernet implementations. */
export function restorePadding(token: string): string {
  const rem = token.length % 4;
  return rem === 0 ? token : token + '='.repeat(4 - rem);
}

/**
 * Encrypts with the primary key (the first of a list, or the single key given).
 * `now` is a Date or epoch milliseconds; the token keeps whole seconds. Returns an unpadded token.
 */
export function encrypt(keys: FernetKeyInput | readonly FernetKeyInput[], plaintext: Buffer | Uint8Array | string, now?: Date | number): string {
  return encryptWithIv(keys, plaintext, now ?? Date.now(), randomBytes(BLOCK));
}

/**
 * Deterministic encryption with a caller-chosen IV, for reproducing published test vectors.
 * Never use it for real tokens: a repeated IV leaks plaintext relations.
 */
export function encryptWithIv(
  keys: FernetKeyInput | readonly FernetKeyInput[],
  plaintext: Buffer | Uint8Array | string,
  now: Date | number,
  iv: Buffer | Uint8Array,
): string {
  const key = primaryKey(keys);
  if (iv.length !== BLOCK) throw new RangeError('Fernet IV must be 16 bytes');
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError('Fernet timestamp must be a time after 1970');
  const seconds = Math.floor(ms / 1000);

  const cipher = createCipheriv('aes-128-cbc', key.encryptionKey, iv);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const head = cipher.update(data);
  const tail = cipher.final();
  const bodyLen = HEADER_LEN + head.length + tail.length;
  const out = Buffer.allocUnsafe(bodyLen + HMAC_LEN);
  out[0] = VERSION;
  out.writeUInt32BE(Math.floor(seconds / 0x100000000), 1);
  out.writeUInt32BE(seconds >>> 0, 5);
  out.set(iv, 9);
  out.set(head, HEADER_LEN);
  out.set(tail, HEADER_LEN + head.length);
  createHmac('sha256', key.signingKey).update(out.subarray(0, bodyLen)).digest().copy(out, bodyLen);
  return out.toString('base64url');
}

/**
 * Decrypts a token with whichever key of the ring signed it (primary first).
 * Throws {@link InvalidTokenError} for every bad token; never anything else for token input.
 */
export function decrypt(token: string, keys: readonly FernetKeyInput[], options?: DecryptOptions): FernetResult {
  const data = decodeToken(token);
  const bodyLen = data.length - HMAC_LEN;
  const body = data.subarray(0, bodyLen);
  const mac = data.subarray(bodyLen);
  let key: FernetKey | undefined;
  for (const k of keys) {
    const candidate = FernetKey.from(k);
    if (timingSafeEqual(createHmac('sha256', candidate.signingKey).update(body).digest(), mac)) {
      key = candidate;
      break;
    }
  }
  if (!key) throw new InvalidTokenError('signature', 'signature does not match any key');

  const seconds = data.readUInt32BE(1) * 0x100000000 + data.readUInt32BE(5);
  if (seconds > MAX_DATE_S) throw new InvalidTokenError('malformed', 'timestamp out of range');
  if (options?.ttlSeconds !== undefined) checkAge(seconds, options);

  const plaintext = cbcDecrypt(key, data.subarray(9, HEADER_LEN), data.subarray(HEADER_LEN, bodyLen));
  return { plaintext, issuedAt: new Date(seconds * 1000) };
}

/**
 * AES-128-CBC decryption through one long-lived ECB decipher per key: creating a CBC decipher
 * per token costs several times more than the decryption. ECB keeps no state between whole
 * blocks, and the length check guarantees whole blocks. Padding is checked after the HMAC, so
 * there is no padding oracle.
 */
function cbcDecrypt(key: FernetKey, iv: Buffer, ciphertext: Buffer): Buffer {
  let ecb = ecbDeciphers.get(key);
  if (!ecb) {
    ecb = createDecipheriv('aes-128-ecb', key.encryptionKey, null);
    ecb.setAutoPadding(false);
    ecbDeciphers.set(key, ecb);
  }
  const out = ecb.update(ciphertext);
  if (out.length !== ciphertext.length) {
    // Cannot happen with whole blocks; if it did, the stream would be out of step for good.
    ecbDeciphers.delete(key);
    throw new InvalidTokenError('malformed', 'bad ciphertext length');
  }
  for (let i = out.length - 1; i >= BLOCK; i--) out[i] ^= ciphertext[i - BLOCK] as number;
  for (let i = 0; i < BLOCK; i++) out[i] ^= iv[i] as number;
  const pad = out[out.length - 1] as number;
  let bad = pad === 0 || pad > BLOCK ? 1 : 0;
  for (let i = out.length - Math.min(pad, BLOCK); i < out.length; i++) bad |= (out[i] as number) ^ pad;
  if (bad !== 0) throw new InvalidTokenError('malformed', 'bad padding');
  return out.subarray(0, out.length - pad);
}

const ecbDeciphers = new WeakMap<FernetKey, Decipher>();

function primaryKey(keys: FernetKeyInput | readonly FernetKeyInput[]): FernetKey {
  if (Array.isArray(keys)) {
    if (keys.length === 0) throw new RangeError('no Fernet key given');
    return FernetKey.from(keys[0] as FernetKeyInput);
  }
  return FernetKey.from(keys as FernetKeyInput);
}

function decodeKeyText(input: string | Uint8Array): Buffer {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  // Python's urlsafe_b64decode would also take '+' and '/', but key files never hold them.
  const body = text.endsWith('=') ? text.slice(0, -1) : text;
  if (body.length !== 43 || !B64URL_BODY.test(body) || !canonicalTail(body)) {
    throw new TypeError('Fernet key must be 32 bytes or their urlsafe base64 encoding');
  }
  return Buffer.from(body, 'base64url');
}

function decodeToken(token: unknown): Buffer {
  if (typeof token !== 'string') throw new InvalidTokenError('malformed', 'token is not a string');
  let body = token;
  if (body.endsWith('=')) {
    if (token.length % 4 !== 0) throw new InvalidTokenError('malformed', 'bad base64 padding');
    body = body.slice(0, body.endsWith('==') ? -2 : -1);
  }
  // Node's base64 decoder skips characters it does not know, so the alphabet is checked first;
  // the tail check keeps one token from having several spellings.
  if (body.length % 4 === 1 || !B64URL_BODY.test(body) || !canonicalTail(body)) {
    throw new InvalidTokenError('malformed', 'not urlsafe base64');
  }
  const data = Buffer.from(body, 'base64url');
  if (data.length < MIN_TOKEN_BYTES || (data.length - HEADER_LEN - HMAC_LEN) % BLOCK !== 0) {
    throw new InvalidTokenError('malformed', 'bad length');
  }
  if (data[0] !== VERSION) throw new InvalidTokenError('malformed', 'unknown version');
  return data;
}

/** The bits of the last character beyond the encoded bytes must be zero. */
function canonicalTail(body: string): boolean {
  const spare = body.length % 4 === 2 ? 0x0f : body.length % 4 === 3 ? 0x03 : 0;
  return spare === 0 || (B64URL_VALUES.indexOf(body[body.length - 1] as string) & spare) === 0;
}

function checkAge(seconds: number, options: DecryptOptions): void {
  const now = options.now ?? Date.now();
  const nowS = Math.floor((typeof now === 'number' ? now : now.getTime()) / 1000);
  if (seconds + (options.ttlSeconds as number) < nowS) throw new InvalidTokenError('expired', 'token is older than its TTL');
  if (nowS + (options.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_S) < seconds) {
    throw new InvalidTokenError('future', 'token timestamp is in the future');
  }
}
