import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, formatCidr, ipInCidr, overlaps, parseCidr, parseIp, size } from './addr.js';

test('IPv4 and IPv6 round-trip to canonical text', () => {
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalIp('::'), '::');
  assert.equal(canonicalIp('fe80:0:0:0:1:0:0:0'), 'fe80::1:0:0:0', 'RFC 5952: the first of two equal zero runs');
  assert.equal(canonicalIp('::ffff:10.1.2.3'), '::ffff:a01:203');
  assert.equal(canonicalIp('10.0.0.256'), undefined);
  assert.equal(parseIp('255.255.255.255')!.value, 0xffffffffn);
});

test('CIDRs: strict host bits, size, containment, overlap', () => {
  assert.equal(parseCidr('10.0.0.5/24', true), undefined);
  assert.equal(formatCidr(parseCidr('10.0.0.5/24')!), '10.0.0.0/24');
  assert.equal(size(parseCidr('10.0.0.0/28')!), 16n);
  assert.equal(formatCidr(parseCidr('2001:db8::/64', true)!), '2001:db8::/64');
  assert.ok(ipInCidr('10.0.0.255', parseCidr('10.0.0.0/24')!));
  assert.ok(!ipInCidr('10.0.1.0', parseCidr('10.0.0.0/24')!));
  assert.ok(overlaps(parseCidr('10.0.0.0/16')!, parseCidr('10.0.5.0/24')!));
  assert.ok(!overlaps(parseCidr('10.0.0.0/24')!, parseCidr('10.0.1.0/24')!));
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
});
