import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glanceApiConf, glancePaths } from './glance-conf.js';

const input = { workdir: '/tmp/glance-x', port: 19292, keystoneUrl: 'http://127.0.0.1:35357/v3', servicePassword: 's3cret' };

test('glance-api.conf: file store, SQLite and staging inside the workdir, 2 workers on loopback', () => {
  const conf = glanceApiConf(input);
  assert.match(conf, /^bind_host = 127\.0\.0\.1\nbind_port = 19292\nworkers = 2$/m);
  assert.match(conf, /\[database\]\nconnection = sqlite:\/\/\/\/tmp\/glance-x\/glance\.db/);
  assert.match(conf, /\[glance_store\]\nstores = file\ndefault_store = file\nfilesystem_store_datadir = \/tmp\/glance-x\/images/);
  assert.match(conf, /^node_staging_uri = file:\/\/\/tmp\/glance-x\/staging$/m);
  assert.match(glanceApiConf({ ...input, workers: 4 }), /^workers = 4$/m);
  assert.doesNotMatch(conf, /\/var\/lib\/glance|\/etc\/glance\/glance-api\.conf/);
  assert.equal(glancePaths('/w').images, '/w/images');
});

test('glance-api.conf: keystone flavor with the glance service user of the peer', () => {
  const conf = glanceApiConf(input);
  assert.match(conf, /\[paste_deploy\]\nflavor = keystone\nconfig_file = \/etc\/glance\/glance-api-paste\.ini/);
  // keystonemiddleware wants the unversioned root and discovers v3 itself.
  assert.match(conf, /^auth_url = http:\/\/127\.0\.0\.1:35357$/m);
  assert.match(conf, /^www_authenticate_uri = http:\/\/127\.0\.0\.1:35357$/m);
  assert.match(conf, /^username = glance\npassword = s3cret$/m);
  assert.match(conf, /^project_name = service$/m);
});
