import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metaData, networkData, vendorData2, versionListing, devName } from './openstack.js';
import { SAMPLE_KEY, sampleInstance } from './sample.js';
import { OPENSTACK_VERSIONS, openstackListing, openstackVersion } from './versions.js';

const md = sampleInstance();

test('meta_data.json of latest has every key, the FQDN hostname and a 512-byte random seed', () => {
  const doc = metaData(md, openstackVersion('latest')!);
  assert.deepEqual(Object.keys(doc).sort(), [
    'availability_zone', 'dedicated_cpus', 'devices', 'hostname', 'keys', 'launch_index', 'meta', 'name', 'project_id',
    'public_keys', 'random_seed', 'uuid',
  ]);
  assert.equal(doc.uuid, md.uuid);
  assert.equal(doc.hostname, 'web-1.novalocal');
  assert.equal(doc.name, 'web-1');
  assert.equal(doc.launch_index, 0);
  assert.equal(doc.availability_zone, 'nova');
  assert.equal(doc.project_id, md.projectId);
  assert.deepEqual(doc.public_keys, { mykey: SAMPLE_KEY });
  assert.deepEqual(doc.keys, [{ name: 'mykey', type: 'ssh', data: SAMPLE_KEY }]);
  assert.deepEqual(doc.meta, { role: 'webserver', priority: 'low' });
  assert.deepEqual(doc.dedicated_cpus, []);
  assert.equal(Buffer.from(doc.random_seed as string, 'base64').length, 512);
  assert.notEqual(metaData(md, 'latest').random_seed, doc.random_seed, 'a fresh seed on every request');
});

test('meta_data.json keys follow the version rules', () => {
  const keys = (v: string) => Object.keys(metaData(md, v));
  assert.ok(!keys('2012-08-10').includes('random_seed'));
  assert.ok(keys('2013-04-04').includes('random_seed'));
  assert.ok(!keys('2013-10-17').includes('project_id'));
  assert.ok(keys('2015-10-15').includes('project_id'));
  assert.ok(!keys('2015-10-15').includes('devices'));
  assert.ok(keys('2016-06-30').includes('devices'));
  assert.ok(!keys('2018-08-27').includes('dedicated_cpus'));
  assert.ok(keys('2020-10-14').includes('dedicated_cpus'));
});

test('devices: vlan from Ocata, vf_trusted from Rocky; an untagged NIC shows only once vf_trusted exists', () => {
  const m = sampleInstance({
    devices: [
      { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: 'fa:16:3e:00:00:01', tags: ['a'], vlan: 100 },
      { type: 'nic', bus: 'pci', address: '0000:00:04.0', mac: 'fa:16:3e:00:00:09' },
      { type: 'disk', bus: 'scsi', address: null, serial: 's1', tags: ['db'] },
      { type: 'share', bus: 'none', address: null, shareId: 'sh-1', tag: 'shared' },
    ],
  });
  assert.deepEqual(metaData(m, '2016-06-30').devices, [
    { type: 'nic', mac: 'fa:16:3e:00:00:01', bus: 'pci', address: '0000:00:03.0', tags: ['a'] },
    { type: 'disk', serial: 's1', bus: 'scsi', address: 'none', tags: ['db'] },
  ]);
  const ocata = metaData(m, '2017-02-22').devices as Record<string, unknown>[];
  assert.equal(ocata[0]!.vlan, 100);
  assert.equal(ocata.length, 2);
  const rocky = metaData(m, '2018-08-27').devices as Record<string, unknown>[];
  assert.deepEqual(rocky.map((d) => [d.type, d.mac ?? null, d.vf_trusted ?? null]), [
    ['nic', 'fa:16:3e:00:00:01', false], ['nic', 'fa:16:3e:00:00:09', false], ['disk', null, null],
  ]);
  const epoxy = metaData(m, '2025-04-04').devices as Record<string, unknown>[];
  assert.deepEqual(epoxy[3], { type: 'share', share_id: 'sh-1', tag: 'shared', bus: 'none', address: 'none' });
});

test('no key pair, no server metadata: public_keys, keys and meta are absent; no dhcp domain: bare hostname', () => {
  const doc = metaData(sampleInstance({ keyPairs: [], meta: {} }), 'latest', { dhcpDomain: null });
  assert.ok(!('public_keys' in doc) && !('keys' in doc) && !('meta' in doc));
  assert.equal(doc.hostname, 'web-1');
  assert.equal(metaData(md, 'latest', { dhcpDomain: 'example.org' }).hostname, 'web-1.example.org');
});

test('config drive extras: admin_pass and injected files', () => {
  const doc = metaData(md, 'latest', {}, { adminPass: 's3cret', files: [{ path: '/etc/motd', content_path: '/content/0000' }] });
  assert.equal(doc.admin_pass, 's3cret');
  assert.deepEqual(doc.files, [{ path: '/etc/motd', content_path: '/content/0000' }]);
  assert.ok(!('admin_pass' in metaData(md, 'latest')));
});

test('the version listing grows with the version; user_data only when there is some', () => {
  assert.deepEqual(versionListing(md, '2012-08-10'), ['meta_data.json', 'user_data']);
  assert.deepEqual(versionListing(md, '2013-04-04'), ['meta_data.json', 'user_data', 'password']);
  assert.deepEqual(versionListing(md, '2016-10-06'), ['meta_data.json', 'user_data', 'password', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']);
  assert.deepEqual(versionListing(sampleInstance({ userData: null }), '2015-10-15'), ['meta_data.json', 'password', 'vendor_data.json', 'network_data.json']);
});

test('/openstack lists the dated versions then latest, hiding future ones', () => {
  assert.deepEqual(openstackListing(new Date('2030-01-01')), [...OPENSTACK_VERSIONS, 'latest']);
  assert.deepEqual(openstackListing(new Date('2019-01-01')).slice(-3), ['2017-02-22', '2018-08-27', 'latest']);
  assert.equal(openstackVersion('latest'), OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.length - 1]);
  assert.equal(openstackVersion('2099-01-01'), null);
});

test('network_data.json: DHCP link without MTU, SLAAC IPv6, a static network with default and host routes and DNS', () => {
  const nd = networkData(md) as { links: Record<string, unknown>[]; networks: Record<string, unknown>[]; services: unknown[] };
  assert.deepEqual(nd.links, [
    { id: 'tapcd9f6d46-4a', vif_id: md.ports[0]!.id, type: 'tap', mtu: null, ethernet_mac_address: 'fa:16:3e:00:00:01' },
    { id: 'tap5e6f7a8b-11', vif_id: md.ports[1]!.id, type: 'tap', mtu: 1500, ethernet_mac_address: 'fa:16:3e:00:00:02' },
  ]);
  assert.deepEqual(nd.networks, [
    { id: 'network0', type: 'ipv4_dhcp', link: 'tapcd9f6d46-4a', network_id: md.ports[0]!.networkId },
    {
      id: 'network1', type: 'ipv6_slaac', link: 'tapcd9f6d46-4a', ip_address: 'fd00:10::f816:3eff:fe00:1', netmask: 'ffff:ffff:ffff:ffff::',
      routes: [{ network: '::', netmask: '::', gateway: 'fd00:10::1' }], network_id: md.ports[0]!.networkId, services: [],
    },
    {
      id: 'network2', type: 'ipv4', link: 'tap5e6f7a8b-11', ip_address: '192.168.50.20', netmask: '255.255.255.0',
      routes: [
        { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.168.50.1' },
        { network: '172.16.0.0', netmask: '255.240.0.0', gateway: '192.168.50.254' },
      ],
      network_id: md.ports[1]!.networkId,
      services: [{ type: 'dns', address: '192.168.50.53' }, { type: 'dns', address: '10.0.0.2' }],
    },
  ]);
  assert.deepEqual(nd.services, [{ type: 'dns', address: '10.0.0.2' }, { type: 'dns', address: '192.168.50.53' }]);
});

test('network_data.json: no ports is {}; a port without fixed IPs has no link; an unknown VIF type is phy; static IPv6', () => {
  assert.deepEqual(networkData(sampleInstance({ ports: [] })), {});
  const p = md.ports[1]!;
  const nd = networkData(sampleInstance({
    ports: [
      { ...p, id: 'aaaaaaaa-0000-4000-8000-000000000000', fixedIps: [] },
      {
        ...p, vifType: 'binding_failed', fixedIps: [{
          ipAddress: '2001:db8::5', floatingIps: [],
          subnet: { ...p.fixedIps[0]!.subnet, id: 'v6', ipVersion: 6, cidr: '2001:db8::/64', gatewayIp: null, dnsNameservers: [], hostRoutes: [{ destination: '2001:db8:1::/48', nexthop: '2001:db8::1' }] },
        }],
      },
    ],
  })) as { links: Record<string, unknown>[]; networks: Record<string, unknown>[] };
  assert.equal(nd.links.length, 1);
  assert.equal(nd.links[0]!.type, 'phy');
  assert.deepEqual(nd.networks[0], {
    id: 'network0', type: 'ipv6', link: devName(p.id), ip_address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::',
    routes: [{ network: '2001:db8:1::', netmask: 'ffff:ffff:ffff::', gateway: '2001:db8::1' }], network_id: p.networkId, services: [],
  });
});

test('vendor_data2.json puts the static vendor data under "static"', () => {
  assert.deepEqual(vendorData2(sampleInstance({ vendorData: { a: 1 } })), { static: { a: 1 } });
});
