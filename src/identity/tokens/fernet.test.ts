import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { decrypt, encrypt, encryptWithIv, FernetKey, generateKey, InvalidTokenError, restorePadding } from './fernet.js';
import type { InvalidTokenReason } from './fernet.js';

// The published vector of github.com/fernet/spec (generate.json / verify.json).
const SPEC_SECRET = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const SPEC_TOKEN = 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const SPEC_NOW = Date.parse('1985-10-26T01:20:00-07:00');
const SPEC_IV = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

// The spec's invalid.json, with the reason each one must be refused for.
const SPEC_INVALID: { desc: string; token: string; now: string; reason: InvalidTokenReason }[] = [
  { desc: 'incorrect mac', reason: 'signature', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==' },
  { desc: 'too short', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==' },
  { desc: 'invalid base64', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: '%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==' },
  { desc: 'payload size not multiple of block size', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm' },
  { desc: 'payload padding error', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==' },
  { desc: 'far-future TS', reason: 'future', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==' },
  { desc: 'expired TTL', reason: 'expired', now: '1985-10-26T01:21:31-07:00', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==' },
  { desc: 'incorrect IV', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==' },
  { desc: 'trailing characters', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: `${SPEC_TOKEN}trailingdata` },
  { desc: 'invalid characters', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: '*gAAAAAAdwJ6wAAECAwQFBgcI!CQoLDA0ODy021?cpGVWKZ_eEwC@GM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==' },
  { desc: 'non-urlsafe characters', reason: 'malformed', now: '1985-10-26T01:20:01-07:00', token: 'gAAAAAAdwJ6wAAEC/AwQFBgcICQoLDA0ODy+021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==' },
];

function refusedFor(reason: InvalidTokenReason): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  };
}

test('reproduces the spec vector from its key, IV, time and plaintext, without padding', () => {
  const token = encryptWithIv(SPEC_SECRET, 'hello', SPEC_NOW, SPEC_IV);
  assert.equal(token, SPEC_TOKEN.replace(/=+$/, ''));
  assert.equal(restorePadding(token), SPEC_TOKEN);
});

test('verifies the spec vector, padded or not', () => {
  for (const token of [SPEC_TOKEN, SPEC_TOKEN.replace(/=+$/, '')]) {
    const out = decrypt(token, [SPEC_SECRET], { ttlSeconds: 60, now: Date.parse('1985-10-26T01:20:01-07:00') });
    assert.equal(out.plaintext.toString(), 'hello');
    assert.equal(out.issuedAt.getTime(), SPEC_NOW);
  }
});

test('refuses every token of the spec invalid set, for the right reason', () => {
  for (const v of SPEC_INVALID) {
    assert.throws(() => decrypt(v.token, [SPEC_SECRET], { ttlSeconds: 60, now: new Date(v.now) }), refusedFor(v.reason), v.desc);
  }
});

test('without a TTL, old and future timestamps are accepted (as Keystone uses Fernet)', () => {
  const old = encrypt(SPEC_SECRET, 'x', 0);
  assert.equal(decrypt(old, [SPEC_SECRET]).issuedAt.getTime(), 0);
  const future = encrypt(SPEC_SECRET, 'x', Date.now() + 3_600_000);
  assert.equal(decrypt(future, [SPEC_SECRET]).plaintext.toString(), 'x');
  assert.throws(() => decrypt(future, [SPEC_SECRET], { ttlSeconds: 60 }), refusedFor('future'));
});

test('encrypts with the first key and decrypts with any key of the ring', () => {
  const [a, b, c] = [generateKey(), generateKey(), generateKey()];
  const token = encrypt([b, a], 'secret');
  assert.equal(decrypt(token, [a, c, b]).plaintext.toString(), 'secret');
  assert.equal(decrypt(token, [b]).plaintext.toString(), 'secret');
  assert.throws(() => decrypt(token, [a, c]), refusedFor('signature'));
  assert.throws(() => decrypt(token, []), refusedFor('signature'));
  assert.notEqual(encrypt(a, 'secret'), encrypt(a, 'secret'), 'IVs are random');
});

test('keys parse from raw bytes, key-file bytes, text with or without padding, and nothing else', () => {
  const raw = randomBytes(32);
  const text = raw.toString('base64url');
  const token = encrypt(raw, 'k');
  for (const form of [raw, Buffer.from(`${text}=`), `${text}=`, text, FernetKey.from(raw), new Uint8Array(raw)]) {
    assert.equal(decrypt(token, [form]).plaintext.toString(), 'k');
  }
  const bad = [Buffer.alloc(31), '', 'short', `${text}==`, raw.toString('base64').replace(/[A-Za-z0-9]/g, '+'), `${text.slice(0, 42)}B=`];
  for (const key of bad) assert.throws(() => FernetKey.from(key), TypeError, String(key));
});

test('refuses non-canonical base64 spellings and wrong padding of a good token', () => {
  const token = encryptWithIv(SPEC_SECRET, 'hello', SPEC_NOW, SPEC_IV);
  // 'hello' gives 73 bytes: 98 characters, the last carrying 4 unused bits.
  assert.equal(token.length % 4, 2);
  const last = token[token.length - 1] as string;
  const sibling = String.fromCharCode(last.charCodeAt(0) + 1);
  assert.throws(() => decrypt(token.slice(0, -1) + sibling, [SPEC_SECRET]), refusedFor('malformed'));
  assert.throws(() => decrypt(`${token}=`, [SPEC_SECRET]), refusedFor('malformed'));
  assert.throws(() => decrypt(`${token}===`, [SPEC_SECRET]), refusedFor('malformed'));
  assert.throws(() => decrypt(`${token}==x`, [SPEC_SECRET]), refusedFor('malformed'));
  assert.throws(() => decrypt(123 as unknown as string, [SPEC_SECRET]), refusedFor('malformed'));
  assert.equal(decrypt(`${token}==`, [SPEC_SECRET]).plaintext.toString(), 'hello');
});

test('timestamps beyond 32 bits round-trip', () => {
  const ms = (2 ** 33 + 5) * 1000;
  assert.equal(decrypt(encrypt(SPEC_SECRET, 'x', ms), [SPEC_SECRET]).issuedAt.getTime(), ms);
  assert.throws(() => encrypt(SPEC_SECRET, 'x', -1000), RangeError);
});

const PY = '/usr/bin/python3';
const PY_SCRIPT = `
import sys, json, base64
from cryptography.fernet import Fernet, InvalidToken
req = json.load(sys.stdin)
fernets = [Fernet(k.encode()) for k in req['keys']]
out = {'decrypted': [], 'encrypted': []}
for t in req['decrypt']:
    tb = t.encode() + b'=' * (-len(t) % 4)
    for f in fernets:
        try:
            pt = f.decrypt(tb)
        except InvalidToken:
            continue
        out['decrypted'].append({'plaintext': base64.b64encode(pt).decode(), 'ts': f.extract_timestamp(tb)})
        break
    else:
        out['decrypted'].append(None)
for e in req['encrypt']:
    f = fernets[e['key']]
    out['encrypted'].append(f.encrypt_at_time(base64.b64decode(e['plaintext']), e['ts']).decode())
json.dump(out, sys.stdout)
`;

interface PyResult {
  decrypted: ({ plaintext: string; ts: number } | null)[];
  encrypted: string[];
}

function python(request: unknown): PyResult {
  const run = spawnSync(PY, ['-c', PY_SCRIPT], { input: JSON.stringify(request), encoding: 'utf8' });
  if (run.error) assert.fail(`${PY} is needed for the Fernet cross-check (Debian python3 with python3-cryptography): ${run.error.message}`);
  if (run.status !== 0) assert.fail(`${PY} cryptography.fernet cross-check failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as PyResult;
}

test("cross-checks both directions with Python's cryptography.fernet", () => {
  const keys = [generateKey(), generateKey(), generateKey()];
  const messages = [Buffer.alloc(0), Buffer.from('hello'), randomBytes(15), randomBytes(16), randomBytes(17), randomBytes(1000), Buffer.from('ünïcødé ✓')];
  const times = [0, 1_700_000_000_000, (2 ** 33 + 5) * 1000];

  // Ours → Python: tokens made with each key as primary, unpadded as Keystone sends them.
  const ours = messages.map((m, i) => ({ m, ms: (times[i % times.length] as number) + 999, token: encrypt([keys[i % 3] as string], m, (times[i % times.length] as number) + 999) }));
  // Python → ours.
  const theirs = messages.map((m, i) => ({ m, key: (i + 1) % 3, ts: Math.floor((times[i % times.length] as number) / 1000) }));

  const res = python({
    keys,
    decrypt: [...ours.map((o) => o.token), encrypt(generateKey(), 'unknown key')],
    encrypt: theirs.map((t) => ({ key: t.key, plaintext: t.m.toString('base64'), ts: t.ts })),
  });

  ours.forEach((o, i) => {
    const got = res.decrypted[i];
    assert.ok(got, `Python could not decrypt our token #${i}`);
    assert.deepEqual(Buffer.from(got.plaintext, 'base64'), o.m);
    assert.equal(got.ts, Math.floor(o.ms / 1000));
  });
  assert.equal(res.decrypted[ours.length], null, 'Python must refuse a token of another key');

  theirs.forEach((t, i) => {
    const token = res.encrypted[i] as string;
    assert.ok(token.endsWith('=') || token.length % 4 === 0);
    for (const form of [token, token.replace(/=+$/, '')]) {
      const out = decrypt(form, keys);
      assert.deepEqual(out.plaintext, t.m);
      assert.equal(out.issuedAt.getTime(), t.ts * 1000);
    }
    assert.throws(() => decrypt(token, [keys[(t.key + 1) % 3] as string, keys[(t.key + 2) % 3] as string]), refusedFor('signature'));
  });
});
