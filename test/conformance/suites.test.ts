import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readBaseline, baselineFor } from './baseline.js';
import { conformanceFile } from './repo-root.js';
import { parseTestList, SUITES } from './suites.js';

test('parseTestList drops comments and blank lines', () => {
  assert.deepEqual(parseTestList('# c\n\na.b.C.test_x[id-1]  # why\n  a.b.C.test_y\n'), ['a.b.C.test_x[id-1]', 'a.b.C.test_y']);
});

test('the identity subset: ~40 exact ids, all inside the full regex, spread over the test files', () => {
  const suite = SUITES.identity;
  assert.ok(suite?.subsetFile);
  const ids = parseTestList(readFileSync(conformanceFile(suite.subsetFile), 'utf8'));
  assert.ok(ids.length >= 35 && ids.length <= 50, `${ids.length} ids`);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
  const re = new RegExp(suite.regex);
  for (const id of ids) {
    assert.match(id, re);
    assert.match(id, /\[id-[0-9a-f-]{36}[^\]]*\]$/, `${id} is a full stestr id`);
  }
  const files = new Set(ids.map((id) => id.split('.').slice(0, -2).join('.')));
  assert.ok(files.size >= 30, `${files.size} test files covered`);
});

test('baseline.json has identity full/subset minimums', () => {
  const b = readBaseline(conformanceFile('baseline.json'));
  assert.equal(typeof baselineFor(b, 'identity', 'full'), 'number');
  assert.equal(typeof baselineFor(b, 'identity', 'subset'), 'number');
  assert.equal(baselineFor(b, 'nothing', 'full'), 0);
});

test('image runs whole (no subset list); network has a CI subset; the network regex takes admin and non-admin tests only', () => {
  assert.equal(SUITES.image?.subsetFile, undefined);
  const network = SUITES.network;
  assert.ok(network);
  assert.equal(network.subsetFile, 'network-subset.txt');
  const re = new RegExp(network.regex);
  assert.match('tempest.api.network.admin.test_quotas.QuotasTest.test_quotas[id-2390f766-836d-40ef-9aeb-e810d78207fb]', re);
  assert.match('tempest.api.network.test_ports.PortsTestJSON.test_show_port[id-c9a685bd-e83f-499c-939f-9f7863ca259f,smoke]', re);
  assert.doesNotMatch('tempest.scenario.test_network_basic_ops.TestNetworkBasicOps.test_network_basic_ops', re);
  assert.doesNotMatch('tempest.api.compute.admin.test_networks.NetworksTest.test_get_network', re);
});

test('compute: the whole tempest.api.compute suite; its CI subset is the foundation plus a few server classes, inside the regex', () => {
  const suite = SUITES.compute;
  assert.ok(suite?.subsetFile);
  assert.deepEqual(suite.alsoAvailable, ['image', 'network']);
  const ids = parseTestList(readFileSync(conformanceFile(suite.subsetFile), 'utf8'));
  const re = new RegExp(suite.regex);
  assert.ok(ids.length >= 200, `${ids.length} ids`);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
  for (const id of ids) assert.match(id, re);
  assert.ok(ids.some((id) => id.includes('.servers.test_server_actions.')), 'server actions on a real server are in CI');
  assert.match('tempest.api.compute.servers.test_create_server.ServersTestJSON.test_list_servers[id-9a438d88-10c6-4bcd-8b5b-5b6e25e1346f,smoke]', re);
  assert.doesNotMatch('tempest.api.network.test_ports.PortsTestJSON.test_list_ports[id-cf95b358-3e92-4a29-a148-52445e1ac50e]', re);
});
