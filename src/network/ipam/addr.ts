/**
 * IPv4/IPv6 addresses and CIDRs as bigints: parsing, canonical text, containment, overlap and
 * ranges — what subnets, allocation pools and IPAM need, without a dependency.
 */
import { isIP } from 'node:net';

export type Version = 4 | 6;
export interface Cidr { readonly version: Version; readonly network: bigint; readonly prefix: number }

const bits = (v: Version): number => (v === 4 ? 32 : 128);

/** An address as a bigint, or undefined when it is not one. */
export function parseIp(text: string): { version: Version; value: bigint } | undefined {
  const kind = isIP(text);
  if (kind === 4) {
    const parts = text.split('.').map(Number);
    return { version: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (kind === 6) {
    let t = text.toLowerCase();
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
    if (v4) {
      const x = parseIp(v4[1]!)!.value;
      t = t.slice(0, -v4[1]!.length) + `${(x >> 16n).toString(16)}:${(x & 0xffffn).toString(16)}`;
    }
    const [head, tail] = t.includes('::') ? t.split('::') as [string, string] : [t, undefined];
    const h = head ? head.split(':') : [];
    const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail !== undefined ? [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl] : h;
    return { version: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
  }
  return undefined;
}

/** Canonical text of an address (IPv6 compressed as RFC 5952). */
export function formatIp(version: Version, value: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let best = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i; while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical form of an address text (undefined when invalid). */
export const canonicalIp = (text: string): string | undefined => {
  const p = parseIp(text);
  return p ? formatIp(p.version, p.value) : undefined;
};

/** Parses `a.b.c.d/n`; `strict` refuses host bits set (Neutron refuses them for subnets). */
export function parseCidr(text: string, strict = false): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const ip = parseIp(m ? m[1]! : text);
  if (!ip) return undefined;
  const prefix = m ? Number(m[2]) : bits(ip.version);
  if (prefix > bits(ip.version)) return undefined;
  const network = ip.value & mask(ip.version, prefix);
  if (strict && network !== ip.value) return undefined;
  return { version: ip.version, network, prefix };
}

export const mask = (v: Version, prefix: number): bigint => {
  const all = (1n << BigInt(bits(v))) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits(v) - prefix)) << BigInt(bits(v) - prefix);
};

export const formatCidr = (c: Cidr): string => `${formatIp(c.version, c.network)}/${c.prefix}`;
export const size = (c: Cidr): bigint => 1n << BigInt(bits(c.version) - c.prefix);
export const first = (c: Cidr): bigint => c.network;
export const last = (c: Cidr): bigint => c.network + size(c) - 1n;

export const contains = (c: Cidr, version: Version, value: bigint): boolean =>
  c.version === version && value >= first(c) && value <= last(c);

export const overlaps = (a: Cidr, b: Cidr): boolean => a.version === b.version && first(a) <= last(b) && first(b) <= last(a);

/** Whether `text` is inside `cidr` (false for invalid text). */
export function ipInCidr(text: string, cidr: Cidr): boolean {
  const p = parseIp(text);
  return !!p && contains(cidr, p.version, p.value);
}
