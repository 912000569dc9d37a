/**
 * Address helpers of the firewall compiler: MAC normalisation, the IPv6 link-local address a MAC
 * implies, and CIDR lists reduced to what an nftables interval set accepts (no entry inside
 * another: nft refuses nested intervals with "conflicting intervals specified").
 */
import { formatIp, parseCidr, type Cidr, type Version } from '../ipam/addr.js';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-case `aa:bb:cc:dd:ee:ff`, or undefined when `text` is not a MAC address. */
export function normalMac(text: string): string | undefined {
  const m = text.trim().toLowerCase().replace(/-/g, ':');
  return MAC_RE.test(m) ? m : undefined;
}

/** The EUI-64 link-local address (fe80::/64) an interface with this MAC gives itself. */
export function linkLocalOf(mac: string): Cidr {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const eui = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  const iid = eui.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
  return { version: 6, network: (0xfe80n << 112n) | iid, prefix: 128 };
}

/** An address or CIDR (host bits dropped), or undefined when `text` is neither. */
export function cidrOf(text: string): Cidr | undefined {
  return parseCidr(text.trim());
}

const lastOf = (c: Cidr): bigint => c.network + (1n << BigInt((c.version === 4 ? 32 : 128) - c.prefix)) - 1n;

/**
 * The CIDRs of one version, sorted, with duplicates and CIDRs inside another dropped. Two CIDRs
 * are either nested or disjoint, so what remains never overlaps.
 */
export function outermost(cidrs: readonly Cidr[], version: Version): Cidr[] {
  const sorted = cidrs.filter((c) => c.version === version)
    .sort((a, b) => (a.network < b.network ? -1 : a.network > b.network ? 1 : a.prefix - b.prefix));
  const out: Cidr[] = [];
  for (const c of sorted) {
    const prev = out[out.length - 1];
    if (prev && c.network <= lastOf(prev)) continue; // inside prev (sorted by start, widest first)
    out.push(c);
  }
  return out;
}

/** nft text of a CIDR: a bare address for a single host, `net/len` otherwise. */
export function nftCidr(c: Cidr): string {
  const host = c.prefix === (c.version === 4 ? 32 : 128);
  return host ? formatIp(c.version, c.network) : `${formatIp(c.version, c.network)}/${c.prefix}`;
}
