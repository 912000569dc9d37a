import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogEndpoint, extensionAliases, pickPublicNetwork, probeCloud } from './cloud-probe.js';
import type { CatalogEntry } from './cloud-probe.js';
import { startIdentity } from '../lib/identity-harness.js';
import { EXTENSIONS } from '../../src/network/extensions.js';

const catalog: CatalogEntry[] = [
  { type: 'identity', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://h:5000/v3' }] },
  {
    type: 'network',
    endpoints: [
      { interface: 'internal', region_id: 'RegionOne', url: 'http://internal:9696' },
      { interface: 'public', region_id: 'RegionTwo', url: 'http://two:9696/' },
      { interface: 'public', region_id: 'RegionOne', url: 'http://one:9696/' },
    ],
  },
];

test('catalogEndpoint: the public endpoint of the region, trailing slash dropped; any region as a fallback', () => {
  assert.equal(catalogEndpoint(catalog, 'network', 'RegionOne'), 'http://one:9696');
  assert.equal(catalogEndpoint(catalog, 'network', 'Elsewhere'), 'http://two:9696');
  assert.equal(catalogEndpoint(catalog, 'network', 'RegionOne', 'internal'), 'http://internal:9696');
  assert.equal(catalogEndpoint(catalog, 'compute', 'RegionOne'), undefined);
  assert.equal(catalogEndpoint([{ type: 'network', endpoints: [{ interface: 'admin', url: 'http://a' }] }], 'network'), undefined);
});

test('pickPublicNetwork prefers the external network named public, else the first external one', () => {
  const nets = [
    { id: 'a', name: 'private', 'router:external': false },
    { id: 'b', name: 'ext1', 'router:external': true },
    { id: 'c', name: 'public', 'router:external': true },
  ];
  assert.deepEqual(pickPublicNetwork(nets), { id: 'c', name: 'public' });
  assert.deepEqual(pickPublicNetwork(nets.slice(0, 2)), { id: 'b', name: 'ext1' });
  assert.equal(pickPublicNetwork([{ id: 'p', name: 'public' }]), undefined, 'a network is external only when it says so');
  assert.equal(pickPublicNetwork([]), undefined);
});

test('extensionAliases: sorted, de-duplicated; a body without a list or an alias is an error', () => {
  assert.deepEqual(extensionAliases({ extensions: [{ alias: 'router' }, { alias: 'agent' }, { alias: 'router' }] }), ['agent', 'router']);
  assert.deepEqual(extensionAliases({ extensions: [] }), []);
  assert.throws(() => extensionAliases({}), /no "extensions" list/);
  assert.throws(() => extensionAliases({ extensions: [{ name: 'x' }] }), /no alias/);
});

test('probeCloud against an all-in-one: catalog services, the advertised extensions and the external network', async () => {
  const h = await startIdentity();
  try {
    const token = await h.adminToken();
    const created = await fetch(`${h.networkUrl}/v2.0/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      body: JSON.stringify({ network: { name: 'public', 'router:external': true } }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const listed = await fetch(`${h.networkUrl}/v2.0/networks?router%3Aexternal=true`, { headers: { 'x-auth-token': token } });
    const publicIds = ((await listed.json()) as { networks: { id: string; name: string }[] }).networks.filter((n) => n.name === 'public').map((n) => n.id);

    const facts = await probeCloud({
      identityUri: `${h.url}/v3`,
      admin: { username: 'admin', password: h.adminPassword, projectName: 'admin', domainName: 'Default' },
      region: 'RegionOne',
    });
    for (const s of ['identity', 'image', 'network']) assert.ok(facts.services.includes(s), `${s} in ${facts.services.join(',')}`);
    assert.equal(facts.networkUrl, h.networkUrl);
    assert.deepEqual(facts.networkExtensions, EXTENSIONS.map((e) => e.alias).sort());
    assert.equal(facts.publicNetwork?.name, 'public');
    assert.ok(publicIds.includes(facts.publicNetwork.id));

    await assert.rejects(
      probeCloud({ identityUri: `${h.url}/v3`, admin: { username: 'admin', password: 'wrong', projectName: 'admin', domainName: 'Default' } }),
      /auth\/tokens: HTTP 401/,
    );
  } finally {
    await h.close();
  }
});
