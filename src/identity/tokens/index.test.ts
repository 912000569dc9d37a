import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decrypt,
  encrypt,
  initializeKeyRepository,
  InvalidTokenError,
  KeyRepositoryError,
  loadKeyRing,
  newAuditId,
  rotateKeys,
  TokenCodec,
  type TokenPayload,
} from './index.js';

const root = mkdtempSync(join(tmpdir(), 'nephos-tokens-'));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
function freshRepo(): string {
  const dir = join(root, `keys-${++seq}`);
  initializeKeyRepository(dir);
  return dir;
}

const hex = (): string => randomBytes(16).toString('hex');
const projectPayload = (): TokenPayload => ({
  kind: 'project',
  userId: hex(),
  methods: ['password', 'totp'],
  projectId: hex(),
  expiresAt: new Date(Date.now() + 3_600_000),
  auditIds: [newAuditId()],
});

function assertInvalid(codec: TokenCodec, token: unknown, label: string): void {
  try {
    codec.open(token as string);
  } catch (err) {
    if (err instanceof InvalidTokenError) return;
    assert.fail(`${label}: expected InvalidTokenError, got ${String(err)}`);
  }
  assert.fail(`${label}: a bad token was accepted`);
}

test('issue and open round-trip every kind, with the issue time', () => {
  const codec = new TokenCodec(freshRepo());
  const base = { userId: hex(), methods: ['token'], expiresAt: new Date(Date.now() + 60_000), auditIds: [newAuditId(), newAuditId()] };
  const payloads: TokenPayload[] = [
    { kind: 'unscoped', ...base },
    projectPayload(),
    { kind: 'domain', ...base, domainId: 'default' },
    { kind: 'system', ...base, system: 'all' },
    { kind: 'trust', ...base, projectId: hex(), trustId: hex() },
    { kind: 'app_cred', ...base, projectId: hex(), appCredId: hex() },
    { kind: 'oauth', ...base, projectId: hex(), accessTokenId: hex() },
  ];
  const issuedAt = new Date('2030-01-02T03:04:05.678Z');
  for (const p of payloads) {
    const token = codec.issue(p, issuedAt);
    assert.match(token, /^gAAAAA[A-Za-z0-9_-]+$/, 'urlsafe, unpadded');
    assert.deepEqual(codec.open(token), { ...p, issuedAt: new Date('2030-01-02T03:04:05Z') });
  }
  const now = Date.now();
  const opened = codec.open(codec.issue(projectPayload()));
  assert.ok(Math.abs(opened.issuedAt.getTime() - now) < 2000);
});

test('a project token is under 200 characters; a rescoped one (two audit ids) about 200', (t) => {
  const codec = new TokenCodec(freshRepo());
  const one = codec.issue(projectPayload());
  const two = codec.issue({ ...projectPayload(), auditIds: [newAuditId(), newAuditId()] });
  t.diagnostic(`project token: ${one.length} characters with one audit id, ${two.length} with two`);
  assert.equal(one.length, 183);
  assert.equal(two.length, 204);
});

test('tokens survive rotations until their key is pruned; other codecs follow rotations', () => {
  const dir = freshRepo();
  const codec = new TokenCodec(dir);
  const other = new TokenCodec(dir);
  const p = projectPayload();
  const token = codec.issue(p);

  rotateKeys(dir);
  assert.equal(other.open(token).userId, p.userId, 'a former primary still decrypts');
  const afterRotation = other.issue(p);
  assert.equal(codec.open(afterRotation).userId, p.userId);
  const primary = readFileSync(join(dir, '2'), 'utf8');
  assert.doesNotThrow(() => decrypt(afterRotation, [primary]), 'issued with the promoted key 2');
  assert.throws(() => decrypt(token, [primary]), InvalidTokenError);
});

test('tokens of a pruned key are refused', () => {
  const dir = freshRepo();
  const codec = new TokenCodec(dir);
  const token = codec.issue(projectPayload());
  rotateKeys(dir, 3);
  codec.open(token);
  rotateKeys(dir, 3);
  assert.throws(
    () => codec.open(token),
    (err) => err instanceof InvalidTokenError && err.reason === 'signature',
  );
});

test('a broken repository is an operational error, not an invalid token', () => {
  const codec = new TokenCodec(join(root, 'no-such-repo'));
  assert.throws(() => codec.open('gAAAAA'), KeyRepositoryError);
  assert.throws(() => codec.issue(projectPayload()), KeyRepositoryError);
});

test('fuzz: hostile input only ever gives InvalidTokenError', () => {
  const dir = freshRepo();
  const codec = new TokenCodec(dir);
  const token = codec.issue({ ...projectPayload(), auditIds: [newAuditId(), newAuditId()] });
  const bytes = Buffer.from(token, 'base64url');
  let cases = 0;
  const check = (input: unknown, label: string): void => {
    cases++;
    assertInvalid(codec, input, label);
  };

  for (const v of [undefined, null, 42, {}, [], Buffer.from(token), '', '=', '==', 'gAAAAA', 'x'.repeat(5000), `${token}${'A'.repeat(3000)}`]) {
    check(v, `value ${String(v).slice(0, 20)}`);
  }
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ %.\u00e9\u{1F680}\0';
  for (let i = 0; i < 3000; i++) {
    const len = randomInt(0, 300);
    let s = i % 2 === 0 ? 'gAAAAA' : '';
    while (s.length < len) s += alphabet[randomInt(0, alphabet.length)];
    check(s, `random string ${i}`);
  }
  for (let i = 0; i < 3000; i++) check(randomBytes(randomInt(0, 220)).toString('base64url'), `random base64 ${i}`);
  for (let n = 0; n < token.length; n++) check(token.slice(0, n), `truncated to ${n}`);
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const flipped = Buffer.from(bytes);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    check(flipped.toString('base64url'), `bit ${bit} flipped`);
  }
  for (let i = 0; i < token.length; i++) {
    check(token.slice(0, i) + token.slice(i + 1), `character ${i} dropped`);
    check(`${token.slice(0, i)}A${token.slice(i)}`, `character inserted at ${i}`);
  }
  // Validly sealed garbage: only a key holder could make it, but it must still be refused cleanly.
  const keys = loadKeyRing(dir).keys;
  for (let i = 0; i < 2000; i++) check(encrypt(keys, randomBytes(randomInt(0, 100))), `sealed garbage ${i}`);
  assert.ok(cases > 9000);
  assert.equal(codec.open(token).auditIds.length, 2, 'the untouched token still opens');
});

test('micro-benchmark (printed, not asserted)', (t) => {
  const codec = new TokenCodec(freshRepo());
  const payload = { ...projectPayload(), auditIds: [newAuditId(), newAuditId()] };
  const token = codec.issue(payload);
  const time = (n: number, fn: () => void): number => {
    for (let i = 0; i < 1000; i++) fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    return Number(process.hrtime.bigint() - start) / n / 1000;
  };
  const open = time(20000, () => codec.open(token));
  const issue = time(20000, () => codec.issue(payload));
  t.diagnostic(`open ${open.toFixed(2)} µs/op, issue ${issue.toFixed(2)} µs/op (${token.length}-character project token)`);
});
