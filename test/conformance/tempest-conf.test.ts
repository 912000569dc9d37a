import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderIni, tempestConfSections, writeTempestConf } from './tempest-conf.js';
import type { TempestConfOptions } from './tempest-conf.js';

const base: TempestConfOptions = {
  service: 'identity',
  workspace: '/tmp/ws',
  identityUri: 'http://127.0.0.1:5000/v3',
  admin: { username: 'admin', password: 'pw', projectName: 'admin', domainName: 'Default' },
};

test('identity: dynamic credentials, v3 only, every feature on, no other service', () => {
  const ini = tempestConfSections(base);
  assert.equal(ini.auth.use_dynamic_credentials, true);
  assert.equal(ini.auth.admin_password, 'pw');
  assert.equal(ini.identity.uri_v3, 'http://127.0.0.1:5000/v3');
  assert.equal(ini.identity.auth_version, 'v3');
  assert.equal(ini.identity.region, 'RegionOne');
  const f = ini['identity-feature-enabled'];
  assert.equal(f.api_v2, false);
  for (const k of ['api_v3', 'security_compliance', 'trust', 'application_credentials', 'access_rules', 'project_tags', 'domain_specific_drivers']) {
    assert.equal(f[k], true, k);
  }
  for (const flag of ['nova', 'glance', 'neutron', 'cinder', 'swift', 'horizon']) assert.equal(ini.service_available[flag], false, flag);
  assert.equal(ini.oslo_concurrency.lock_path, '/tmp/ws/tempest_lock');
});

test('feature overrides and extra options are applied; other services can be made available', () => {
  const ini = tempestConfSections({
    ...base,
    service: 'compute',
    alsoAvailable: ['image', 'network'],
    features: { resize: false },
    extra: { identity: { user_lockout_duration: 5 } },
  });
  assert.equal(ini['compute-feature-enabled'].resize, false);
  assert.equal(ini.identity.user_lockout_duration, 5);
  assert.equal(ini.identity.uri_v3, base.identityUri, 'extra merges into a section');
  assert.deepEqual([ini.service_available.nova, ini.service_available.glance, ini.service_available.neutron, ini.service_available.cinder], [true, true, true, false]);
  assert.equal(ini.auth.create_isolated_networks, true);
});

test('network under test: neutron on, [network] blocks and the cloud\'s own extension list', () => {
  const ini = tempestConfSections({
    ...base,
    service: 'network',
    network: { publicNetworkId: 'b3c9e1d2-0000-4000-8000-000000000001', floatingNetworkName: 'public', apiExtensions: ['router', 'port-security', 'security-group'] },
  });
  assert.equal(ini.service_available.neutron, true);
  for (const flag of ['nova', 'glance', 'cinder', 'swift']) assert.equal(ini.service_available[flag], false, flag);
  assert.equal(ini.auth.create_isolated_networks, true);
  assert.equal(ini.network.project_network_cidr, '10.100.0.0/16');
  assert.equal(ini.network.project_network_mask_bits, 28);
  assert.equal(ini.network.project_network_v6_mask_bits, 64);
  assert.equal(ini.network.public_network_id, 'b3c9e1d2-0000-4000-8000-000000000001');
  assert.equal(ini.network.floating_network_name, 'public');
  const f = ini['network-feature-enabled'];
  assert.equal(f.api_extensions, 'router,port-security,security-group');
  assert.equal(f.port_security, true);
  assert.equal(f.ipv6, true);
  assert.equal(f.ipv6_subnet_attributes, true);
});

test('network: an empty extension list is written (all disabled); none known leaves tempest\'s default; overrides win', () => {
  const empty = tempestConfSections({ ...base, service: 'network', network: { apiExtensions: [] } });
  assert.equal(empty['network-feature-enabled'].api_extensions, '');
  assert.equal(empty['network-feature-enabled'].port_security, false);
  assert.equal('public_network_id' in empty.network, false, 'no external network → option left unset');
  const unknown = tempestConfSections({ ...base, service: 'network' });
  assert.equal('api_extensions' in unknown['network-feature-enabled'], false);
  const over = tempestConfSections({
    ...base,
    service: 'network',
    network: { apiExtensions: ['router'] },
    features: { ipv6_subnet_attributes: false },
    extra: { 'network-feature-enabled': { api_extensions: 'all' } },
  });
  assert.equal(over['network-feature-enabled'].ipv6_subnet_attributes, false);
  assert.equal(over['network-feature-enabled'].api_extensions, 'all');
  assert.throws(() => tempestConfSections({ ...base, service: 'network', network: { apiExtensions: ['ok', 'bad,alias'] } }), /bad,alias/);
});

test('network facts are ignored unless neutron is available; other suites get the sections when it is', () => {
  const identity = tempestConfSections({ ...base, network: { apiExtensions: ['router'] } });
  assert.equal(identity.network, undefined);
  assert.equal(identity['network-feature-enabled'], undefined);
  const image = tempestConfSections({ ...base, service: 'image', alsoAvailable: ['network'], network: { apiExtensions: ['router'] } });
  assert.equal(image.service_available.neutron, true);
  assert.equal(image['network-feature-enabled'].api_extensions, 'router');
  assert.equal(image['image-feature-enabled'].api_v2, true);
});

test('renderIni writes sections and refuses values with newlines', () => {
  assert.equal(renderIni({ a: { x: 1, y: true } }), '[a]\nx = 1\ny = true\n');
  assert.throws(() => renderIni({ a: { x: 'one\n[evil]' } }), /newline/);
});

test('writeTempestConf writes the rendered file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tempest-conf-'));
  try {
    const path = join(dir, 'tempest.conf');
    const text = writeTempestConf(path, { ...base, features: { security_compliance: false } });
    assert.equal(readFileSync(path, 'utf8'), text);
    assert.match(text, /\[identity-feature-enabled\][^[]*security_compliance = false/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
