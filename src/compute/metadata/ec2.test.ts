import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockDeviceMapping, ec2Id, ec2Tree, findInTree, printNode, withoutNames } from './ec2.js';
import { SAMPLE_KEY, sampleInstance } from './sample.js';

const md = sampleInstance();
const at = (path: string, version = '2009-04-04', m = md): string | Buffer | undefined => {
  const node = findInTree(ec2Tree(m, version), path.split('/').filter(Boolean));
  return node === undefined ? undefined : printNode(node);
};

test('meta-data/ lists what Nova documents for 2009-04-04, directories with a trailing /', () => {
  assert.equal(at('meta-data'), [
    'ami-id', 'ami-launch-index', 'ami-manifest-path', 'block-device-mapping/', 'hostname', 'instance-action', 'instance-id',
    'instance-type', 'local-hostname', 'local-ipv4', 'placement/', 'public-hostname', 'public-ipv4', 'public-keys/',
    'reservation-id', 'security-groups',
  ].join('\n'));
  assert.equal(at(''), 'meta-data/\nuser-data');
});

test('leaves: ids, hostname, addresses, type, placement, security groups', () => {
  assert.equal(at('meta-data/instance-id'), 'i-0000002a');
  assert.equal(at('meta-data/ami-id'), 'ami-00000007');
  assert.equal(at('meta-data/ami-launch-index'), '0');
  assert.equal(at('meta-data/ami-manifest-path'), 'FIXME');
  assert.equal(at('meta-data/hostname'), 'web-1.novalocal');
  assert.equal(at('meta-data/local-hostname'), 'web-1.novalocal');
  assert.equal(at('meta-data/local-ipv4'), '10.0.0.5');
  assert.equal(at('meta-data/public-ipv4'), '203.0.113.10');
  assert.equal(at('meta-data/instance-type'), 'm1.tiny');
  assert.equal(at('meta-data/instance-action'), 'none');
  assert.equal(at('meta-data/reservation-id'), 'r-1a2b3c4d');
  assert.equal(at('meta-data/placement'), 'availability-zone');
  assert.equal(at('meta-data/placement/availability-zone'), 'nova');
  assert.equal(at('meta-data/security-groups'), 'default\nweb');
  assert.equal(at('meta-data/block-device-mapping'), 'ami\nroot');
  assert.equal(at('meta-data/block-device-mapping/ami'), 'vda');
  assert.equal(at('meta-data/block-device-mapping/root'), '/dev/vda');
  assert.equal(at('user-data')!.toString(), '#!/bin/sh\necho hello from user data\n');
});

test('public-keys/ lists 0=<name>, public-keys/0/ lists openssh-key, which is the key', () => {
  assert.equal(at('meta-data/public-keys'), '0=mykey');
  assert.equal(at('meta-data/public-keys/0'), 'openssh-key');
  assert.equal(at('meta-data/public-keys/0/openssh-key'), SAMPLE_KEY);
  assert.equal(at('meta-data/public-keys/0/_name'), undefined);
  assert.equal(at('meta-data/public-keys', '2009-04-04', sampleInstance({ keyPairs: [] })), undefined);
});

test('older versions have fewer keys; no user data means no user-data', () => {
  assert.equal(at('meta-data', '1.0'), [
    'ami-id', 'ami-launch-index', 'ami-manifest-path', 'hostname', 'instance-id', 'local-ipv4', 'public-keys/', 'reservation-id', 'security-groups',
  ].join('\n'));
  assert.equal(at('meta-data/placement', '2007-12-15'), undefined);
  assert.equal(at('meta-data/instance-action', '2008-02-01'), undefined);
  assert.equal(at('', '2009-04-04', sampleInstance({ userData: null })), 'meta-data/');
});

test('a leaf has no children; unknown names are not found', () => {
  assert.equal(at('meta-data/hostname/x'), undefined);
  assert.equal(at('meta-data/nope'), undefined);
  assert.equal(at('meta-data/constructor'), undefined);
});

test('no IPv4 fixed IP: local-ipv4 is the requesting address; no floating IP: public-ipv4 is empty; null prints None', () => {
  const m = sampleInstance({ ports: [], availabilityZone: null, ec2Ids: { instance: 1, image: null, kernel: 3, ramdisk: 4 } });
  const tree = ec2Tree(m, '2009-04-04', { address: '10.9.9.9' });
  assert.equal(printNode(findInTree(tree, ['meta-data', 'local-ipv4'])!), '10.9.9.9');
  assert.equal(printNode(findInTree(tree, ['meta-data', 'public-ipv4'])!), '');
  assert.equal(printNode(findInTree(tree, ['meta-data', 'ami-id'])!), 'None');
  assert.equal(printNode(findInTree(tree, ['meta-data', 'placement', 'availability-zone'])!), 'None');
  assert.equal(printNode(findInTree(tree, ['meta-data', 'kernel-id'])!), 'aki-00000003');
  assert.equal(printNode(findInTree(tree, ['meta-data', 'ramdisk-id'])!), 'ari-00000004');
});

test('ec2 ids are %08x', () => {
  assert.equal(ec2Id('i', 0), 'i-00000000');
  assert.equal(ec2Id('i', 0xabcdef12), 'i-abcdef12');
});

test('block-device-mapping: Nova defaults without a root device; ephemeral, swap and volumes', () => {
  assert.deepEqual(blockDeviceMapping(sampleInstance({ rootDeviceName: null })), { ami: 'sda1', ephemeral0: 'sda2', root: '/dev/sda1', swap: 'sda3' });
  assert.deepEqual(blockDeviceMapping(sampleInstance({
    rootDeviceName: '/dev/vda',
    blockDevices: [
      { deviceName: '/dev/vda', sourceType: 'image', destinationType: 'local' },
      { deviceName: '/dev/vdd', sourceType: 'volume', destinationType: 'volume' },
      { deviceName: '/dev/vdc', sourceType: 'volume', destinationType: 'volume' },
      { deviceName: '/dev/vdb', sourceType: 'blank', destinationType: 'local', guestFormat: 'ext4' },
      { deviceName: '/dev/vde', sourceType: 'blank', destinationType: 'local', guestFormat: 'swap' },
    ],
  })), { ami: 'vda', root: '/dev/vda', ebs0: '/dev/vdc', ebs1: '/dev/vdd', swap: '/dev/vde', ephemeral0: '/dev/vdb' });
});

test('the config drive form drops the _name of public-keys/0', () => {
  const meta = withoutNames(ec2Tree(md, '2009-04-04')['meta-data']!) as Record<string, any>;
  assert.deepEqual(meta['public-keys'], { 0: { 'openssh-key': SAMPLE_KEY } });
  assert.deepEqual(meta.placement, { 'availability-zone': 'nova' });
  assert.deepEqual(meta['security-groups'], ['default', 'web']);
});
