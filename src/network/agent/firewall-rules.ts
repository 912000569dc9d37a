/**
 * One Neutron security group rule as one nftables rule of the `inet` firewall table. Semantics as
 * Neutron's: the remote side is the packet's source for ingress (traffic to the instance) and its
 * destination for egress; `port_range_min/max` are ports for tcp/udp/sctp/dccp/udplite, ICMP
 * type/code for icmp and ipv6-icmp, and ignored for other protocols; protocol null or 0 is any;
 * an IPv6 rule with protocol icmp means ipv6-icmp; a /0 prefix is no constraint.
 *
 * A rule that cannot be expressed (unknown protocol, bad range, prefix of the other family) yields
 * null and is left out: every rule only allows, so leaving one out fails closed.
 */
import type { DesiredRule } from './desired.js';
import { cidrOf, nftCidr } from './firewall-addresses.js';
import { PORT_PROTOCOLS, PROTOCOL_NUMBERS } from '../security-group-rule-checks.js';

const ICMP = 1;
const ICMPV6 = 58;
// Group ids become parts of set names spliced into nft's language: UUID characters only.
const GROUP_ID_RE = /^[A-Za-z0-9-]{1,200}$/;

/** The protocol number of a rule: null for any, undefined when it is not a protocol. */
export function protocolNumber(protocol: string | null, ethertype: DesiredRule['ethertype']): number | null | undefined {
  if (protocol === null || protocol === '' || protocol === 'any') return null;
  const p = /^\d{1,3}$/.test(protocol) ? Number(protocol) : PROTOCOL_NUMBERS[protocol.toLowerCase()];
  if (p === undefined || p > 255) return undefined;
  if (p === 0) return null;
  return ethertype === 'IPv6' && p === ICMP ? ICMPV6 : p;
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
const isByte = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 255;

function portMatch(proto: number, min: number | null, max: number | null): string | null | undefined {
  if (min === null) return null;
  if (PORT_PROTOCOLS.has(proto)) {
    const hi = max ?? min;
    if (!isPort(min) || !isPort(hi) || hi < min) return undefined;
    return hi === min ? `th dport ${min}` : `th dport ${min}-${hi}`;
  }
  if (proto === ICMP || proto === ICMPV6) {
    const kw = proto === ICMP ? 'icmp' : 'icmpv6';
    if (!isByte(min) || (max !== null && !isByte(max))) return undefined;
    return max === null ? `${kw} type ${min}` : `${kw} type ${min} ${kw} code ${max}`;
  }
  return null; // Neutron ignores ranges of protocols without ports
}

/** Name of the set holding a remote group's member addresses of one IP version. */
export function remoteGroupSet(groupId: string, version: 4 | 6): string {
  return `rg${version}-${groupId}`;
}

/** The nft rule (ending in `accept`) for `rule`, or null when it cannot be expressed. */
export function ruleStatement(rule: DesiredRule): string | null {
  const v = rule.ethertype === 'IPv6' ? 6 : 4;
  const parts = [v === 4 ? 'meta nfproto ipv4' : 'meta nfproto ipv6'];
  const proto = protocolNumber(rule.protocol, rule.ethertype);
  if (proto === undefined) return null;
  if (proto !== null) {
    parts.push(`meta l4proto ${proto}`);
    const ports = portMatch(proto, rule.portRangeMin, rule.portRangeMax);
    if (ports === undefined) return null;
    if (ports) parts.push(ports);
  }
  const addr = `${v === 4 ? 'ip' : 'ip6'} ${rule.direction === 'ingress' ? 'saddr' : 'daddr'}`;
  if (rule.remoteIpPrefix) {
    const c = cidrOf(rule.remoteIpPrefix);
    if (!c || c.version !== v) return null;
    if (c.prefix > 0) parts.push(`${addr} ${nftCidr(c)}`);
  }
  if (rule.remoteGroupId) {
    if (!GROUP_ID_RE.test(rule.remoteGroupId)) return null;
    parts.push(`${addr} @${remoteGroupSet(rule.remoteGroupId, v)}`);
  }
  parts.push('accept');
  return parts.join(' ');
}
