/**
 * Sets of addresses given as CIDRs (what netaddr's IPSet does for Neutron's subnet pools):
 * merging a prefix list into the fewest CIDRs, taking allocated subnets out of it, and finding
 * room for a new subnet in what is left.
 */
import { first, last, type Cidr, type Version } from './addr.js';
import type { Range } from './pools.js';

const bits = (v: Version): number => (v === 4 ? 32 : 128);

/** The ranges a list of CIDRs of one version covers: sorted, overlaps and neighbours merged. */
export function rangesOfCidrs(cidrs: readonly Cidr[]): Range[] {
  const sorted = cidrs.map((c) => ({ lo: first(c), hi: last(c) })).sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: { lo: bigint; hi: bigint }[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && r.lo <= prev.hi + 1n) { if (r.hi > prev.hi) prev.hi = r.hi; } else out.push({ ...r });
  }
  return out;
}

/** `ranges` minus `cut` (both sorted and merged, as rangesOfCidrs makes them). */
export function subtractRanges(ranges: readonly Range[], cut: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const r of ranges) {
    let lo = r.lo;
    while (j < cut.length && cut[j]!.hi < lo) j++;
    // Walk the cuts that touch this range without consuming them: the next range may share one.
    for (let k = j; k < cut.length && cut[k]!.lo <= r.hi && lo <= r.hi; k++) {
      const c = cut[k]!;
      if (c.lo > lo) out.push({ lo, hi: c.lo - 1n });
      if (c.hi + 1n > lo) lo = c.hi + 1n;
    }
    if (lo <= r.hi) out.push({ lo, hi: r.hi });
  }
  return out;
}

/** The fewest aligned CIDRs that exactly cover a range, in address order. */
export function cidrsOfRange(version: Version, r: Range): Cidr[] {
  const width = bits(version);
  const out: Cidr[] = [];
  let lo = r.lo;
  // Each step takes the largest aligned block at `lo` that fits: at most 2 × width steps.
  while (lo <= r.hi) {
    let size = 0;
    while (size < width && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= r.hi) size++;
    out.push({ version, network: lo, prefix: width - size });
    lo += 1n << BigInt(size);
  }
  return out;
}

/** A prefix list as the fewest CIDRs covering the same addresses (Neutron compacts pool prefixes). */
export function mergeCidrs(version: Version, cidrs: readonly Cidr[]): Cidr[] {
  return rangesOfCidrs(cidrs).flatMap((r) => cidrsOfRange(version, r));
}

/** What is left of `prefixes` once `used` is taken out, as CIDRs in address order. */
export function freeBlocks(version: Version, prefixes: readonly Cidr[], used: readonly Cidr[]): Cidr[] {
  return subtractRanges(rangesOfCidrs(prefixes), rangesOfCidrs(used)).flatMap((r) => cidrsOfRange(version, r));
}

/**
 * Where a new /`prefixlen` goes, as Neutron's subnet allocator decides: at the start of the
 * smallest free block that can hold it (the lowest such block among equals), which keeps large
 * blocks whole for large requests.
 */
export function pickSubnet(free: readonly Cidr[], prefixlen: number): Cidr | undefined {
  let best: Cidr | undefined;
  for (const b of free) {
    if (b.prefix > prefixlen) continue;
    if (!best || b.prefix > best.prefix) best = b;
  }
  return best ? { version: best.version, network: best.network, prefix: prefixlen } : undefined;
}

/** Whether `want` lies wholly inside one free block. */
export function isFree(free: readonly Cidr[], want: Cidr): boolean {
  return free.some((b) => b.version === want.version && b.prefix <= want.prefix && first(b) <= first(want) && last(want) <= last(b));
}
