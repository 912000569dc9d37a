/**
 * The compact binary form of a token's payload. Layout (format 1), in order:
 * format byte, kind byte, methods byte (bit i = KNOWN_METHODS[i], bit 7 = extra names follow
 * as varint count + strings), user id, the kind's scope ids (see SCOPE_IDS), expiry as
 * 48-bit big-endian epoch milliseconds, audit id count (1 or 2), audit ids.
 * An id is varint 0 + 16 bytes for 32 lowercase hex characters, else varint (n + 1) + n bytes
 * of UTF-8; an audit id is varint 0 + 16 bytes when it is 22 characters of canonical urlsafe
 * base64, else the same string form.
 */
import { randomBytes } from 'node:crypto';
import { InvalidTokenError } from './fernet.js';

const FORMAT = 1;
const MAX_STRING_BYTES = 1024;
const MAX_EXTRA_METHODS = 16;
const MAX_EXPIRY_MS = 2 ** 48 - 1;
const EXTRA_METHODS_BIT = 0x80;
const HEX_ID = /^[0-9a-f]{32}$/;
const PACKED_AUDIT_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Token kinds; the position in this list is the kind's code in the payload. */
export const TOKEN_KINDS = ['unscoped', 'project', 'domain', 'system', 'trust', 'app_cred', 'oauth'] as const;
/** What a token is scoped to, or how it was obtained. */
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** Authentication methods packed as bits; the position in this list is the bit. Others are spelled out. */
export const KNOWN_METHODS = ['password', 'token', 'application_credential', 'totp', 'oauth1', 'mapped', 'external'] as const;

/** Everything a token carries; the rest (roles, catalog) is looked up when it is validated. */
export interface TokenPayload {
  kind: TokenKind;
  userId: string;
  /** At least one; decoded in KNOWN_METHODS order, then unknown names in their given order, without repeats. */
  methods: string[];
  /** Required for project, trust, app_cred and oauth tokens; absent otherwise. */
  projectId?: string;
  /** Required for domain tokens; absent otherwise. */
  domainId?: string;
  /** Required ('all') for system tokens; absent otherwise. */
  system?: 'all';
  /** Required for trust tokens; absent otherwise. */
  trustId?: string;
  /** Required for app_cred tokens; absent otherwise. */
  appCredId?: string;
  /** The OAuth1 access token; required for oauth tokens, absent otherwise. */
  accessTokenId?: string;
  /** Kept to the millisecond. */
  expiresAt: Date;
  /**
   * Issue time in epoch milliseconds. Fernet's own timestamp has whole seconds only, which would
   * let a revocation event revoke a token issued later in the same second (e.g. right after a
   * password change); 0 or absent means unknown.
   */
  issuedAtMs?: number;
  /** The token's own audit id, then its parent chain's when it was rescoped: one or two. */
  auditIds: string[];
}

type ScopeIdField = 'projectId' | 'domainId' | 'trustId' | 'appCredId' | 'accessTokenId';
const SCOPE_ID_FIELDS: readonly ScopeIdField[] = ['projectId', 'domainId', 'trustId', 'appCredId', 'accessTokenId'];
/** Which ids each kind carries, in payload order. */
const SCOPE_IDS: Record<TokenKind, readonly ScopeIdField[]> = {
  unscoped: [],
  project: ['projectId'],
  domain: ['domainId'],
  system: [],
  trust: ['projectId', 'trustId'],
  app_cred: ['projectId', 'appCredId'],
  oauth: ['projectId', 'accessTokenId'],
};

/** A new audit id the way Keystone makes them: 16 random bytes as 22 characters of urlsafe base64. */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}

/** Packs a payload. Throws TypeError or RangeError when it is not a well-formed payload. */
export function encodePayload(p: TokenPayload): Buffer {
  const kindCode = TOKEN_KINDS.indexOf(p.kind);
  if (kindCode < 0) throw new TypeError(`unknown token kind: ${String(p.kind)}`);
  const wanted = SCOPE_IDS[p.kind];
  for (const field of SCOPE_ID_FIELDS) {
    if (wanted.includes(field) !== (p[field] !== undefined)) {
      throw new TypeError(`${field} is ${wanted.includes(field) ? 'required' : 'not allowed'} in a ${p.kind} token`);
    }
  }
  if ((p.kind === 'system') !== (p.system !== undefined) || (p.system !== undefined && p.system !== 'all')) {
    throw new TypeError(`system must be 'all' in a system token and absent otherwise`);
  }
  const expiresMs = p.expiresAt instanceof Date ? p.expiresAt.getTime() : NaN;
  if (!(expiresMs >= 0 && expiresMs <= MAX_EXPIRY_MS)) throw new RangeError('expiresAt must be a valid time after 1970');
  if (!Array.isArray(p.auditIds) || p.auditIds.length < 1 || p.auditIds.length > 2) {
    throw new RangeError('a token has one or two audit ids');
  }
  if (!Array.isArray(p.methods) || p.methods.length === 0) throw new RangeError('a token has at least one method');

  const w = new Writer();
  w.byte(FORMAT);
  w.byte(kindCode);
  writeMethods(w, p.methods);
  writeId(w, p.userId, 'userId');
  for (const field of wanted) writeId(w, p[field] as string, field);
  w.uint48(expiresMs);
  const issuedMs = p.issuedAtMs ?? 0;
  if (!(Number.isInteger(issuedMs) && issuedMs >= 0 && issuedMs <= MAX_EXPIRY_MS)) throw new RangeError('issuedAtMs must be a valid time after 1970');
  w.uint48(issuedMs);
  w.byte(p.auditIds.length);
  for (const id of p.auditIds) writeAuditId(w, id);
  return w.finish();
}

/** Unpacks a payload. Throws only {@link InvalidTokenError} (reason 'payload'). */
export function decodePayload(buf: Buffer): TokenPayload {
  const r = new Reader(buf);
  if (r.byte() !== FORMAT) fail('unknown payload format');
  const kind = TOKEN_KINDS[r.byte()];
  if (kind === undefined) fail('unknown token kind');
  const methods = readMethods(r);
  const userId = readId(r);
  const scope: Partial<Pick<TokenPayload, ScopeIdField | 'system'>> = {};
  for (const field of SCOPE_IDS[kind]) scope[field] = readId(r);
  if (kind === 'system') scope.system = 'all';
  const expiresAt = new Date(r.uint48());
  const issuedMs = r.uint48();
  const auditCount = r.byte();
  if (auditCount < 1 || auditCount > 2) fail('bad audit id count');
  const auditIds: string[] = [];
  for (let i = 0; i < auditCount; i++) auditIds.push(readAuditId(r));
  if (!r.atEnd()) fail('trailing bytes');
  return { kind, userId, methods, ...scope, expiresAt, ...(issuedMs ? { issuedAtMs: issuedMs } : {}), auditIds };
}

function writeMethods(w: Writer, methods: readonly string[]): void {
  let mask = 0;
  const extras: string[] = [];
  for (const m of methods) {
    const bit = (KNOWN_METHODS as readonly string[]).indexOf(m);
    if (bit >= 0) mask |= 1 << bit;
    else if (!extras.includes(m)) extras.push(m);
  }
  if (extras.length > MAX_EXTRA_METHODS) throw new RangeError(`at most ${MAX_EXTRA_METHODS} unknown methods`);
  w.byte(extras.length > 0 ? mask | EXTRA_METHODS_BIT : mask);
  if (extras.length === 0) return;
  w.varint(extras.length);
  for (const m of extras) writeString(w, m, 'method', 0);
}

function readMethods(r: Reader): string[] {
  const mask = r.byte();
  const methods: string[] = KNOWN_METHODS.filter((_, bit) => (mask & (1 << bit)) !== 0);
  if (mask & EXTRA_METHODS_BIT) {
    const count = r.varint();
    if (count < 1 || count > MAX_EXTRA_METHODS) fail('bad method count');
    for (let i = 0; i < count; i++) {
      const m = readString(r, r.varint());
      if ((KNOWN_METHODS as readonly string[]).includes(m) || methods.includes(m)) fail('repeated method');
      methods.push(m);
    }
  }
  if (methods.length === 0) fail('no methods');
  return methods;
}

function writeId(w: Writer, id: string, field: string): void {
  if (typeof id === 'string' && HEX_ID.test(id)) {
    w.varint(0);
    w.bytes(Buffer.from(id, 'hex'));
  } else {
    writeString(w, id, field, 1);
  }
}

function readId(r: Reader): string {
  const tag = r.varint();
  return tag === 0 ? r.take(16).toString('hex') : readString(r, tag - 1);
}

function writeAuditId(w: Writer, id: string): void {
  if (typeof id === 'string' && PACKED_AUDIT_ID.test(id)) {
    w.varint(0);
    w.bytes(Buffer.from(id, 'base64url'));
  } else {
    writeString(w, id, 'audit id', 1);
  }
}

function readAuditId(r: Reader): string {
  const tag = r.varint();
  return tag === 0 ? r.take(16).toString('base64url') : readString(r, tag - 1);
}

/** Writes varint (length + bias) then the UTF-8 bytes; non-empty strings only. */
function writeString(w: Writer, s: string, field: string, bias: number): void {
  if (typeof s !== 'string' || s.length === 0) throw new TypeError(`${field} must be a non-empty string`);
  if (LONE_SURROGATE.test(s)) throw new TypeError(`${field} is not well-formed Unicode`);
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > MAX_STRING_BYTES) throw new RangeError(`${field} is longer than ${MAX_STRING_BYTES} bytes`);
  w.varint(bytes.length + bias);
  w.bytes(bytes);
}

function readString(r: Reader, length: number): string {
  if (length < 1 || length > MAX_STRING_BYTES) fail('bad string length');
  try {
    return utf8.decode(r.take(length));
  } catch (err) {
    if (err instanceof InvalidTokenError) throw err;
    throw new InvalidTokenError('payload', 'bad UTF-8', { cause: err });
  }
}

function fail(message: string): never {
  throw new InvalidTokenError('payload', message);
}

class Writer {
  private buf = Buffer.allocUnsafe(128);
  private len = 0;

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Unsigned LEB128. */
  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.byte(n);
  }

  uint48(n: number): void {
    this.reserve(6);
    this.buf.writeUIntBE(n, this.len, 6);
    this.len += 6;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
}

class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  byte(): number {
    if (this.pos >= this.buf.length) fail('truncated');
    return this.buf[this.pos++] as number;
  }

  take(n: number): Buffer {
    if (this.pos + n > this.buf.length) fail('truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Unsigned LEB128 of at most three bytes: nothing in a payload needs more. */
  varint(): number {
    let n = 0;
    for (let shift = 0; shift < 21; shift += 7) {
      const b = this.byte();
      n |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return n;
    }
    return fail('varint too long');
  }

  uint48(): number {
    return this.take(6).readUIntBE(0, 6);
  }

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
}
