import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isExpired, keystoneIsotime, parseExpiresAt, pythonIsoformat, toStoredTime } from './expires-at.js';

describe('expires_at handling', () => {
  it('stores ISO-8601 times as UTC with microseconds', () => {
    assert.equal(toStoredTime('2030-01-02T03:04:05.123456'), '2030-01-02T03:04:05.123456Z');
    assert.equal(toStoredTime('2030-01-02T03:04:05Z'), '2030-01-02T03:04:05.000000Z');
    assert.equal(toStoredTime('2030-01-02T03:04:05.1+02:00'), '2030-01-02T01:04:05.100000Z');
    assert.equal(toStoredTime('2030-01-02'), '2030-01-02T00:00:00.000000Z');
    for (const bad of ['bad.123Z', '2030-02-31T00:00:00', '2030-13-01T00:00:00', '', '2030-01-02T25:00:00']) {
      assert.equal(toStoredTime(bad), undefined, bad);
    }
  });

  it('refuses malformed and past request values with 400, and passes null through', () => {
    assert.equal(parseExpiresAt(undefined), null);
    assert.equal(parseExpiresAt(null), null);
    assert.throws(() => parseExpiresAt('bad.123Z'), { status: 400 });
    assert.throws(() => parseExpiresAt('2000-01-01T00:00:00'), { status: 400 });
    assert.throws(() => parseExpiresAt(42), { status: 400 });
    assert.equal(parseExpiresAt('2030-01-02T03:04:05', new Date('2029-01-01T00:00:00Z')), '2030-01-02T03:04:05.000000Z');
  });

  it('renders as Python isoformat (application credentials) and Keystone isotime (trusts)', () => {
    assert.equal(pythonIsoformat('2030-01-02T03:04:05.123456Z'), '2030-01-02T03:04:05.123456');
    assert.equal(pythonIsoformat('2030-01-02T03:04:05.000000Z'), '2030-01-02T03:04:05');
    assert.equal(pythonIsoformat(null), null);
    assert.equal(keystoneIsotime('2030-01-02T03:04:05.123456Z'), '2030-01-02T03:04:05.000000Z');
    assert.equal(keystoneIsotime(null), null);
  });

  it('knows when a stored time has passed', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    assert.equal(isExpired(null, now), false);
    assert.equal(isExpired('2029-12-31T23:59:59.999999Z', now), true);
    assert.equal(isExpired('2030-01-01T00:00:01.000000Z', now), false);
  });
});
