import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ml2Conf, neutronConf, parseMariadbUrl, peerResourceName, rabbitTransportUrl, sqlalchemyUrl } from './neutron-conf.js';

/** `section.key` → value of an INI text (the last assignment wins, as in oslo.config). */
function ini(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    const head = /^\[(.+)\]$/.exec(line);
    if (head) section = head[1];
    const kv = /^([\w.]+) = (.*)$/.exec(line);
    if (kv) out.set(`${section}.${kv[1]}`, kv[2]);
  }
  return out;
}

test('neutron.conf: API only on loopback, ML2 + router, keystone against the identity root, experimental linuxbridge', () => {
  const conf = ini(
    neutronConf({
      workdir: '/tmp/w',
      port: 19696,
      databaseUrl: 'mysql+pymysql://root@127.0.0.1:3306/db',
      transportUrl: 'rabbit://guest:guest@127.0.0.1:5672/v',
      identityUrl: 'http://127.0.0.1:5000/v3',
      serviceUser: 'nephos-bench-neutron-1',
      servicePassword: 'pw',
    }),
  );
  assert.equal(conf.get('DEFAULT.bind_host'), '127.0.0.1');
  assert.equal(conf.get('DEFAULT.bind_port'), '19696');
  assert.equal(conf.get('DEFAULT.api_workers'), '2');
  assert.equal(conf.get('DEFAULT.core_plugin'), 'ml2');
  assert.equal(conf.get('DEFAULT.service_plugins'), 'router');
  assert.equal(conf.get('DEFAULT.auth_strategy'), 'keystone');
  assert.equal(conf.get('DEFAULT.state_path'), '/tmp/w/state');
  assert.equal(conf.get('DEFAULT.notify_nova_on_port_status_changes'), 'false');
  assert.equal(conf.get('keystone_authtoken.auth_url'), 'http://127.0.0.1:5000');
  assert.equal(conf.get('keystone_authtoken.username'), 'nephos-bench-neutron-1');
  assert.equal(conf.get('experimental.linuxbridge'), 'true');
  assert.equal(conf.get('database.connection'), 'mysql+pymysql://root@127.0.0.1:3306/db');
  assert.equal(conf.get('oslo_concurrency.lock_path'), '/tmp/w/locks');
});

test('ml2_conf.ini: flat and vxlan, vxlan tenant networks, linuxbridge', () => {
  const conf = ini(ml2Conf());
  assert.equal(conf.get('ml2.type_drivers'), 'flat,vxlan');
  assert.equal(conf.get('ml2.tenant_network_types'), 'vxlan');
  assert.equal(conf.get('ml2.mechanism_drivers'), 'linuxbridge');
  assert.match(conf.get('ml2_type_vxlan.vni_ranges') ?? '', /^1:\d+$/);
});

test('MariaDB URL → server facts → SQLAlchemy URL, credentials escaped', () => {
  const plain = parseMariadbUrl('mysql://root@127.0.0.1:3306');
  assert.deepEqual(plain, { host: '127.0.0.1', port: 3306, user: 'root', password: '' });
  assert.equal(sqlalchemyUrl(plain, 'nephos_bench_neutron_7'), 'mysql+pymysql://root@127.0.0.1:3306/nephos_bench_neutron_7');
  const secret = parseMariadbUrl('mariadb://bench:p%40ss%2Fw@db.local');
  assert.deepEqual(secret, { host: 'db.local', port: 3306, user: 'bench', password: 'p@ss/w' });
  assert.equal(sqlalchemyUrl(secret, 'x'), 'mysql+pymysql://bench:p%40ss%2Fw@db.local:3306/x');
  assert.throws(() => parseMariadbUrl('postgres://u@h/db'), /mysql:\/\//);
});

test('peer resource names are SQL- and argv-safe; the transport URL names the vhost', () => {
  assert.equal(peerResourceName(1234), 'nephos_bench_neutron_1234');
  assert.throws(() => peerResourceName('x; DROP DATABASE y'), /unsafe/);
  assert.throws(() => peerResourceName('A'), /unsafe/);
  assert.equal(rabbitTransportUrl('nephos_bench_neutron_1'), 'rabbit://guest:guest@127.0.0.1:5672/nephos_bench_neutron_1');
});
