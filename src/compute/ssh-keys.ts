/**
 * OpenSSH public keys as Nova handles them: an imported key must parse as a real key of its type
 * (ssh-rsa, ssh-dss, ecdsa-sha2-nistp256/384/521, ssh-ed25519) and its fingerprint is the MD5 of
 * the decoded key blob in colon-separated hex; a generated key pair is RSA 2048, the private key
 * in traditional PEM, the public key `ssh-rsa <base64> Generated-by-Nova`.
 */
import { createHash, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

/** Why a key does not parse (the caller words the fault). */
export class InvalidKey extends Error {}

/** Reads the length-prefixed strings of an SSH wire blob. */
class Reader {
  #off = 0;
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.#off + 4 > this.buf.length) throw new InvalidKey('truncated key');
    const len = this.buf.readUInt32BE(this.#off);
    this.#off += 4;
    if (len > this.buf.length - this.#off) throw new InvalidKey('truncated key');
    const out = this.buf.subarray(this.#off, this.#off + len);
    this.#off += len;
    return out;
  }
  /** An mpint as unsigned big-endian bytes (leading zero dropped); negative values are refused. */
  mpint(): Buffer {
    const b = this.string();
    if (b.length > 0 && (b[0] & 0x80) !== 0) throw new InvalidKey('negative integer in key');
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    return b.subarray(i);
  }
  end(): void {
    if (this.#off !== this.buf.length) throw new InvalidKey('Key body contains extra bytes.');
  }
}

const b64url = (b: Buffer): string => b.toString('base64url');
const CURVES: Readonly<Record<string, { name: string; jwk: string; size: number }>> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', jwk: 'P-256', size: 32 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', jwk: 'P-384', size: 48 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', jwk: 'P-521', size: 66 },
};

/** Checks that `blob` is a well-formed key of `type` (and a valid point/modulus where it matters). */
function checkBlob(type: string, blob: Buffer): void {
  const r = new Reader(blob);
  const inner = r.string().toString('latin1');
  if (inner !== type) throw new InvalidKey(`key type ${inner} does not match ${type}`);
  if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    r.end();
    if (n.length * 8 < 512 || n.length > 2048) throw new InvalidKey('unsupported RSA modulus size');
    // What OpenSSL insists on for an RSA public key: odd modulus, odd exponent of at least 3, e < n.
    const odd = (b: Buffer) => b.length > 0 && (b[b.length - 1] & 1) === 1;
    if (!odd(n) || !odd(e) || (e.length === 1 && e[0] < 3) || e.length > n.length) throw new InvalidKey('invalid RSA key');
    createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
  } else if (type === 'ssh-dss') {
    const p = r.mpint();
    r.mpint(); r.mpint(); r.mpint();
    r.end();
    if (p.length * 8 < 512) throw new InvalidKey('DSA key too short');
  } else if (type === 'ssh-ed25519') {
    const k = r.string();
    r.end();
    if (k.length !== 32) throw new InvalidKey('ed25519 key must be 32 bytes');
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(k) }, format: 'jwk' });
  } else if (CURVES[type]) {
    const c = CURVES[type];
    const curve = r.string().toString('latin1');
    const point = r.string();
    r.end();
    if (curve !== c.name) throw new InvalidKey('curve does not match key type');
    if (point.length !== 1 + 2 * c.size || point[0] !== 4) throw new InvalidKey('unsupported EC point encoding');
    createPublicKey({ key: { kty: 'EC', crv: c.jwk, x: b64url(point.subarray(1, 1 + c.size)), y: b64url(point.subarray(1 + c.size)) }, format: 'jwk' });
  } else {
    throw new InvalidKey(`unsupported key type ${type}`);
  }
}

/**
 * The fingerprint of an OpenSSH public key line (`type base64 [comment]`), after checking that it
 * is a real key; throws {@link InvalidKey} otherwise.
 */
export function sshFingerprint(publicKey: string): string {
  const parts = publicKey.split(' ');
  if (parts.length < 2) throw new InvalidKey('not an OpenSSH public key');
  const [type, body] = parts;
  const b64 = body.replace(/[\r\n\t]+$/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new InvalidKey('key body is not base64');
  const blob = Buffer.from(b64, 'base64');
  try {
    checkBlob(type, blob);
  } catch (err) {
    if (err instanceof InvalidKey) throw err;
    throw new InvalidKey((err as Error).message);
  }
  return colonHex(createHash('md5').update(blob).digest());
}

/** `aa:bb:cc…` of a digest. */
export const colonHex = (digest: Buffer): string => [...digest].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** An SSH wire string. */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An SSH mpint from unsigned big-endian bytes (a zero byte added when the top bit is set). */
function sshMpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString((v[0] & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** A generated SSH key pair (Nova's `generate_key_pair`). */
export interface GeneratedSshKey { readonly privateKey: string; readonly publicKey: string; readonly fingerprint: string }

/** Generates an RSA key pair of `bits` bits as Nova does (private key in PKCS#1 PEM). */
export async function generateSshKeyPair(bits = 2048): Promise<GeneratedSshKey> {
  const { publicKey, privateKey } = await generate('rsa', { modulusLength: bits, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    sshMpint(Buffer.from(jwk.e, 'base64url')),
    sshMpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  const line = `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`;
  return {
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    publicKey: line,
    fingerprint: colonHex(createHash('md5').update(blob).digest()),
  };
}
