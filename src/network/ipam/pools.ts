/**
 * Allocation pools of a subnet: the default pool (the whole CIDR minus network, broadcast and
 * gateway), and the checks Neutron makes on pools an operator gives.
 */
import { netFault } from '../faults.js';
import { first, formatCidr, formatIp, last, parseIp, type Cidr } from './addr.js';

export interface Pool { readonly start: string; readonly end: string }
export interface Range { readonly lo: bigint; readonly hi: bigint }

/** The usable range of a CIDR: IPv4 excludes network and broadcast; IPv6 excludes the subnet-router anycast address. */
export function usable(c: Cidr): Range {
  if (c.version === 4) return c.prefix >= 31 ? { lo: first(c), hi: last(c) } : { lo: first(c) + 1n, hi: last(c) - 1n };
  return c.prefix >= 127 ? { lo: first(c), hi: last(c) } : { lo: first(c) + 1n, hi: last(c) };
}

/** The default pools: the usable range split around the gateway. */
export function defaultPools(c: Cidr, gateway: string | null): Pool[] {
  const { lo, hi } = usable(c);
  const gw = gateway ? parseIp(gateway)?.value : undefined;
  const ranges: Range[] = gw !== undefined && gw >= lo && gw <= hi
    ? [{ lo, hi: gw - 1n }, { lo: gw + 1n, hi }].filter((r) => r.lo <= r.hi)
    : [{ lo, hi }];
  return ranges.map((r) => ({ start: formatIp(c.version, r.lo), end: formatIp(c.version, r.hi) }));
}

/** Checks pools given on create/update against the CIDR and each other; returns them canonical. */
export function checkPools(c: Cidr, pools: readonly { start?: unknown; end?: unknown }[]): { pools: Pool[]; ranges: Range[] } {
  const ranges: Range[] = [];
  const out: Pool[] = [];
  for (const p of pools) {
    const s = typeof p.start === 'string' ? parseIp(p.start) : undefined;
    const e = typeof p.end === 'string' ? parseIp(p.end) : undefined;
    if (!s || !e || s.version !== c.version || e.version !== c.version) {
      throw netFault(400, 'InvalidAllocationPool', `The allocation pool ${String(p.start)}-${String(p.end)} spans beyond the subnet cidr ${formatCidr(c)}.`);
    }
    if (s.value > e.value) throw netFault(400, 'InvalidAllocationPool', `The allocation pool ${String(p.start)}-${String(p.end)} is not valid.`);
    const u = usable(c);
    if (s.value < first(c) || e.value > last(c)) {
      throw netFault(400, 'OutOfBoundsAllocationPool', `The allocation pool ${String(p.start)}-${String(p.end)} spans beyond the subnet cidr ${formatCidr(c)}.`);
    }
    if (c.version === 4 && (s.value < u.lo || e.value > u.hi)) {
      throw netFault(400, 'OutOfBoundsAllocationPool', `The allocation pool ${String(p.start)}-${String(p.end)} spans beyond the subnet cidr ${formatCidr(c)}.`);
    }
    ranges.push({ lo: s.value, hi: e.value });
    out.push({ start: formatIp(c.version, s.value), end: formatIp(c.version, e.value) });
  }
  const sorted = ranges.map((r, i) => ({ r, i })).sort((a, b) => (a.r.lo < b.r.lo ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.r.lo <= sorted[i - 1]!.r.hi) {
      const a = out[sorted[i - 1]!.i]!; const b = out[sorted[i]!.i]!;
      throw netFault(400, 'OverlappingAllocationPools', `Found overlapping allocation pools: ${a.start}-${a.end} and ${b.start}-${b.end} for subnet ${formatCidr(c)}.`);
    }
  }
  return { pools: out, ranges };
}

/** Pools as ranges (for allocation). */
export const rangesOf = (pools: readonly Pool[]): Range[] => pools.map((p) => ({ lo: parseIp(p.start)!.value, hi: parseIp(p.end)!.value }));
