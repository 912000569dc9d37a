// Security groups under concurrency on PostgreSQL and MariaDB, where transactions really run at
// the same time (SQLite serialises them): first lists and first ports of a project race to make
// its default group and exactly one is made; identical rules racing into a group give one rule.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IdentityHarness } from '../lib/identity-harness.js';
import { testOnSharedEngines } from '../lib/databases.js';

async function races(h: IdentityHarness): Promise<void> {
  const token = await h.adminToken();
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${h.networkUrl}${url}`, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() as any };
  };
  const defaults = async (project: string) => (await call('GET', `/v2.0/security-groups?project_id=${project}&name=default`)).body.security_groups as any[];

  const listed = randomUUID().replace(/-/g, '');
  const lists = await Promise.all(Array.from({ length: 8 }, () => call('GET', `/v2.0/security-groups?project_id=${listed}`)));
  assert.ok(lists.every((l) => l.status === 200), JSON.stringify(lists.map((l) => l.body)));
  const [d, ...extra] = await defaults(listed);
  assert.equal(extra.length, 0, 'one default group');
  assert.equal(d.security_group_rules.length, 4);

  const net = (await call('POST', '/v2.0/networks', { network: { name: 'sg-race', shared: true } })).body.network;
  const ported = randomUUID().replace(/-/g, '');
  const ports = await Promise.all(Array.from({ length: 8 }, () => call('POST', '/v2.0/ports', { port: { network_id: net.id, project_id: ported } })));
  assert.ok(ports.every((p) => p.status === 201), JSON.stringify(ports.map((p) => p.body)));
  const groups = new Set(ports.map((p) => p.body.port.security_groups[0]));
  assert.equal(groups.size, 1, 'every port got the same default group');
  assert.deepEqual((await defaults(ported)).map((g) => g.id), [...groups]);

  const sg = (await call('POST', '/v2.0/security-groups', { security_group: { name: 'race' } })).body.security_group;
  const rule = { security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } };
  const rules = await Promise.all(Array.from({ length: 8 }, () => call('POST', '/v2.0/security-group-rules', rule)));
  assert.deepEqual(rules.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(rules.map((r) => r.body)));
  assert.ok(rules.filter((r) => r.status === 409).every((r) => r.body.NeutronError.type === 'SecurityGroupRuleExists'));
  const shown = (await call('GET', `/v2.0/security-groups/${sg.id}`)).body.security_group;
  assert.equal(shown.security_group_rules.length, 3, 'two egress rules and one ssh rule');
  assert.equal(shown.revision_number, sg.revision_number + 1, 'one rule added, one revision');

  for (const p of ports) assert.equal((await call('DELETE', `/v2.0/ports/${p.body.port.id}`)).status, 204);
  for (const g of [sg.id, d.id, ...groups]) assert.equal((await call('DELETE', `/v2.0/security-groups/${g}`)).status, 204);
  assert.equal((await call('DELETE', `/v2.0/networks/${net.id}`)).status, 204);
}

testOnSharedEngines((engine) => `security group races on ${engine}`, races);
