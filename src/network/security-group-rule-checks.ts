/**
 * Security group rule values as Neutron converts and checks them: protocol by name or number,
 * ports (or ICMP type/code), ethertype, remote IP prefix, and the key two rules are duplicates
 * by. Pure functions; the rule API (security-group-rules.ts) applies them in Neutron's order.
 */
import { netFault } from './faults.js';
import { formatCidr, formatIp, parseCidr, parseIp, type Version } from './ipam/addr.js';
import type { Check } from './resource/validate.js';

/** Protocol names a rule accepts (Neutron's IP_PROTOCOL_MAP), with their numbers. */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4,
  'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60,
  'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};
const PROTOCOL_LIST = `[None, 'any', ${Object.keys(PROTOCOL_NUMBERS).map((p) => `'${p}'`).join(', ')}]`;

/** Protocols whose rules take a port range (Neutron's SG_PORT_PROTO_NUMS); the firewall matches their ports. */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([33, 132, 6, 17, 136]);
const PORT_PROTOCOL_NAMES = 'DCCP, SCTP, TCP, UDP, UDPLITE';
/** Protocols that only make sense with IPv6 (refused on an IPv4 rule). */
const IPV6_ONLY = new Set(['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '41', '44', '58', '59', '60', '43']);

const shown = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? 'None' : JSON.stringify(v));
const invalid = (type: string, message: string) => netFault(400, type, message);

/**
 * `protocol`: null/'any' → null; a name (any case) → its lower-case name; a number 0-255 (JSON
 * number or digits) → the number as the string given, as Neutron stores it.
 */
export const convertProtocol: Check<string | null> = (v) => {
  if (v === null || v === 'any') return null;
  const refuse = () => invalid('SecurityGroupRuleInvalidProtocol',
    `Security group rule protocol ${shown(v)} not supported. Only protocol values ${PROTOCOL_LIST} and integer representations [0 to 255] are supported.`);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw refuse();
    return String(v);
  }
  if (typeof v !== 'string') throw refuse();
  if (/^\d{1,5}$/.test(v)) {
    if (Number(v) > 255) throw refuse();
    return v;
  }
  const name = v.toLowerCase();
  if (name in PROTOCOL_NUMBERS) return name;
  throw refuse();
};

/** `port_range_min`/`max`: null, or an integer 0-65535 (number or digits). */
export const convertPortValue: Check<number | null> = (v) => {
  if (v === null) return null;
  const n = typeof v === 'string' && /^\s*-?\d{1,6}\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw invalid('SecurityGroupInvalidPortValue', `Invalid value for port ${shown(v)}`);
  }
  return n;
};

/** `ethertype`: IPv4 or IPv6, any case. */
export const convertEthertype: Check<'IPv4' | 'IPv6'> = (v) => {
  if (typeof v === 'string') {
    if (v.toLowerCase() === 'ipv4') return 'IPv4';
    if (v.toLowerCase() === 'ipv6') return 'IPv6';
  }
  throw invalid('SecurityGroupRuleInvalidEtherType', `Security group rule for ethertype '${shown(v)}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
};

/** A dotted IPv4 netmask as a prefix length (undefined when it is not a contiguous mask). */
function netmaskPrefix(text: string): number | undefined {
  const m = parseIp(text);
  if (!m || m.version !== 4) return undefined;
  const bits = m.value.toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return undefined;
  const ones = bits.indexOf('0');
  return ones === -1 ? 32 : ones;
}

/** Address and prefix of a prefix text (`a.b.c.d`, `a.b.c.d/n`, `a.b.c.d/m.m.m.m`, IPv6), undefined when invalid. */
function parsePrefix(text: string): { version: Version; value: bigint; prefix: number } | undefined {
  const [addr, len, ...rest] = text.split('/');
  if (rest.length || addr === undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  if (len === undefined) return { ...ip, prefix: max };
  const prefix = /^\d{1,3}$/.test(len) ? Number(len) : ip.version === 4 ? netmaskPrefix(len) : undefined;
  if (prefix === undefined || prefix > max) return undefined;
  return { ...ip, prefix };
}

/**
 * `remote_ip_prefix`: null/'' → null; otherwise the prefix with its mask made explicit and the
 * address in canonical form (`10.0.0.5` → `10.0.0.5/32`; host bits are kept, as Neutron keeps
 * them: the network form is `normalized_cidr`).
 */
export const convertIpPrefix: Check<string | null> = (v) => {
  if (v === null || v === '') return null;
  const p = typeof v === 'string' ? parsePrefix(v) : undefined;
  if (!p) throw invalid('InvalidCIDR', `Invalid CIDR ${shown(v)} given as IP prefix.`);
  return `${formatIp(p.version, p.value)}/${p.prefix}`;
};

/** The network of a stored prefix (`10.0.0.5/24` → `10.0.0.0/24`), Neutron's `normalized_cidr`. */
export function normalizedCidr(prefix: string | null): string | null {
  if (!prefix) return null;
  const c = parseCidr(prefix);
  return c ? formatCidr(c) : null;
}

/** The attributes of a rule the checks read and rewrite. */
export interface RuleValues {
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
  direction: string;
  security_group_id: string;
}

/** Protocol number of a (converted) protocol: null for any. */
export function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  return /^\d+$/.test(protocol) ? Number(protocol) : PROTOCOL_NUMBERS[protocol] ?? null;
}

/**
 * Neutron's rewrites before checking: on an IPv6 rule `icmp`/`icmpv6` become `ipv6-icmp` and
 * `1` becomes `58`; the whole range 1-65535 becomes no range.
 */
export function canonicalise(rule: RuleValues): void {
  if (rule.ethertype === 'IPv6') {
    if (rule.protocol === 'icmp' || rule.protocol === 'icmpv6') rule.protocol = 'ipv6-icmp';
    else if (rule.protocol === '1') rule.protocol = '58';
  }
  if (rule.port_range_min === 1 && rule.port_range_max === 65535) {
    rule.port_range_min = null;
    rule.port_range_max = null;
  }
}

/** Ports against the protocol: ranges for port protocols, type/code for ICMP, nothing otherwise. */
function checkPortRange(rule: RuleValues): void {
  const { port_range_min: min, port_range_max: max } = rule;
  if (min === null && max === null) return;
  if (rule.protocol === null) throw invalid('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  const proto = protocolNumber(rule.protocol);
  if (proto !== null && PORT_PROTOCOLS.has(proto)) {
    if (min === 0 || max === 0) throw invalid('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
    if (min === null || max === null || min > max) throw invalid('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
  } else if (proto === 1 || proto === 58) {
    for (const [attr, field, value] of [['port_range_min', 'type', min], ['port_range_max', 'code', max]] as const) {
      if (value !== null && value > 255) throw invalid('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`);
    }
    if (min === null && max !== null) throw invalid('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
  } else {
    throw invalid('SecurityGroupInvalidProtocolForPort', `Ports cannot be specified for protocol ${proto ?? rule.protocol}. Ports are only supported for ${PORT_PROTOCOL_NAMES}.`);
  }
}

/**
 * Every check of one rule that needs no database, in Neutron's order: port range, prefix
 * against ethertype, protocol against ethertype, one remote at most.
 */
export function checkRule(rule: RuleValues): void {
  checkPortRange(rule);
  if (rule.remote_ip_prefix) {
    const c = parseCidr(rule.remote_ip_prefix);
    if (!c || rule.ethertype !== `IPv${c.version}`) {
      throw invalid('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${rule.ethertype} for CIDR ${rule.remote_ip_prefix}`);
    }
  }
  if (rule.ethertype === 'IPv4' && rule.protocol !== null && IPV6_ONLY.has(rule.protocol)) {
    throw invalid('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${rule.ethertype} for protocol ${rule.protocol}.`);
  }
  const remotes = [rule.remote_ip_prefix, rule.remote_group_id, rule.remote_address_group_id].filter((r) => r);
  if (remotes.length > 1) {
    throw invalid('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
  }
}

/**
 * What makes two rules the same (Neutron's duplicate check): a protocol by name or number is
 * one protocol, and an all-addresses prefix is no prefix.
 */
export function ruleKey(rule: RuleValues): string {
  const prefix = rule.remote_ip_prefix === '0.0.0.0/0' || rule.remote_ip_prefix === '::/0' ? null : rule.remote_ip_prefix;
  const proto = rule.protocol === null ? null : protocolNumber(rule.protocol) ?? rule.protocol;
  return JSON.stringify([rule.security_group_id, rule.direction, rule.ethertype, proto, rule.port_range_min, rule.port_range_max,
    rule.remote_group_id, rule.remote_address_group_id, prefix]);
}
