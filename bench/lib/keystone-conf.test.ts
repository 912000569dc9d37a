import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keystoneConf, keystonePaths, sqliteShimModule, uwsgiIni } from './keystone-conf.js';

const input = { workdir: '/tmp/peer-x', port: 35357, memcachedPort: 41000, passwordHash: { algorithm: 'bcrypt' as const, rounds: 6 } };

test('keystone.conf keeps all state in the workdir and sets hashing, fernet and cache', () => {
  const conf = keystoneConf(input);
  assert.match(conf, /connection = sqlite:\/\/\/\/tmp\/peer-x\/keystone\.db/);
  assert.match(conf, /\[token\]\nprovider = fernet/);
  assert.match(conf, /\[fernet_tokens\]\nkey_repository = \/tmp\/peer-x\/fernet-keys/);
  assert.match(conf, /\[fernet_receipts\]\nkey_repository = \/tmp\/peer-x\/fernet-keys/);
  assert.match(conf, /password_hash_algorithm = bcrypt\npassword_hash_rounds = 6/);
  assert.match(conf, /\[cache\]\nenabled = true\nbackend = oslo_cache\.memcache_pool\nmemcache_servers = 127\.0\.0\.1:41000/);
  assert.doesNotMatch(conf, /\/etc\/keystone/);
  for (const line of conf.split('\n').filter((l) => l.includes('/'))) assert.match(line, /\/tmp\/peer-x\//, line);
  assert.match(keystoneConf({ ...input, memcachedPort: undefined }), /\[cache\]\nenabled = false/);
});

test('uwsgi.ini: http router with the http plugin, 2 workers, keystone-wsgi-public, own config', () => {
  const ini = uwsgiIni(input);
  assert.match(ini, /^plugins = python3,http$/m);
  assert.match(ini, /^http = 127\.0\.0\.1:35357$/m);
  assert.doesNotMatch(ini, /http-socket/);
  assert.match(ini, /^processes = 2$/m);
  assert.match(ini, /^wsgi-file = \/usr\/bin\/keystone-wsgi-public$/m);
  assert.match(ini, /^env = OS_KEYSTONE_CONFIG_FILES=\/tmp\/peer-x\/keystone\.conf$/m);
  assert.match(ini, /^import = peer_sqlite_shim$/m);
  assert.equal(keystonePaths('/w').shimModule, '/w/peer_sqlite_shim.py');
});

test('the SQLite shim only retries lock errors and wraps the public app factory', () => {
  const py = sqliteShimModule();
  assert.match(py, /locked = "database is locked" in str\(exc\)/);
  assert.match(py, /if not locked or _request\.committed_writes or attempt == _ATTEMPTS - 1:/);
  assert.match(py, /_ks_wsgi\.initialize_public_application = initialize_public_application/);
});
