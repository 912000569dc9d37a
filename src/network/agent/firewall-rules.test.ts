import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredRule } from './desired.js';
import { protocolNumber, ruleStatement } from './firewall-rules.js';

const rule = (o: Partial<DesiredRule>): DesiredRule => ({
  id: 'r', direction: 'ingress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null,
  remoteIpPrefix: null, remoteGroupId: null, ...o,
});

describe('security group rule → nft', () => {
  it('reads protocols by number or name; 0, null and "any" mean any; IPv6 icmp is ipv6-icmp', () => {
    assert.equal(protocolNumber('6', 'IPv4'), 6);
    assert.equal(protocolNumber('tcp', 'IPv4'), 6);
    assert.equal(protocolNumber('UDP', 'IPv6'), 17);
    assert.equal(protocolNumber('0', 'IPv4'), null);
    assert.equal(protocolNumber(null, 'IPv4'), null);
    assert.equal(protocolNumber('icmp', 'IPv6'), 58);
    assert.equal(protocolNumber('1', 'IPv6'), 58);
    assert.equal(protocolNumber('ipv6-icmp', 'IPv6'), 58);
    assert.equal(protocolNumber('256', 'IPv4'), undefined);
    assert.equal(protocolNumber('nonsense', 'IPv4'), undefined);
  });

  it('matches the family, protocol and destination ports', () => {
    assert.equal(ruleStatement(rule({ protocol: '6', portRangeMin: 22, portRangeMax: 22 })),
      'meta nfproto ipv4 meta l4proto 6 th dport 22 accept');
    assert.equal(ruleStatement(rule({ ethertype: 'IPv6', protocol: 'udp', portRangeMin: 1000, portRangeMax: 2000 })),
      'meta nfproto ipv6 meta l4proto 17 th dport 1000-2000 accept');
    assert.equal(ruleStatement(rule({ protocol: '132', portRangeMin: 9, portRangeMax: null })),
      'meta nfproto ipv4 meta l4proto 132 th dport 9 accept');
    assert.equal(ruleStatement(rule({})), 'meta nfproto ipv4 accept');
  });

  it('reads ICMP type and code from the port range; ignores ranges of protocols without ports', () => {
    assert.equal(ruleStatement(rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 })),
      'meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0 accept');
    assert.equal(ruleStatement(rule({ ethertype: 'IPv6', protocol: '58', portRangeMin: 128, portRangeMax: null })),
      'meta nfproto ipv6 meta l4proto 58 icmpv6 type 128 accept');
    assert.equal(ruleStatement(rule({ protocol: '47', portRangeMin: 1, portRangeMax: 5 })),
      'meta nfproto ipv4 meta l4proto 47 accept');
  });

  it('puts the remote side on the source for ingress and the destination for egress', () => {
    assert.equal(ruleStatement(rule({ remoteIpPrefix: '192.168.7.9/16' })), 'meta nfproto ipv4 ip saddr 192.168.0.0/16 accept');
    assert.equal(ruleStatement(rule({ direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' })),
      'meta nfproto ipv6 ip6 daddr 2001:db8::/32 accept');
    assert.equal(ruleStatement(rule({ remoteIpPrefix: '0.0.0.0/0' })), 'meta nfproto ipv4 accept');
    assert.equal(ruleStatement(rule({ direction: 'egress', remoteGroupId: 'abc-1' })),
      'meta nfproto ipv4 ip daddr @rg4-abc-1 accept');
    assert.equal(ruleStatement(rule({ ethertype: 'IPv6', remoteGroupId: 'abc-1' })),
      'meta nfproto ipv6 ip6 saddr @rg6-abc-1 accept');
  });

  it('leaves out (fails closed on) rules it cannot express', () => {
    assert.equal(ruleStatement(rule({ protocol: 'nonsense' })), null);
    assert.equal(ruleStatement(rule({ protocol: '6', portRangeMin: 0, portRangeMax: 10 })), null);
    assert.equal(ruleStatement(rule({ protocol: '6', portRangeMin: 100, portRangeMax: 10 })), null);
    assert.equal(ruleStatement(rule({ protocol: '1', portRangeMin: 300, portRangeMax: null })), null);
    assert.equal(ruleStatement(rule({ remoteIpPrefix: '2001:db8::/32' })), null);
    assert.equal(ruleStatement(rule({ remoteIpPrefix: 'not-an-address' })), null);
    assert.equal(ruleStatement(rule({ remoteGroupId: 'x } accept' })), null);
  });
});
