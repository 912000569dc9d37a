import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, parseCidr, type Cidr } from './addr.js';
import { cidrsOfRange, freeBlocks, isFree, mergeCidrs, pickSubnet, subtractRanges } from './cidr-set.js';

const c = (t: string): Cidr => parseCidr(t)!;
const text = (cs: readonly Cidr[]): string[] => cs.map(formatCidr);

test('merging a prefix list: overlaps absorbed, neighbours joined, gaps kept', () => {
  assert.deepEqual(text(mergeCidrs(4, [c('10.0.1.0/24'), c('10.0.0.0/24')])), ['10.0.0.0/23']);
  assert.deepEqual(text(mergeCidrs(4, [c('10.0.0.0/16'), c('10.0.5.0/24')])), ['10.0.0.0/16']);
  assert.deepEqual(text(mergeCidrs(4, [c('1.0.0.0/16'), c('2.0.0.0/16')])), ['1.0.0.0/16', '2.0.0.0/16']);
  // 10.0.1.0/24 + 10.0.2.0/24 is not one aligned block.
  assert.deepEqual(text(mergeCidrs(4, [c('10.0.2.0/24'), c('10.0.1.0/24')])), ['10.0.1.0/24', '10.0.2.0/24']);
  assert.deepEqual(text(mergeCidrs(6, [c('2001:db8::/64'), c('2001:db8:0:1::/64')])), ['2001:db8::/63']);
  assert.deepEqual(text(mergeCidrs(4, [c('0.0.0.0/0'), c('10.0.0.0/8')])), ['0.0.0.0/0']);
  assert.deepEqual(text(mergeCidrs(6, [c('::/0')])), ['::/0']);
});

test('a range splits into the fewest aligned CIDRs', () => {
  assert.deepEqual(text(cidrsOfRange(4, { lo: c('10.0.0.1/32').network, hi: c('10.0.0.6/32').network })),
    ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
  assert.deepEqual(text(cidrsOfRange(4, { lo: 0n, hi: 0xffffffffn })), ['0.0.0.0/0']);
});

test('subtracting ranges keeps what is outside every cut, across several ranges', () => {
  const r = subtractRanges([{ lo: 0n, hi: 99n }, { lo: 200n, hi: 299n }], [{ lo: 10n, hi: 19n }, { lo: 90n, hi: 209n }, { lo: 250n, hi: 250n }]);
  assert.deepEqual(r, [{ lo: 0n, hi: 9n }, { lo: 20n, hi: 89n }, { lo: 210n, hi: 249n }, { lo: 251n, hi: 299n }]);
  assert.deepEqual(subtractRanges([{ lo: 5n, hi: 6n }], [{ lo: 0n, hi: 10n }]), []);
  assert.deepEqual(subtractRanges([{ lo: 5n, hi: 6n }], []), [{ lo: 5n, hi: 6n }]);
});

test('allocation picks the smallest free block that fits, lowest first among equals', () => {
  const pool = [c('10.0.0.0/16')];
  let free = freeBlocks(4, pool, []);
  assert.equal(formatCidr(pickSubnet(free, 24)!), '10.0.0.0/24');
  free = freeBlocks(4, pool, [c('10.0.0.0/24')]);
  assert.equal(formatCidr(pickSubnet(free, 24)!), '10.0.1.0/24');
  // A /25 goes into the hole a /25 left rather than splitting a /24 lower down.
  free = freeBlocks(4, pool, [c('10.0.0.0/24'), c('10.0.2.0/24'), c('10.0.4.0/25')]);
  assert.equal(formatCidr(pickSubnet(free, 25)!), '10.0.4.128/25');
  assert.equal(formatCidr(pickSubnet(free, 24)!), '10.0.1.0/24');
  assert.equal(pickSubnet(free, 8), undefined, 'a /8 does not fit in a /16');
  assert.equal(pickSubnet(freeBlocks(4, pool, pool), 30), undefined, 'exhausted');
});

test('a specific CIDR is free only inside one free block', () => {
  const free = freeBlocks(4, [c('10.0.0.0/16')], [c('10.0.1.0/24')]);
  assert.equal(isFree(free, c('10.0.2.0/24')), true);
  assert.equal(isFree(free, c('10.0.0.0/23')), false, 'overlaps the allocated /24');
  assert.equal(isFree(free, c('10.0.1.128/25')), false);
  assert.equal(isFree(free, c('10.1.0.0/24')), false, 'outside the pool');
  assert.equal(isFree(free, c('10.0.0.0/16')), false);
  assert.equal(isFree(freeBlocks(6, [c('2001:db8::/48')], []), c('2001:db8:0:5::/64')), true);
});
