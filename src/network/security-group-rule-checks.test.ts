import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fault } from '../platform/http/faults.js';
import {
  canonicalise, checkRule, convertEthertype, convertIpPrefix, convertPortValue, convertProtocol, normalizedCidr, ruleKey, type RuleValues,
} from './security-group-rule-checks.js';

/** The Neutron exception name and message a call fails with. */
function failure(fn: () => unknown): { status: number; type: string | undefined; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Fault, `not a Fault: ${String(e)}`);
    return { status: e.status, type: e.kind, message: e.message };
  }
  assert.fail('did not throw');
}

const rule = (over: Partial<RuleValues> = {}): RuleValues => ({
  security_group_id: 'g', direction: 'ingress', ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null,
  remote_ip_prefix: null, remote_group_id: null, remote_address_group_id: null, ...over,
});

test('protocol: names in any case, numbers 0-255 kept as given, any/null mean every protocol', () => {
  assert.equal(convertProtocol('TCP', 'protocol'), 'tcp');
  assert.equal(convertProtocol('ipv6-icmp', 'protocol'), 'ipv6-icmp');
  assert.equal(convertProtocol(17, 'protocol'), '17');
  assert.equal(convertProtocol('017', 'protocol'), '017');
  assert.equal(convertProtocol(0, 'protocol'), '0');
  assert.equal(convertProtocol(null, 'protocol'), null);
  assert.equal(convertProtocol('any', 'protocol'), null);
  for (const bad of ['bad_protocol_name', 256, -1, '256', 6.5, true, {}, [], '']) {
    const f = failure(() => convertProtocol(bad, 'protocol'));
    assert.equal(f.status, 400);
    assert.equal(f.type, 'SecurityGroupRuleInvalidProtocol', JSON.stringify(bad));
  }
});

test('ports: integers 0-65535 (numbers or digit strings); anything else is named in the message', () => {
  assert.equal(convertPortValue(80, 'port_range_min'), 80);
  assert.equal(convertPortValue('443', 'port_range_min'), 443);
  assert.equal(convertPortValue(null, 'port_range_min'), null);
  assert.equal(convertPortValue(0, 'port_range_min'), 0);
  for (const [bad, shown] of [[-16, '-16'], [65536, '65536'], ['x', 'x'], [1.5, '1.5'], [[], '[]']] as const) {
    const f = failure(() => convertPortValue(bad, 'port_range_min'));
    assert.equal(f.type, 'SecurityGroupInvalidPortValue');
    assert.equal(f.message, `Invalid value for port ${shown}`);
  }
});

test('ethertype is case-insensitive; anything else is refused', () => {
  assert.equal(convertEthertype('ipv6', 'ethertype'), 'IPv6');
  assert.equal(convertEthertype('IPv4', 'ethertype'), 'IPv4');
  assert.equal(failure(() => convertEthertype('bad_ethertype', 'ethertype')).type, 'SecurityGroupRuleInvalidEtherType');
  assert.equal(failure(() => convertEthertype(4, 'ethertype')).status, 400);
});

test('remote_ip_prefix: mask made explicit, address canonical, host bits kept; normalized_cidr is the network', () => {
  assert.equal(convertIpPrefix('10.0.0.5', 'remote_ip_prefix'), '10.0.0.5/32');
  assert.equal(convertIpPrefix('10.0.0.5/24', 'remote_ip_prefix'), '10.0.0.5/24');
  assert.equal(convertIpPrefix('10.1.0.0/255.255.0.0', 'remote_ip_prefix'), '10.1.0.0/16');
  assert.equal(convertIpPrefix('2001:DB8:0:0::1/64', 'remote_ip_prefix'), '2001:db8::1/64');
  assert.equal(convertIpPrefix('', 'remote_ip_prefix'), null);
  assert.equal(convertIpPrefix(null, 'remote_ip_prefix'), null);
  assert.equal(normalizedCidr('10.0.0.5/24'), '10.0.0.0/24');
  assert.equal(normalizedCidr('2001:db8::1/64'), '2001:db8::/64');
  assert.equal(normalizedCidr(null), null);
  for (const bad of ['192.168.1./24', '192.168.1.1/33', 'bad_prefix', '256', '10.0.0.0/255.0.255.0', '::/129', '1.2.3.4/8/8', 12, {}]) {
    const f = failure(() => convertIpPrefix(bad, 'remote_ip_prefix'));
    assert.equal(f.type, 'InvalidCIDR', JSON.stringify(bad));
  }
});

test('IPv6 rules: icmp/icmpv6 become ipv6-icmp and 1 becomes 58; the full port range becomes none', () => {
  for (const [given, want] of [['icmp', 'ipv6-icmp'], ['icmpv6', 'ipv6-icmp'], ['1', '58'], ['tcp', 'tcp']]) {
    const r = rule({ ethertype: 'IPv6', protocol: given });
    canonicalise(r);
    assert.equal(r.protocol, want);
  }
  const v4 = rule({ protocol: 'icmp' });
  canonicalise(v4);
  assert.equal(v4.protocol, 'icmp');
  const full = rule({ protocol: 'tcp', port_range_min: 1, port_range_max: 65535 });
  canonicalise(full);
  assert.equal(full.port_range_min, null);
  assert.equal(full.port_range_max, null);
});

test('port ranges: tcp/udp need both with min <= max and no 0; icmp type/code 0-255 with type first; others none', () => {
  checkRule(rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22 }));
  checkRule(rule({ protocol: '17', port_range_min: 50, port_range_max: 55 }));
  checkRule(rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 }));
  checkRule(rule({ protocol: 'icmp', port_range_min: 11, port_range_max: null }));
  const cases: [Partial<RuleValues>, string, RegExp][] = [
    [{ protocol: 'tcp', port_range_min: 80, port_range_max: 79 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max/],
    [{ protocol: 'tcp', port_range_min: null, port_range_max: 6 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max/],
    [{ protocol: 'udp', port_range_min: 0, port_range_max: 10 }, 'SecurityGroupInvalidPortValue', /Invalid value for port 0/],
    [{ protocol: 'icmp', port_range_min: 1, port_range_max: 256 }, 'SecurityGroupInvalidIcmpValue', /Invalid value for ICMP code/],
    [{ protocol: 'icmp', port_range_min: 300, port_range_max: 1 }, 'SecurityGroupInvalidIcmpValue', /Invalid value for ICMP type/],
    [{ protocol: 'icmp', port_range_min: null, port_range_max: 6 }, 'SecurityGroupMissingIcmpType', /ICMP type \(port-range-min\) is missing/],
    [{ protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 'SecurityGroupInvalidProtocolForPort', /Ports cannot be specified for protocol 47/],
    [{ protocol: null, port_range_min: 1, port_range_max: 2 }, 'SecurityGroupProtocolRequiredWithPorts', /Must also specify protocol/],
  ];
  for (const [over, type, msg] of cases) {
    const f = failure(() => checkRule(rule(over)));
    assert.equal(f.type, type, JSON.stringify(over));
    assert.match(f.message, msg);
  }
});

test('prefix and protocol must match the ethertype; one remote at most', () => {
  checkRule(rule({ ethertype: 'IPv6', remote_ip_prefix: '2001:db8::/64' }));
  const f = failure(() => checkRule(rule({ ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/24' })));
  assert.equal(f.type, 'SecurityGroupRuleParameterConflict');
  assert.match(f.message, /Conflicting value ethertype IPv6 for CIDR 10\.0\.0\.0\/24/);
  assert.equal(failure(() => checkRule(rule({ ethertype: 'IPv4', protocol: 'ipv6-icmp' }))).type, 'SecurityGroupEthertypeConflictWithProtocol');
  assert.equal(failure(() => checkRule(rule({ ethertype: 'IPv4', protocol: '58' }))).type, 'SecurityGroupEthertypeConflictWithProtocol');
  assert.equal(failure(() => checkRule(rule({ remote_ip_prefix: '10.0.0.0/24', remote_group_id: 'x' }))).type, 'SecurityGroupMultipleRemoteEntites');
});

test('duplicate key: protocol by name or number is one protocol; /0 is no prefix; other fields count', () => {
  assert.equal(ruleKey(rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22 })), ruleKey(rule({ protocol: '6', port_range_min: 22, port_range_max: 22 })));
  assert.equal(ruleKey(rule({ remote_ip_prefix: '0.0.0.0/0' })), ruleKey(rule()));
  assert.equal(ruleKey(rule({ ethertype: 'IPv6', remote_ip_prefix: '::/0' })), ruleKey(rule({ ethertype: 'IPv6' })));
  assert.notEqual(ruleKey(rule({ protocol: 'tcp' })), ruleKey(rule({ protocol: 'udp' })));
  assert.notEqual(ruleKey(rule({ direction: 'egress' })), ruleKey(rule()));
  assert.notEqual(ruleKey(rule({ remote_ip_prefix: '10.0.0.0/24' })), ruleKey(rule()));
  assert.notEqual(ruleKey(rule({ security_group_id: 'h' })), ruleKey(rule()));
});
