import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cidrOf, linkLocalOf, nftCidr, normalMac, outermost } from './firewall-addresses.js';

describe('firewall addresses', () => {
  it('normalises MACs and refuses non-MACs', () => {
    assert.equal(normalMac('FA:16:3E:00:0A:0B'), 'fa:16:3e:00:0a:0b');
    assert.equal(normalMac('fa-16-3e-00-0a-0b'), 'fa:16:3e:00:0a:0b');
    assert.equal(normalMac('fa:16:3e:00:0a'), undefined);
    assert.equal(normalMac('fa:16:3e:00:0a:0g'), undefined);
    assert.equal(normalMac('"; drop'), undefined);
  });

  it('derives the EUI-64 link-local address of a MAC (universal/local bit flipped)', () => {
    assert.equal(nftCidr(linkLocalOf('fa:16:3e:00:00:01')), 'fe80::f816:3eff:fe00:1');
    assert.equal(nftCidr(linkLocalOf('00:00:00:00:00:00')), 'fe80::200:ff:fe00:0');
  });

  it('keeps only the outermost CIDRs of a version, sorted, without duplicates', () => {
    const cidrs = ['10.0.1.7', '10.0.0.0/8', '10.0.1.0/24', '192.168.1.1', '192.168.1.1/32', '2001:db8::1', '172.16.0.0/12']
      .map((t) => cidrOf(t)!);
    assert.deepEqual(outermost(cidrs, 4).map(nftCidr), ['10.0.0.0/8', '172.16.0.0/12', '192.168.1.1']);
    assert.deepEqual(outermost(cidrs, 6).map(nftCidr), ['2001:db8::1']);
  });

  it('drops host bits of a CIDR and writes single hosts bare', () => {
    assert.equal(nftCidr(cidrOf('192.168.7.9/16')!), '192.168.0.0/16');
    assert.equal(nftCidr(cidrOf('2001:db8::5/64')!), '2001:db8::/64');
    assert.equal(nftCidr(cidrOf('0.0.0.0/0')!), '0.0.0.0/0');
    assert.equal(cidrOf('10.0.0.300'), undefined);
  });
});
