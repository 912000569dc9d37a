/**
 * A complete example instance — one DHCP port with IPv4 and SLAAC IPv6, one static port with host
 * routes and DNS, a key pair, user data, server metadata and tagged devices — for tests and docs.
 */
import type { InstanceMetadata, MetadataSubnet } from './model.js';

const subnet = (s: Partial<MetadataSubnet> & Pick<MetadataSubnet, 'id' | 'cidr'>): MetadataSubnet => ({
  ipVersion: 4, gatewayIp: null, dnsNameservers: [], hostRoutes: [], enableDhcp: false, dhcpServer: null, ipv6AddressMode: null, ...s,
});

export const SAMPLE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd3mJ4Ug9f4cXlGZ0nq0ibvYHzv3bTQ0bQ5l1bC0f2a sample@nephos';

/** The sample instance; `over` replaces any field. */
export function sampleInstance(over: Partial<InstanceMetadata> = {}): InstanceMetadata {
  return {
    uuid: '3c2b1a5e-7d6f-4a8b-9c0d-1e2f3a4b5c6d',
    name: 'web-1',
    hostname: 'web-1',
    projectId: 'f7ac731cc11f40efbc03a9f9e1d1d21f',
    availabilityZone: 'nova',
    launchIndex: 0,
    reservationId: 'r-1a2b3c4d',
    flavorName: 'm1.tiny',
    ec2Ids: { instance: 42, image: 7, kernel: null, ramdisk: null },
    keyPairs: [{ name: 'mykey', type: 'ssh', data: SAMPLE_KEY }],
    userData: Buffer.from('#!/bin/sh\necho hello from user data\n').toString('base64'),
    meta: { role: 'webserver', priority: 'low' },
    devices: [
      { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: 'fa:16:3e:00:00:01', tags: ['frontend'] },
      { type: 'disk', bus: 'pci', address: '0000:00:05.0', serial: 'vol-1', path: '/dev/vdb', tags: ['data'] },
    ],
    dedicatedCpus: [],
    vendorData: {},
    ports: [
      {
        id: 'cd9f6d46-4a3a-43ab-a466-994af9db96fc', networkId: '99e88329-f20d-4741-9593-25bf07847b16',
        macAddress: 'fa:16:3e:00:00:01', mtu: 1450, vifType: 'tap',
        fixedIps: [
          {
            ipAddress: '10.0.0.5', floatingIps: ['203.0.113.10'],
            subnet: subnet({ id: 'a1', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', dnsNameservers: ['10.0.0.2'], enableDhcp: true, dhcpServer: '10.0.0.2' }),
          },
          {
            ipAddress: 'fd00:10::f816:3eff:fe00:1', floatingIps: [],
            subnet: subnet({ id: 'a2', ipVersion: 6, cidr: 'fd00:10::/64', gatewayIp: 'fd00:10::1', enableDhcp: true, ipv6AddressMode: 'slaac' }),
          },
        ],
      },
      {
        id: '5e6f7a8b-1111-4222-8333-944455556666', networkId: '0b1c2d3e-aaaa-4bbb-8ccc-dddd00001111',
        macAddress: 'fa:16:3e:00:00:02', mtu: 1500, vifType: 'tap',
        fixedIps: [{
          ipAddress: '192.168.50.20', floatingIps: [],
          subnet: subnet({
            id: 'b1', cidr: '192.168.50.0/24', gatewayIp: '192.168.50.1', dnsNameservers: ['192.168.50.53', '10.0.0.2'],
            hostRoutes: [{ destination: '172.16.0.0/12', nexthop: '192.168.50.254' }],
          }),
        }],
      },
    ],
    securityGroups: ['default', 'web'],
    rootDeviceName: '/dev/vda',
    ...over,
  };
}
