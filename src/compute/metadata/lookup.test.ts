import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSON_TYPE, TEXT, lookupDocument, pathTokens } from './lookup.js';
import { sampleInstance } from './sample.js';
import { EC2_VERSIONS } from './versions.js';

const md = sampleInstance();
const get = (path: string, m = md): { text: string; type: string } | null => {
  const f = lookupDocument(m, path, {}, new Date('2026-01-01'));
  return f && { text: f.body.toString('utf8'), type: f.contentType };
};

test('paths are normalised as Nova does: trailing /, //, . and .. make no difference', () => {
  assert.deepEqual(pathTokens('/latest/meta-data/'), ['latest', 'meta-data']);
  assert.deepEqual(pathTokens('//latest/./meta-data/../meta-data'), ['latest', 'meta-data']);
  assert.deepEqual(pathTokens('/../../etc/passwd'), ['etc', 'passwd']);
  assert.equal(get('/latest/meta-data/')?.text, get('/latest/meta-data')?.text);
  assert.equal(get('/openstack/latest/meta_data.json/')?.type, JSON_TYPE);
});

test('the root and /ec2 list the EC2 versions; /openstack the OpenStack ones', () => {
  assert.equal(get('/')?.text, [...EC2_VERSIONS, 'latest'].join('\n'));
  assert.equal(get('/ec2')?.text, [...EC2_VERSIONS, 'latest'].join('\n'));
  assert.equal(get('/ec2/latest/meta-data/instance-id')?.text, 'i-0000002a');
  assert.equal(get('/openstack')?.text.split('\n').at(-1), 'latest');
  assert.ok(get('/openstack')?.text.startsWith('2012-08-10\n2013-04-04\n'));
});

test('OpenStack documents: JSON for .json, raw user data as text, an empty password, 404 for the rest', () => {
  const meta = get('/openstack/2018-08-27/meta_data.json');
  assert.equal(meta?.type, JSON_TYPE);
  assert.equal(JSON.parse(meta!.text).uuid, md.uuid);
  assert.equal(get('/openstack/latest/network_data.json')?.type, JSON_TYPE);
  assert.deepEqual(JSON.parse(get('/openstack/latest/vendor_data.json')!.text), {});
  assert.deepEqual(JSON.parse(get('/openstack/latest/vendor_data2.json')!.text), { static: {} });
  assert.deepEqual(get('/openstack/latest/user_data'), { text: '#!/bin/sh\necho hello from user data\n', type: TEXT });
  assert.deepEqual(get('/openstack/latest/password'), { text: '', type: TEXT });
  assert.equal(get('/openstack/latest/password', sampleInstance({ password: 'enc' }))?.text, 'enc');
  assert.equal(get('/openstack/latest/user_data', sampleInstance({ userData: null })), null);
  assert.equal(get('/openstack/2012-08-10/password'), null);
  assert.equal(get('/openstack/2012-08-10/vendor_data.json'), null);
  assert.equal(get('/openstack/2016-06-30/vendor_data2.json'), null);
  assert.equal(get('/openstack/2013-10-17/network_data.json'), null);
  assert.equal(get('/openstack/2099-01-01/meta_data.json'), null);
  assert.equal(get('/openstack/latest/meta_data.json/extra'), null);
  assert.equal(get('/openstack/latest/nope'), null);
  assert.equal(get('/openstack/latest')?.text, 'meta_data.json\nuser_data\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json');
});

test('EC2 paths: versions, leaves, user-data; hostile tokens are just not found', () => {
  assert.equal(get('/latest')?.text, 'meta-data/\nuser-data');
  assert.equal(get('/2009-04-04/meta-data/hostname')?.text, 'web-1.novalocal');
  assert.equal(get('/latest/user-data')?.text, '#!/bin/sh\necho hello from user data\n');
  assert.equal(get('/latest/user-data', sampleInstance({ userData: null })), null);
  assert.equal(get('/2010-01-01/meta-data'), null);
  for (const p of ['/latest/meta-data/\0', '/latest/meta-data/__proto__', '/latest/meta-data/toString', `/latest/${'a/'.repeat(5000)}`, '/etc/passwd']) {
    assert.equal(get(p), null, p.slice(0, 40));
  }
});
