import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { InvalidTokenError } from './fernet.js';
import { decodePayload, encodePayload, KNOWN_METHODS, newAuditId, TOKEN_KINDS } from './payload.js';
import type { TokenPayload } from './payload.js';

const hex = (): string => randomBytes(16).toString('hex');
const expiresAt = new Date('2031-05-06T07:08:09.123Z');

/** One payload of each kind, with 32-hex ids. */
function samples(): TokenPayload[] {
  const base = { userId: hex(), methods: ['password'], expiresAt, auditIds: [newAuditId()] };
  return [
    { kind: 'unscoped', ...base },
    { kind: 'project', ...base, projectId: hex() },
    { kind: 'domain', ...base, domainId: 'default' },
    { kind: 'system', ...base, system: 'all' },
    { kind: 'trust', ...base, projectId: hex(), trustId: hex() },
    { kind: 'app_cred', ...base, methods: ['application_credential'], projectId: hex(), appCredId: hex() },
    { kind: 'oauth', ...base, methods: ['oauth1'], projectId: hex(), accessTokenId: hex() },
  ];
}

function isInvalid(err: unknown): boolean {
  return err instanceof InvalidTokenError && err.reason === 'payload';
}

test('every kind round-trips', () => {
  const all = samples();
  assert.deepEqual(
    all.map((p) => p.kind),
    [...TOKEN_KINDS],
  );
  for (const p of all) assert.deepEqual(decodePayload(encodePayload(p)), p, p.kind);
});

test('32-hex ids and Keystone audit ids pack to 16 bytes; a project token payload stays small', () => {
  const project = samples()[1] as TokenPayload;
  // 61 bytes of ids, scope, expiry and audit id, plus 6 for the millisecond issue time.
  assert.equal(encodePayload(project).length, 67);
  assert.equal(encodePayload({ ...project, auditIds: [newAuditId(), newAuditId()] }).length, 84);
  // The same ids as strings cost their length.
  const upper = { ...project, userId: project.userId.toUpperCase() };
  assert.equal(encodePayload(upper).length, 67 + 32 - 16);
  assert.deepEqual(decodePayload(encodePayload(upper)), upper);
});

test('arbitrary ids (LDAP, Unicode) and arbitrary audit ids survive as strings', () => {
  const p: TokenPayload = {
    kind: 'domain',
    userId: 'cn=Ünïcødé Üser,ou=people,dc=example,dc=org 🚀',
    methods: ['password', 'totp'],
    domainId: 'x'.repeat(1024),
    expiresAt: new Date(0),
    auditIds: ['not-base64!', 'AAAAAAAAAAAAAAAAAAAAAB'],
  };
  assert.deepEqual(decodePayload(encodePayload(p)), p);
  const issued = { ...p, issuedAtMs: 1_700_000_000_123 };
  assert.deepEqual(decodePayload(encodePayload(issued)), issued);
  const maxMs = new Date(2 ** 48 - 1);
  assert.deepEqual(decodePayload(encodePayload({ ...p, expiresAt: maxMs })).expiresAt, maxMs);
});

test('methods pack as bits in a canonical order; unknown ones are spelled out', () => {
  const p = (samples()[0] as TokenPayload);
  const all = [...KNOWN_METHODS].reverse();
  assert.deepEqual(decodePayload(encodePayload({ ...p, methods: all })).methods, [...KNOWN_METHODS]);
  assert.equal(encodePayload({ ...p, methods: all }).length, encodePayload(p).length);
  const mixed = decodePayload(encodePayload({ ...p, methods: ['kerberos', 'token', 'x509', 'kerberos', 'token'] }));
  assert.deepEqual(mixed.methods, ['token', 'kerberos', 'x509']);
});

test('newAuditId makes 22 urlsafe characters from 16 random bytes, unique', () => {
  const ids = new Set(Array.from({ length: 1000 }, newAuditId));
  assert.equal(ids.size, 1000);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 16);
  }
});

test('encode refuses payloads that do not fit their kind', () => {
  const [unscoped, project, , system] = samples() as [TokenPayload, TokenPayload, TokenPayload, TokenPayload];
  const bad: [string, unknown][] = [
    ['project without projectId', { ...project, projectId: undefined }],
    ['project with domainId', { ...project, domainId: 'default' }],
    ['unscoped with system', { ...unscoped, system: 'all' }],
    ['system without system', { ...system, system: undefined }],
    ['system with another value', { ...system, system: 'some' }],
    ['unknown kind', { ...unscoped, kind: 'federated' }],
    ['no audit id', { ...unscoped, auditIds: [] }],
    ['three audit ids', { ...unscoped, auditIds: [newAuditId(), newAuditId(), newAuditId()] }],
    ['no methods', { ...unscoped, methods: [] }],
    ['empty method', { ...unscoped, methods: [''] }],
    ['invalid date', { ...unscoped, expiresAt: new Date(NaN) }],
    ['date before 1970', { ...unscoped, expiresAt: new Date(-1) }],
    ['date as string', { ...unscoped, expiresAt: '2031-01-01T00:00:00Z' }],
    ['empty user id', { ...unscoped, userId: '' }],
    ['user id not a string', { ...unscoped, userId: 42 }],
    ['lone surrogate', { ...unscoped, userId: 'a\uD800b' }],
    ['too long id', { ...unscoped, userId: 'x'.repeat(1025) }],
  ];
  for (const [desc, p] of bad) {
    assert.throws(() => encodePayload(p as TokenPayload), (err) => err instanceof TypeError || err instanceof RangeError, desc);
  }
});

test('decode refuses damaged bytes with InvalidTokenError only', () => {
  const valid = samples().map(encodePayload);
  const cases: Buffer[] = [Buffer.alloc(0), Buffer.from([2, 0]), Buffer.from([1, 7]), Buffer.from([1, 0, 0])];
  for (const v of valid) {
    for (let n = 0; n < v.length; n++) cases.push(v.subarray(0, n));
    cases.push(Buffer.concat([v, Buffer.from([0])]));
  }
  // A string id whose bytes are not UTF-8.
  const p = samples()[0] as TokenPayload;
  const withName = encodePayload({ ...p, userId: 'ab' });
  const at = withName.indexOf(Buffer.from('ab'));
  cases.push(Buffer.concat([withName.subarray(0, at), Buffer.from([0xff, 0xfe]), withName.subarray(at + 2)]));
  for (const c of cases) assert.throws(() => decodePayload(c), isInvalid, c.toString('hex'));
});

test('fuzz: random and mutated bytes decode or fail with InvalidTokenError, nothing else', () => {
  const valid = samples().map(encodePayload);
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    let buf: Buffer;
    if (i % 2 === 0) {
      buf = randomBytes(randomInt(0, 120));
      buf[0] = 1;
      if (buf.length > 1) buf[1] = randomInt(0, 8);
    } else {
      buf = Buffer.from(valid[i % valid.length] as Buffer);
      for (let flips = randomInt(1, 4); flips > 0; flips--) buf[randomInt(0, buf.length)] ^= 1 << randomInt(0, 8);
    }
    try {
      const out = decodePayload(buf);
      decoded++;
      // Whatever decodes must be a payload the encoder accepts and reproduces.
      assert.deepEqual(decodePayload(encodePayload(out)), out);
    } catch (err) {
      if (!isInvalid(err)) throw err;
    }
  }
  assert.ok(decoded > 0, 'some mutations still decode (a bit flip inside an id)');
});
