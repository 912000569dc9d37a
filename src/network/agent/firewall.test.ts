import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredHostState, DesiredPort, DesiredRule } from './desired.js';
import { compileFirewall, conntrackZone, firewallRemovalScript, isFilteredPort, narrowedPorts, portPolicies } from './firewall.js';
import { exec } from '../../platform/host/exec.js';

const NET = 'aaaaaaaa-1111-4111-8111-000000000001';
const SG_DEFAULT = 'dddddddd-0000-4000-8000-000000000001';
const SG_WEB = 'eeeeeeee-0000-4000-8000-000000000002';
const P1 = '11111111-aaaa-4aaa-8aaa-000000000001';
const P2 = '22222222-aaaa-4aaa-8aaa-000000000002';
const P3 = '33333333-aaaa-4aaa-8aaa-000000000003';
const P4 = '44444444-aaaa-4aaa-8aaa-000000000004';
const P5 = '55555555-aaaa-4aaa-8aaa-000000000005';

const rule = (o: Partial<DesiredRule>): DesiredRule => ({
  id: 'r', direction: 'ingress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null,
  remoteIpPrefix: null, remoteGroupId: null, ...o,
});
const port = (id: string, mac: string, ips: readonly string[], o: Partial<DesiredPort> = {}): DesiredPort => ({
  id, networkId: NET, macAddress: mac, fixedIps: ips.map((ipAddress) => ({ subnetId: 's', ipAddress })),
  allowedAddressPairs: [], adminStateUp: true, portSecurity: true, securityGroupIds: [SG_DEFAULT], deviceOwner: 'compute:nova', ...o,
});

function state(o: Partial<DesiredHostState> = {}): DesiredHostState {
  return {
    host: 'h1',
    networks: [{ id: NET, type: 'vxlan', segmentationId: 5, physicalNetwork: null, mtu: 1450, adminStateUp: true }],
    ports: [
      port(P1, 'FA:16:3E:00:00:01', ['10.0.0.5', '2001:db8::5'], {
        allowedAddressPairs: [{ ipAddress: '10.0.1.0/24', macAddress: '' }, { ipAddress: '10.0.2.7', macAddress: 'fa:16:3e:00:00:99' }],
      }),
      port(P2, 'fa:16:3e:00:00:02', ['10.0.0.6'], { securityGroupIds: [SG_DEFAULT, SG_WEB] }),
      port(P3, 'fa:16:3e:00:00:03', ['10.0.0.7'], { portSecurity: false }),
      port(P4, 'fa:16:3e:00:00:04', [], { securityGroupIds: [] }),
      port(P5, 'fa:16:3e:00:00:05', ['10.0.0.1'], { deviceOwner: 'network:router_interface' }),
    ],
    securityGroups: {
      [SG_DEFAULT]: [
        rule({ direction: 'egress' }), rule({ direction: 'egress', ethertype: 'IPv6' }),
        rule({ remoteGroupId: SG_DEFAULT }), rule({ ethertype: 'IPv6', remoteGroupId: SG_DEFAULT }),
      ],
      [SG_WEB]: [
        rule({ protocol: '6', portRangeMin: 80, portRangeMax: 80 }),
        rule({ protocol: '6', portRangeMin: 80, portRangeMax: 80 }),
        rule({ protocol: 'bogus' }),
        rule({ protocol: '1', portRangeMin: 8, portRangeMax: 0, remoteIpPrefix: '192.168.7.9/16' }),
      ],
    },
    groupMembers: { [SG_DEFAULT]: ['10.0.0.5', '10.0.0.6', '2001:db8::5', '10.0.1.0/24', '10.0.1.7'] },
    dhcp: [], routers: [], vtepPeers: {},
    ...o,
  };
}

/** The text of one `chain NAME { … }` block. */
function chainOf(text: string, name: string): string {
  const m = new RegExp(`  chain ${name} \\{\\n([\\s\\S]*?)\\n?  \\}`).exec(text);
  assert.ok(m, `chain ${name} missing`);
  return m[1]!;
}

const markOf = (text: string, tap: string): string => new RegExp(`"${tap}" : (0x[0-9a-f]{8})`).exec(text)![1]!;

/** The chain a port's packets jump to, found through its mark in the ingress map. */
function portChain(text: string, tap: string, dir: 'in' | 'out'): string {
  const m = (parseInt(markOf(text, tap), 16) | (dir === 'out' ? 1 : 0)) >>> 0;
  const name = new RegExp(`0x${m.toString(16).padStart(8, '0')} : jump (${dir}-\\d+)`).exec(text);
  assert.ok(name, `no ${dir} map entry for ${tap}`);
  return chainOf(text, name[1]!);
}

describe('firewall compiler', () => {
  const text = compileFirewall(state());

  it('replaces both tables in one script (create, delete, define)', () => {
    for (const f of ['bridge', 'inet']) {
      assert.match(text, new RegExp(`table ${f} nephos-fw \\{\\}\\ndelete table ${f} nephos-fw\\ntable ${f} nephos-fw \\{\\n`));
    }
    assert.equal(firewallRemovalScript(), 'table bridge nephos-fw {}\ndelete table bridge nephos-fw\ntable inet nephos-fw {}\ndelete table inet nephos-fw\n');
  });

  it('filters ports with port security, leaving out port-security-off and network-owned ports', () => {
    assert.ok(text.includes('"tap11111111-aa"') && text.includes('"tap22222222-aa"') && text.includes('"tap44444444-aa"'));
    assert.ok(!text.includes('tap33333333-aa') && !text.includes('tap55555555-aa'));
    assert.equal(isFilteredPort(port(P5, 'fa:16:3e:00:00:05', [], { deviceOwner: 'network:dhcp' })), false);
    assert.ok(!text.includes(P3) && !text.includes(P5));
  });

  it('lets a port send only from its MAC with its fixed IPs, allowed pairs and link-local address', () => {
    for (const e of [
      '"tap11111111-aa" . fa:16:3e:00:00:01 . 10.0.0.5', '"tap11111111-aa" . fa:16:3e:00:00:01 . 10.0.1.0/24',
      '"tap11111111-aa" . fa:16:3e:00:00:99 . 10.0.2.7', '"tap11111111-aa" . fa:16:3e:00:00:01 . 2001:db8::5',
      '"tap11111111-aa" . fa:16:3e:00:00:01 . fe80::f816:3eff:fe00:1', '"tap22222222-aa" . fa:16:3e:00:00:02 . 10.0.0.6',
      '"tap11111111-aa" . fa:16:3e:00:00:99', '"tap22222222-aa" . fa:16:3e:00:00:02',
    ]) assert.ok(text.includes(e), `missing element ${e}`);
    // No IPv6 address for the pair's MAC and for port 2: no link-local address either (as Neutron).
    assert.ok(!text.includes('fe80::f816:3eff:fe00:99') && !text.includes('fe80::f816:3eff:fe00:2'));
    // No fixed IP at all: any address, but only from its MAC.
    assert.ok(text.includes('"tap44444444-aa" . fa:16:3e:00:00:04 . 0.0.0.0/0'));
    assert.ok(text.includes('"tap44444444-aa" . fa:16:3e:00:00:04 . ::/0'));
  });

  it('checks MAC, IP and ARP sources and drops DHCP/RA server traffic from ports', () => {
    const pre = chainOf(text, 'prerouting');
    assert.match(pre, /iifname \. ether saddr != @port-mac drop/);
    assert.match(pre, /ether type vmap \{ ip : jump from-port-ip4, ip6 : jump from-port-ip6, arp : jump from-port-arp \}\n\s+drop$/);
    const v4 = chainOf(text, 'from-port-ip4');
    assert.match(v4, /ip saddr 0\.0\.0\.0 ip daddr 255\.255\.255\.255 udp sport 68 udp dport 67 accept\n.*!= @port-ip4 drop\n.*udp sport 67 udp dport 68 drop/);
    const v6 = chainOf(text, 'from-port-ip6');
    assert.match(v6, /!= @port-ip6 drop/);
    assert.match(v6, /icmpv6 type nd-router-advert drop/);
    assert.match(v6, /udp sport 547 udp dport 546 drop/);
    assert.match(chainOf(text, 'from-port-arp'), /iifname \. arp saddr ether \. arp saddr ip @port-ip4 accept[\s\S]*\n\s+drop$/);
  });

  it('is stateful with default drop both ways, DHCP and neighbour discovery allowed', () => {
    const out = portChain(text, 'tap11111111-aa', 'out');
    assert.match(out, /^\s+ct state established,related accept\n\s+ct state invalid drop\n/);
    assert.match(out, /udp sport 68 udp dport 67 accept/);
    assert.match(out, /jump sg-out-dddddddd-0000-4000-8000-000000000001\n\s+drop$/);
    const inb = portChain(text, 'tap22222222-aa', 'in');
    assert.match(inb, /^\s+ct state established,related accept\n\s+ct state invalid drop\n/);
    assert.match(inb, /udp sport 67 udp dport 68 accept/);
    assert.match(inb, /icmpv6 type \{ mld-listener-query, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert \} accept/);
    assert.match(inb, /jump sg-in-dddddddd-0000-4000-8000-000000000001\n\s+jump sg-in-eeeeeeee-0000-4000-8000-000000000002\n\s+drop$/);
    // A port without groups drops everything but the fixed allowances.
    assert.match(portChain(text, 'tap44444444-aa', 'in'), /icmpv6 type .* accept\n\s+drop$/);
  });

  it('compiles group rules once per group, deduplicated, leaving out what it cannot express', () => {
    assert.equal(chainOf(text, `sg-in-${SG_WEB}`).trim().split('\n').map((l) => l.trim()).join('\n'), [
      'meta nfproto ipv4 meta l4proto 6 th dport 80 accept',
      'meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0 ip saddr 192.168.0.0/16 accept',
    ].join('\n'));
    assert.equal(chainOf(text, `sg-out-${SG_WEB}`).trim(), '');
    assert.match(chainOf(text, `sg-in-${SG_DEFAULT}`), /ip saddr @rg4-dddddddd-0000-4000-8000-000000000001 accept/);
  });

  it('keeps remote group members in named sets, nested addresses merged', () => {
    assert.match(text, /set rg4-dddddddd-0000-4000-8000-000000000001 \{\n\s+type ipv4_addr\n\s+flags interval\n\s+elements = \{\n\s+10\.0\.0\.5,\n\s+10\.0\.0\.6,\n\s+10\.0\.1\.0\/24\n\s+\}/);
    assert.match(text, /set rg6-dddddddd-0000-4000-8000-000000000001 \{[^}]*2001:db8::5/);
  });

  it('marks ports and zones networks by id, stable when other ports come and go', () => {
    const alone = compileFirewall(state({ ports: [state().ports[1]!] }));
    assert.equal(markOf(alone, 'tap22222222-aa'), markOf(text, 'tap22222222-aa'));
    assert.notEqual(markOf(text, 'tap11111111-aa'), markOf(text, 'tap22222222-aa'));
    assert.match(text, new RegExp(`"brqaaaaaaaa-11" : ${conntrackZone(NET)}\\b`));
    assert.ok(conntrackZone(NET) >= 1 && conntrackZone(NET) <= 65535);
    // The egress map is keyed with the "seen by inet" bit set, the ingress map without.
    const m = parseInt(markOf(text, 'tap11111111-aa'), 16);
    assert.equal(m % 2, 0);
    assert.match(text, new RegExp(`0x${((m | 1) >>> 0).toString(16).padStart(8, '0')} : jump out-\\d+`));
    assert.match(text, new RegExp(`0x${m.toString(16).padStart(8, '0')} : jump in-\\d+`));
  });

  it('shares chains between ports with the same groups, never one chain per port', () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      port(`${String(i).padStart(8, '0')}-aaaa-4aaa-8aaa-000000000000`, 'fa:16:3e:00:01:00', [`10.1.0.${i}`], {
        securityGroupIds: i % 2 ? [SG_WEB, SG_DEFAULT] : [SG_DEFAULT],
      }));
    const big = compileFirewall(state({ ports: many }));
    assert.equal(big.match(/^ {2}chain /gm)!.length, 8 + 2 * 2 + 2 * 2); // 8 fixed chains + 2 profiles + 2 groups
    assert.equal(big.match(/: jump in-\d+/g)!.length, 50);
  });

  it('is deterministic whatever the order of ports', () => {
    assert.equal(compileFirewall(state({ ports: [...state().ports].reverse() })), text);
  });

  it('says which ports a change narrowed, per direction (their conntrack entries must go)', () => {
    const before = portPolicies(state());
    assert.deepEqual(narrowedPorts(before, portPolicies(state())), [], 'nothing changed');
    // A rule of SG_WEB removed: only P2 (the one port in it) narrowed, on ingress.
    const fewer = state({ securityGroups: { ...state().securityGroups, [SG_WEB]: [rule({ protocol: '1', portRangeMin: 8, portRangeMax: 0, remoteIpPrefix: '192.168.7.9/16' })] } });
    assert.deepEqual(narrowedPorts(before, portPolicies(fewer)).map((n) => [n.port, n.ingress, n.egress]), [[P2, true, false]]);
    // A rule added narrows nothing.
    const more = state({ securityGroups: { ...state().securityGroups, [SG_WEB]: [...state().securityGroups[SG_WEB]!, rule({ protocol: '17' })] } });
    assert.deepEqual(narrowedPorts(before, portPolicies(more)), []);
    // A member leaving a remote group narrows every port with a rule on that group.
    const left = state({ groupMembers: { [SG_DEFAULT]: ['10.0.0.5', '2001:db8::5', '10.0.1.0/24', '10.0.1.7'] } });
    assert.deepEqual(narrowedPorts(before, portPolicies(left)).map((n) => n.port).sort(), [P1, P2]);
    // Port security turned on (from allow-all), and a port's group removed.
    const secured = state({ ports: state().ports.map((p) => (p.id === P3 ? { ...p, portSecurity: true } : p.id === P2 ? { ...p, securityGroupIds: [SG_DEFAULT] } : p)) });
    assert.deepEqual(narrowedPorts(before, portPolicies(secured)).map((n) => [n.port, n.ingress, n.egress]), [[P2, true, false], [P3, true, true]]);
    // Port security turned off widens: nothing to forget. Network-owned ports are never listed.
    const open = state({ ports: state().ports.map((p) => (p.id === P1 ? { ...p, portSecurity: false } : p)) });
    assert.deepEqual(narrowedPorts(before, portPolicies(open)), []);
    assert.equal(portPolicies(state()).has(P5), false);
    assert.equal(portPolicies(state()).get(P1)!.zone, conntrackZone(NET));
  });

  it('refuses ids that cannot be part of nft names', () => {
    assert.throws(() => compileFirewall(state({ ports: [port('x"; flush ruleset', 'fa:16:3e:00:00:09', [])] })), /invalid/);
    assert.throws(() => compileFirewall(state({ ports: [port(P1, 'fa:16:3e:00:00:09', [], { securityGroupIds: ['a b'] })] })), /invalid/);
  });

  const root = process.getuid?.() === 0;
  describe('nft accepts it (check mode, in a scratch namespace)', { skip: root ? false : 'needs root' }, () => {
    const ns = `nephos-t${process.pid}u`;
    before(async () => { await exec('ip', ['netns', 'add', ns]); });
    after(async () => { await exec('ip', ['netns', 'delete', ns]); });
    const check = (script: string): Promise<unknown> => exec('nft', ['-c', '-f', '-'], { netns: ns, input: script });

    it('a host with ports, groups, pairs and remote groups', async () => { await check(text); });
    it('an empty host', async () => { await check(compileFirewall(state({ networks: [], ports: [], securityGroups: {}, groupMembers: {} }))); });
    it('the removal script', async () => { await check(firewallRemovalScript()); });
  });
});
