import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classlessRoutes, renderDnsmasq, type DnsmasqSpec, type DnsmasqSubnet } from './dnsmasq-config.js';

const DIR = '/run/nephos/h/dhcp/net-1';
const A: DnsmasqSubnet = {
  id: 'sub-a', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', dnsNameservers: [],
  hostRoutes: [{ destination: '172.16.0.0/12', nexthop: '10.0.0.254' }], serverIp: '10.0.0.2',
};
const B: DnsmasqSubnet = { id: 'sub-b', cidr: '10.1.0.0/28', gatewayIp: null, dnsNameservers: ['8.8.8.8', '2001:4860::8888'], hostRoutes: [], serverIp: '10.1.0.2' };
const V6: DnsmasqSubnet = { id: 'sub-6', cidr: '2001:db8::/64', gatewayIp: '2001:db8::1', dnsNameservers: [], hostRoutes: [], serverIp: '2001:db8::2' };

const spec = (o: Partial<DnsmasqSpec> = {}): DnsmasqSpec => ({
  networkId: 'net-1', interfaceName: 'ns-abc', mtu: 1450, domain: 'openstacklocal.', leaseSeconds: 86400,
  subnets: [A, B, V6], metadataRoute: true,
  hosts: [
    { macAddress: 'FA:16:3E:00:00:01', ipAddress: '10.0.0.5', hostname: 'host-10-0-0-5' },
    { macAddress: 'fa:16:3e:00:00:01', ipAddress: '2001:db8::5', hostname: 'host-2001-db8--5' },
    { macAddress: 'fa:16:3e:00:00:02', ipAddress: '10.1.0.6', hostname: 'vm2' },
    { macAddress: 'fa:16:3e:00:00:03', ipAddress: '192.168.9.9', hostname: 'elsewhere' },
  ],
  ...o,
});

test('static config: static ranges for IPv4 subnets only, MTU forced, files in the directory, no upstream DNS', () => {
  const f = renderDnsmasq(DIR, spec());
  const lines = f.conf.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(lines, [
    'no-hosts', 'no-resolv', 'user=nobody', 'group=nogroup',
    `pid-file=${DIR}/dnsmasq.pid`, `log-facility=${DIR}/dnsmasq.log`,
    `dhcp-hostsfile=${DIR}/host`, `addn-hosts=${DIR}/addn_hosts`, `dhcp-optsfile=${DIR}/opts`, `dhcp-leasefile=${DIR}/leases`,
    'interface=ns-abc', 'except-interface=lo', 'bind-dynamic', 'local-service', 'domain=openstacklocal', 'local=/openstacklocal/',
    'dhcp-authoritative', 'dhcp-lease-max=272', 'dhcp-option-force=option:mtu,1450',
    'dhcp-range=set:subnet-sub-a,10.0.0.0,static,255.255.255.0,86400s',
    'dhcp-range=set:subnet-sub-b,10.1.0.0,static,255.255.255.240,86400s',
  ]);
});

test('hosts: one line per IPv4 address on a served subnet; names for every address', () => {
  const f = renderDnsmasq(DIR, spec());
  assert.equal(f.hosts, 'fa:16:3e:00:00:01,host-10-0-0-5,10.0.0.5\nfa:16:3e:00:00:02,vm2,10.1.0.6\n');
  assert.equal(f.addnHosts, [
    '10.0.0.5\thost-10-0-0-5.openstacklocal host-10-0-0-5',
    '2001:db8::5\thost-2001-db8--5.openstacklocal host-2001-db8--5',
    '10.1.0.6\tvm2.openstacklocal vm2',
    '192.168.9.9\telsewhere.openstacklocal elsewhere',
  ].join('\n') + '\n');
});

test('options: router or explicitly none, DNS servers or dnsmasq itself, 121 and 249 with the default route', () => {
  const f = renderDnsmasq(DIR, spec());
  assert.deepEqual(f.opts.trim().split('\n'), [
    'tag:subnet-sub-a,option:dns-server,10.0.0.2',
    'tag:subnet-sub-a,option:router,10.0.0.1',
    'tag:subnet-sub-a,option:classless-static-route,172.16.0.0/12,10.0.0.254,10.1.0.0/28,0.0.0.0,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1',
    'tag:subnet-sub-a,249,172.16.0.0/12,10.0.0.254,10.1.0.0/28,0.0.0.0,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1',
    'tag:subnet-sub-b,option:dns-server,8.8.8.8',
    'tag:subnet-sub-b,option:router',
    'tag:subnet-sub-b,option:classless-static-route,10.0.0.0/24,0.0.0.0,169.254.169.254/32,10.1.0.2',
    'tag:subnet-sub-b,249,10.0.0.0/24,0.0.0.0,169.254.169.254/32,10.1.0.2',
  ]);
});

test('no 121 when there is nothing but the default route; 0.0.0.0 as the only DNS server means none', () => {
  const lone: DnsmasqSubnet = { ...A, hostRoutes: [], dnsNameservers: ['0.0.0.0'] };
  assert.deepEqual(classlessRoutes(lone, [lone], false), []);
  const f = renderDnsmasq(DIR, spec({ subnets: [lone], metadataRoute: false }));
  assert.equal(f.opts, 'tag:subnet-sub-a,option:dns-server\ntag:subnet-sub-a,option:router,10.0.0.1\n');
});

test('a host route that already covers the default or metadata route is not duplicated', () => {
  const s: DnsmasqSubnet = { ...A, hostRoutes: [{ destination: '0.0.0.0/0', nexthop: '10.0.0.9' }, { destination: '169.254.169.254/32', nexthop: '10.0.0.3' }] };
  assert.deepEqual(classlessRoutes(s, [s], true), ['0.0.0.0/0,10.0.0.9', '169.254.169.254/32,10.0.0.3']);
});

test('values that would inject dnsmasq options are refused', () => {
  const bad = (o: Partial<DnsmasqSpec>): void => assert.throws(() => renderDnsmasq(DIR, spec(o)), /dnsmasq: invalid/);
  bad({ hosts: [{ macAddress: 'fa:16:3e:00:00:01,set:x', ipAddress: '10.0.0.5', hostname: 'a' }] });
  bad({ hosts: [{ macAddress: 'fa:16:3e:00:00:01', ipAddress: '10.0.0.5\ndhcp-range=x', hostname: 'a' }] });
  bad({ subnets: [{ ...A, dnsNameservers: ['1.1.1.1,2.2.2.2'] }] });
  bad({ subnets: [{ ...A, hostRoutes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.1\nx' }] }] });
  bad({ domain: 'a,b' });
  bad({ interfaceName: 'ns-x\nuser=root' });
  bad({ mtu: 10 });
  assert.throws(() => renderDnsmasq('/tmp/a b', spec()), /invalid directory/);
  // A host name that is not a DNS label is left out rather than spliced in.
  const f = renderDnsmasq(DIR, spec({ hosts: [{ macAddress: 'fa:16:3e:00:00:01', ipAddress: '10.0.0.5', hostname: 'x,set:evil' }] }));
  assert.equal(f.hosts, 'fa:16:3e:00:00:01,10.0.0.5\n');
  assert.equal(f.addnHosts, '');
});
