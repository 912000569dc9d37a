import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachedTokenValidator } from './cache.js';
import { InvalidTokenError, IdentityUnavailableError } from './errors.js';
import type { ValidatedToken } from './request-context.js';
import type { TokenValidator } from './validator.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');

/** A validator answering from a table, counting calls; `down` makes it unreachable. */
function fakeIdentity(valid: Record<string, number>) {
  const calls: string[] = [];
  const state = { down: false, revoked: new Set<string>() };
  const v: TokenValidator = {
    identityUri: 'http://id.example:5000',
    async validate(token) {
      calls.push(token);
      if (state.down) throw new IdentityUnavailableError('down');
      const exp = valid[token];
      if (exp === undefined || state.revoked.has(token)) throw new InvalidTokenError(`unknown ${token}`);
      return { token, userId: `u-${token}`, expiresAt: new Date(exp) } as unknown as ValidatedToken;
    },
  };
  return { v, calls, state };
}

function clock() {
  let now = T0;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

test('a valid token is asked once within the TTL and again after it', async () => {
  const id = fakeIdentity({ a: T0 + 3600_000 });
  const c = clock();
  const cache = new CachedTokenValidator(id.v, { now: c.now });
  assert.equal((await cache.validate('a')).userId, 'u-a');
  c.advance(4999);
  assert.equal((await cache.validate('a')).userId, 'u-a');
  assert.equal(id.calls.length, 1);
  assert.equal(cache.identityUri, 'http://id.example:5000');
  id.state.revoked.add('a');
  c.advance(2);
  await assert.rejects(cache.validate('a'), InvalidTokenError);
  assert.equal(id.calls.length, 2);
});

test('an answer is never kept past the token expiry', async () => {
  const id = fakeIdentity({ short: T0 + 1000 });
  const c = clock();
  const cache = new CachedTokenValidator(id.v, { now: c.now, ttlMs: 60_000 });
  await cache.validate('short');
  c.advance(999);
  await cache.validate('short');
  assert.equal(id.calls.length, 1);
  c.advance(1);
  await cache.validate('short'); // the fake still says valid: asked again rather than trusted
  assert.equal(id.calls.length, 2);
});

test('invalid tokens are remembered for the negative TTL only', async () => {
  const id = fakeIdentity({});
  const c = clock();
  const cache = new CachedTokenValidator(id.v, { now: c.now });
  for (let i = 0; i < 5; i++) await assert.rejects(cache.validate('bad'), /unknown bad/);
  assert.equal(id.calls.length, 1);
  c.advance(1001);
  await assert.rejects(cache.validate('bad'), InvalidTokenError);
  assert.equal(id.calls.length, 2);
});

test('identity being down is not remembered', async () => {
  const id = fakeIdentity({ a: T0 + 3600_000 });
  const cache = new CachedTokenValidator(id.v, { now: clock().now });
  id.state.down = true;
  await assert.rejects(cache.validate('a'), IdentityUnavailableError);
  id.state.down = false;
  assert.equal((await cache.validate('a')).userId, 'u-a');
  assert.equal(id.calls.length, 2);
});

test('concurrent checks of one token share one call', async () => {
  const id = fakeIdentity({ a: T0 + 3600_000 });
  const cache = new CachedTokenValidator(id.v, { now: clock().now });
  const all = await Promise.all(Array.from({ length: 20 }, () => cache.validate('a')));
  assert.equal(all.length, 20);
  assert.equal(id.calls.length, 1);
});

test('the cache is bounded and forgets the least recently used token first', async () => {
  const exp = T0 + 3600_000;
  const id = fakeIdentity({ a: exp, b: exp, c: exp, d: exp });
  const cache = new CachedTokenValidator(id.v, { now: clock().now, maxEntries: 3 });
  for (const t of ['a', 'b', 'c']) await cache.validate(t);
  await cache.validate('a'); // a is now the most recent; b the least
  await cache.validate('d');
  assert.equal(cache.size, 3);
  id.calls.length = 0;
  await cache.validate('a');
  await cache.validate('c');
  assert.deepEqual(id.calls, []);
  await cache.validate('b');
  assert.deepEqual(id.calls, ['b']);
});

test('invalidate forgets a token at once', async () => {
  const id = fakeIdentity({ a: T0 + 3600_000 });
  const cache = new CachedTokenValidator(id.v, { now: clock().now });
  await cache.validate('a');
  cache.invalidate('a');
  await cache.validate('a');
  assert.equal(id.calls.length, 2);
});
