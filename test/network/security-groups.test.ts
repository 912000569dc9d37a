// Security groups and rules over the wire (real HTTP to the network API), as Neutron behaves:
// the per-project default group, egress rules of new groups, the default group's protections,
// groups in use, rule checks and deduplication, visibility across projects, cascades on delete,
// the change signal the agents converge from, and hostile bodies (never a 5xx, no state change).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

let h: IdentityHarness;
let admin: string;
let demo: string;
let demoProject: string;
const changes: { kind: string; id: string }[] = [];

interface Reply { status: number; body: any }

async function call(method: string, path: string, token: string, body?: unknown, raw?: string): Promise<Reply> {
  const res = await fetch(`${h.networkUrl}${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json: any = text;
  try { json = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  return { status: res.status, body: json };
}
const ok = async (method: string, path: string, token: string, body?: unknown, status = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200) => {
  const r = await call(method, path, token, body);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
};
const fault = async (method: string, path: string, token: string, body: unknown, status: number, type?: string): Promise<string> => {
  const r = await call(method, path, token, body);
  assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body?.NeutronError?.message, 'string', JSON.stringify(r.body));
  if (type) assert.equal(r.body.NeutronError.type, type, r.body.NeutronError.message);
  return r.body.NeutronError.message as string;
};

const createGroup = async (token: string, attrs: Record<string, unknown> = {}) =>
  (await ok('POST', '/v2.0/security-groups', token, { security_group: { name: `sg-${randomUUID().slice(0, 8)}`, ...attrs } })).security_group;
const createRule = async (token: string, attrs: Record<string, unknown>) =>
  (await ok('POST', '/v2.0/security-group-rules', token, { security_group_rule: { direction: 'ingress', ...attrs } })).security_group_rule;
const showGroup = async (token: string, id: string) => (await ok('GET', `/v2.0/security-groups/${id}`, token)).security_group;
const defaultOf = async (token: string, query = '') =>
  ((await ok('GET', `/v2.0/security-groups?name=default${query}`, token)).security_groups as any[]);

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  h.cloud.network.ctx.onChange((c) => changes.push(c));
  demoProject = (await defaultOf(demo))[0].project_id;
});
after(async () => { await h?.close(); });

test('listing creates the project default group: egress anything, ingress from itself, once', async () => {
  const [d, ...more] = await defaultOf(demo);
  assert.equal(more.length, 0);
  assert.equal(d.name, 'default');
  assert.equal(d.description, 'Default security group');
  assert.equal(d.stateful, true);
  assert.equal(d.shared, false);
  const rules = d.security_group_rules as any[];
  assert.equal(rules.length, 4);
  for (const e of ['IPv4', 'IPv6']) {
    assert.ok(rules.some((r) => r.direction === 'egress' && r.ethertype === e && r.remote_group_id === null && r.protocol === null && r.remote_ip_prefix === null), `egress ${e}`);
    assert.ok(rules.some((r) => r.direction === 'ingress' && r.ethertype === e && r.remote_group_id === d.id), `ingress ${e} from the group`);
  }
  assert.ok(rules.every((r) => r.belongs_to_default_sg === true && r.security_group_id === d.id && r.project_id === demoProject));
  assert.equal((await defaultOf(demo)).length, 1, 'a second list does not add one');
  // The rules list also makes sure the default group exists, and a group's rules are listed by group.
  const listed = (await ok('GET', `/v2.0/security-group-rules?security_group_id=${d.id}`, demo)).security_group_rules as any[];
  assert.deepEqual(listed.map((r) => r.id).sort(), rules.map((r) => r.id).sort());
});

test('concurrent first lists of a new project make exactly one default group (admin asks for the project)', async () => {
  const project = randomUUID().replace(/-/g, '');
  const lists = await Promise.all(Array.from({ length: 6 }, () => call('GET', `/v2.0/security-groups?project_id=${project}`, admin)));
  for (const l of lists) assert.equal(l.status, 200, JSON.stringify(l.body));
  const groups = (await ok('GET', `/v2.0/security-groups?project_id=${project}`, admin)).security_groups as any[];
  assert.equal(groups.length, 1);
  assert.equal(groups[0].name, 'default');
  assert.equal(groups[0].security_group_rules.length, 4);
  // A non-admin naming another project creates nothing there.
  const other = randomUUID().replace(/-/g, '');
  assert.deepEqual((await ok('GET', `/v2.0/security-groups?project_id=${other}`, demo)).security_groups, []);
  assert.deepEqual((await ok('GET', `/v2.0/security-groups?project_id=${other}`, admin)).security_groups.length, 1);
});

test('group create/show/update/list/delete; new groups get the two egress rules; stateful', async () => {
  changes.length = 0;
  const g = await createGroup(demo, { description: 'web tier' });
  assert.equal(g.description, 'web tier');
  assert.equal(g.stateful, true);
  assert.equal(g.project_id, demoProject);
  assert.equal(g.tenant_id, demoProject);
  const rules = g.security_group_rules as any[];
  assert.deepEqual(rules.map((r) => `${r.direction}/${r.ethertype}/${r.protocol}/${r.remote_ip_prefix}/${r.remote_group_id}`).sort(),
    ['egress/IPv4/null/null/null', 'egress/IPv6/null/null/null']);
  assert.ok(rules.every((r) => r.belongs_to_default_sg === false));
  assert.ok(changes.some((c) => c.kind === 'security_group' && c.id === g.id), 'create signals the agents');

  const stateless = await createGroup(demo, { stateful: false });
  assert.equal(stateless.stateful, false);
  assert.equal((await showGroup(demo, stateless.id)).stateful, false);

  const up = (await ok('PUT', `/v2.0/security-groups/${g.id}`, demo, { security_group: { name: 'renamed', description: 'd2', stateful: false } })).security_group;
  assert.equal(up.name, 'renamed');
  assert.equal(up.description, 'd2');
  assert.equal(up.stateful, false);
  assert.ok(up.revision_number > g.revision_number);
  assert.equal(up.security_group_rules.length, 2, 'the rules are embedded in every view');
  const listed = (await ok('GET', '/v2.0/security-groups', demo)).security_groups as any[];
  assert.ok(listed.some((x) => x.id === g.id && x.name === 'renamed'));
  const fields = (await ok('GET', `/v2.0/security-groups?id=${g.id}&fields=id&fields=security_group_rules`, demo)).security_groups;
  assert.deepEqual(Object.keys(fields[0]).sort(), ['id', 'security_group_rules']);
  assert.equal(fields[0].security_group_rules.length, 2);

  changes.length = 0;
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);
  assert.ok(changes.some((c) => c.kind === 'security_group' && c.id === g.id), 'delete signals the agents');
  await fault('GET', `/v2.0/security-groups/${g.id}`, demo, undefined, 404, 'SecurityGroupNotFound');
  await fault('DELETE', `/v2.0/security-groups/${g.id}`, demo, undefined, 404, 'SecurityGroupNotFound');
  assert.equal((await ok('GET', `/v2.0/security-group-rules?security_group_id=${g.id}`, admin)).security_group_rules.length, 0, 'its rules went with it');
  await ok('DELETE', `/v2.0/security-groups/${stateless.id}`, demo);
});

test('nobody names a group "default"; the default group keeps its name and only an admin deletes it', async () => {
  for (const name of ['default', 'Default']) {
    await fault('POST', '/v2.0/security-groups', demo, { security_group: { name } }, 409, 'SecurityGroupDefaultAlreadyExists');
  }
  const g = await createGroup(demo);
  await fault('PUT', `/v2.0/security-groups/${g.id}`, demo, { security_group: { name: 'default' } }, 409, 'SecurityGroupDefaultAlreadyExists');
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);

  const [d] = await defaultOf(demo);
  await fault('PUT', `/v2.0/security-groups/${d.id}`, demo, { security_group: { name: 'mine' } }, 409, 'SecurityGroupCannotUpdateDefault');
  await fault('PUT', `/v2.0/security-groups/${d.id}`, admin, { security_group: { name: 'mine' } }, 409, 'SecurityGroupCannotUpdateDefault');
  const described = (await ok('PUT', `/v2.0/security-groups/${d.id}`, demo, { security_group: { description: 'ours' } })).security_group;
  assert.equal(described.description, 'ours');
  await fault('DELETE', `/v2.0/security-groups/${d.id}`, demo, undefined, 409, 'SecurityGroupCannotRemoveDefault');
  assert.equal((await showGroup(demo, d.id)).name, 'default');

  // An admin may delete another project's default group; the project's next list makes a new one.
  await ok('DELETE', `/v2.0/security-groups/${d.id}`, admin);
  await fault('GET', `/v2.0/security-groups/${d.id}`, demo, undefined, 404);
  const [again, ...extra] = await defaultOf(demo);
  assert.equal(extra.length, 0);
  assert.notEqual(again.id, d.id);
  assert.equal(again.security_group_rules.length, 4);
  assert.ok(again.security_group_rules.some((r: any) => r.remote_group_id === again.id), 'the new default group allows ingress from itself');
});

test('a group in use by a port is neither deleted nor made stateless; a port create makes the default group', async () => {
  const net = (await ok('POST', '/v2.0/networks', demo, { network: { name: `sg-net-${randomUUID().slice(0, 6)}` } })).network;
  const g = await createGroup(demo);
  const port = (await ok('POST', '/v2.0/ports', demo, { port: { network_id: net.id, security_groups: [g.id] } })).port;
  assert.deepEqual(port.security_groups, [g.id]);
  const msg = await fault('DELETE', `/v2.0/security-groups/${g.id}`, demo, undefined, 409, 'SecurityGroupInUse');
  assert.match(msg, new RegExp(`Security Group ${g.id} in use`));
  await fault('DELETE', `/v2.0/security-groups/${g.id}`, admin, undefined, 409, 'SecurityGroupInUse');
  await fault('PUT', `/v2.0/security-groups/${g.id}`, demo, { security_group: { stateful: false } }, 409, 'SecurityGroupInUse');
  // Unchanged statefulness and other attributes may still be set.
  await ok('PUT', `/v2.0/security-groups/${g.id}`, demo, { security_group: { stateful: true, description: 'in use' } });
  await ok('DELETE', `/v2.0/ports/${port.id}`, demo);
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);

  // An admin's port for a project that never listed groups gets that project's (new) default group.
  const fresh = randomUUID().replace(/-/g, '');
  const db = h.cloud.network.ctx.db;
  assert.equal(await db.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', fresh).executeTakeFirst(), undefined);
  const shared = (await ok('POST', '/v2.0/networks', admin, { network: { name: 'sg-shared', shared: true } })).network;
  const p2 = (await ok('POST', '/v2.0/ports', admin, { port: { network_id: shared.id, project_id: fresh } })).port;
  const row = await db.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', fresh).executeTakeFirst();
  assert.ok(row, 'the port create made the default group');
  assert.deepEqual(p2.security_groups, [row.security_group_id]);
  const made = (await ok('GET', `/v2.0/security-groups?project_id=${fresh}`, admin)).security_groups;
  assert.deepEqual(made.map((x: any) => [x.id, x.name]), [[row.security_group_id, 'default']]);
  await fault('DELETE', `/v2.0/security-groups/${row.security_group_id}`, admin, undefined, 409, 'SecurityGroupInUse');
  await ok('DELETE', `/v2.0/ports/${p2.id}`, admin);
  await ok('DELETE', `/v2.0/security-groups/${row.security_group_id}`, admin);
  await ok('DELETE', `/v2.0/networks/${shared.id}`, admin);
  await ok('DELETE', `/v2.0/networks/${net.id}`, demo);
});

test('rules: create, show, embedded in the group, revision bumped, list filters, delete', async () => {
  const g = await createGroup(demo);
  changes.length = 0;
  const r = await createRule(demo, { security_group_id: g.id, protocol: 'TCP', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.5/24', description: 'ssh' });
  assert.equal(r.protocol, 'tcp');
  assert.equal(r.ethertype, 'IPv4', 'IPv4 by default');
  assert.equal(r.remote_ip_prefix, '10.0.0.5/24');
  assert.equal(r.normalized_cidr, '10.0.0.0/24');
  assert.equal(r.description, 'ssh');
  assert.equal(r.remote_group_id, null);
  assert.equal(r.project_id, demoProject);
  assert.ok(changes.some((c) => c.kind === 'security_group' && c.id === g.id), 'a rule change signals its group');
  const shown = (await ok('GET', `/v2.0/security-group-rules/${r.id}`, demo)).security_group_rule;
  assert.deepEqual(shown, r);
  const after = await showGroup(demo, g.id);
  assert.ok(after.revision_number > g.revision_number, 'adding a rule revises the group');
  assert.ok(after.security_group_rules.some((x: any) => x.id === r.id));

  const n = await createRule(demo, { security_group_id: g.id, protocol: 17, port_range_min: 50, port_range_max: 55 });
  assert.equal(n.protocol, '17', 'numbers are kept as given, as strings');
  const host = await createRule(demo, { security_group_id: g.id, ethertype: 'ipv6', protocol: 'icmp', remote_ip_prefix: '2001:DB8::1' });
  assert.equal(host.ethertype, 'IPv6');
  assert.equal(host.protocol, 'ipv6-icmp', 'legacy IPv6 ICMP names are normalised');
  assert.equal(host.remote_ip_prefix, '2001:db8::1/128');
  const full = await createRule(demo, { security_group_id: g.id, protocol: 'udp', port_range_min: 1, port_range_max: 65535 });
  assert.equal(full.port_range_min, null, 'the whole range is no range');
  const icmp = await createRule(demo, { security_group_id: g.id, protocol: 'icmp', port_range_min: 11, port_range_max: null });
  assert.equal(icmp.port_range_min, 11);
  assert.equal(icmp.port_range_max, null);
  const any = await createRule(demo, { security_group_id: g.id, protocol: 'any', direction: 'ingress', remote_ip_prefix: '192.168.7.0/24' });
  assert.equal(any.protocol, null);

  const egress = (await ok('GET', `/v2.0/security-group-rules?security_group_id=${g.id}&direction=egress`, demo)).security_group_rules as any[];
  assert.equal(egress.length, 2);
  const tcp = (await ok('GET', `/v2.0/security-group-rules?security_group_id=${g.id}&protocol=tcp&fields=id`, demo)).security_group_rules;
  assert.deepEqual(tcp, [{ id: r.id }]);

  changes.length = 0;
  await ok('DELETE', `/v2.0/security-group-rules/${r.id}`, demo);
  assert.ok(changes.some((c) => c.kind === 'security_group' && c.id === g.id));
  await fault('GET', `/v2.0/security-group-rules/${r.id}`, demo, undefined, 404, 'SecurityGroupRuleNotFound');
  await fault('DELETE', `/v2.0/security-group-rules/${r.id}`, demo, undefined, 404, 'SecurityGroupRuleNotFound');
  assert.ok(!(await showGroup(demo, g.id)).security_group_rules.some((x: any) => x.id === r.id));
  await fault('PUT', `/v2.0/security-group-rules/${n.id}`, demo, { security_group_rule: {} }, 405);
  await fault('PUT', `/v2.0/security-group-rules/${n.id}`, demo, { security_group_rule: { protocol: 'udp' } }, 400);
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);
});

test('duplicate rules are refused with the existing rule id; name and number are one protocol; /0 is no prefix', async () => {
  const g = await createGroup(demo);
  const first = await createRule(demo, { security_group_id: g.id, protocol: 'tcp', port_range_min: 66, port_range_max: 67 });
  const msg = await fault('POST', '/v2.0/security-group-rules', demo, { security_group_rule: { security_group_id: g.id, direction: 'ingress', protocol: '6', port_range_min: 66, port_range_max: 67 } }, 409, 'SecurityGroupRuleExists');
  assert.equal(msg, `Security group rule already exists. Rule id is ${first.id}.`);
  const egress = g.security_group_rules.find((r: any) => r.direction === 'egress' && r.ethertype === 'IPv4');
  const m2 = await fault('POST', '/v2.0/security-group-rules', demo, { security_group_rule: { security_group_id: g.id, direction: 'egress', remote_ip_prefix: '0.0.0.0/0' } }, 409, 'SecurityGroupRuleExists');
  assert.match(m2, new RegExp(egress.id));
  // The same rule in another group, or another direction, is not a duplicate.
  const g2 = await createGroup(demo);
  await createRule(demo, { security_group_id: g2.id, protocol: 'tcp', port_range_min: 66, port_range_max: 67 });
  await createRule(demo, { security_group_id: g.id, direction: 'egress', protocol: 'tcp', port_range_min: 66, port_range_max: 67 });
  // Concurrent identical creates: exactly one wins.
  const racing = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/v2.0/security-group-rules', demo, { security_group_rule: { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 53, port_range_max: 53 } })));
  assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);
  await ok('DELETE', `/v2.0/security-groups/${g2.id}`, demo);
});

test('bulk rule create: all or nothing, one group, duplicates within the request refused', async () => {
  const g = await createGroup(demo);
  const g2 = await createGroup(demo);
  const bulk = (await ok('POST', '/v2.0/security-group-rules', demo, { security_group_rules: [
    { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
    { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 443, port_range_max: 443 },
  ] })).security_group_rules as any[];
  assert.equal(bulk.length, 2);
  assert.deepEqual(bulk.map((r) => r.port_range_min).sort(), [443, 80]);
  const count = async () => (await showGroup(demo, g.id)).security_group_rules.length;
  const before = await count();
  await fault('POST', '/v2.0/security-group-rules', demo, { security_group_rules: [
    { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 1000, port_range_max: 1000 },
    { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 1000, port_range_max: 1000 },
  ] }, 409, 'DuplicateSecurityGroupRuleInPost');
  await fault('POST', '/v2.0/security-group-rules', demo, { security_group_rules: [
    { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 1001, port_range_max: 1001 },
    { security_group_id: g2.id, direction: 'ingress', protocol: 'udp', port_range_min: 1001, port_range_max: 1001 },
  ] }, 400, 'SecurityGroupNotSingleGroupRules');
  await fault('POST', '/v2.0/security-group-rules', demo, { security_group_rules: [
    { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 1002, port_range_max: 1002 },
    { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
  ] }, 409, 'SecurityGroupRuleExists');
  await fault('POST', '/v2.0/security-group-rules', demo, { security_group_rules: [
    { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 1003, port_range_max: 1003 },
    { security_group_id: g.id, direction: 'ingress', protocol: 'udp', port_range_min: 9, port_range_max: 8 },
  ] }, 400, 'SecurityGroupInvalidPortRange');
  assert.equal(await count(), before, 'a refused bulk adds nothing');
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);
  await ok('DELETE', `/v2.0/security-groups/${g2.id}`, demo);
});

test('rule checks answer Neutron\'s 400s', async () => {
  const g = await createGroup(demo);
  const post = (attrs: Record<string, unknown>) => ({ security_group_rule: { security_group_id: g.id, direction: 'ingress', ...attrs } });
  const cases: [Record<string, unknown>, string, RegExp?][] = [
    [{ protocol: 'bad_protocol_name' }, 'SecurityGroupRuleInvalidProtocol'],
    [{ protocol: 256 }, 'SecurityGroupRuleInvalidProtocol'],
    [{ ethertype: 'bad_ethertype' }, 'SecurityGroupRuleInvalidEtherType'],
    [{ direction: 'sideways' }, 'HTTPBadRequest'],
    [{ direction: undefined }, 'HTTPBadRequest'],
    [{ protocol: 'tcp', remote_ip_prefix: '192.168.1./24' }, 'InvalidCIDR'],
    [{ protocol: 'tcp', remote_ip_prefix: '192.168.1.1/33' }, 'InvalidCIDR'],
    [{ protocol: 'tcp', remote_ip_prefix: 'bad_prefix' }, 'InvalidCIDR'],
    [{ protocol: 'tcp', remote_ip_prefix: '256' }, 'InvalidCIDR'],
    [{ protocol: 'tcp', port_range_min: -16, port_range_max: 80 }, 'SecurityGroupInvalidPortValue', /Invalid value for port -16/],
    [{ protocol: 'tcp', port_range_min: 80, port_range_max: 79 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max/],
    [{ protocol: 'tcp', port_range_min: 80, port_range_max: 65536 }, 'SecurityGroupInvalidPortValue', /Invalid value for port 65536/],
    [{ protocol: 'tcp', port_range_min: null, port_range_max: 6 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max/],
    [{ protocol: 'icmp', port_range_min: 1, port_range_max: 256 }, 'SecurityGroupInvalidIcmpValue', /Invalid value for ICMP code/],
    [{ protocol: 'icmp', port_range_min: -1, port_range_max: 25 }, 'SecurityGroupInvalidPortValue', /Invalid value/],
    [{ protocol: 'icmp', port_range_min: null, port_range_max: 6 }, 'SecurityGroupMissingIcmpType', /ICMP type \(port-range-min\) is missing/],
    [{ protocol: 'icmp', port_range_min: 300, port_range_max: 1 }, 'SecurityGroupInvalidIcmpValue', /Invalid value for ICMP type/],
    [{ protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 'SecurityGroupInvalidProtocolForPort'],
    [{ port_range_min: 1, port_range_max: 2 }, 'SecurityGroupProtocolRequiredWithPorts'],
    [{ ethertype: 'IPv6', protocol: 'tcp', remote_ip_prefix: '10.0.0.0/24' }, 'SecurityGroupRuleParameterConflict', /Conflicting value ethertype/],
    [{ ethertype: 'IPv4', protocol: 'tcp', remote_ip_prefix: '2001:db8::/64' }, 'SecurityGroupRuleParameterConflict', /Conflicting value ethertype/],
    [{ ethertype: 'IPv4', protocol: 'ipv6-icmp' }, 'SecurityGroupEthertypeConflictWithProtocol'],
    [{ protocol: 'tcp', remote_ip_prefix: '10.0.0.0/24', remote_group_id: g.id }, 'SecurityGroupMultipleRemoteEntites'],
    [{ protocol: 'tcp', id: randomUUID() }, 'HTTPBadRequest'],
    [{ normalized_cidr: '10.0.0.0/8' }, 'HTTPBadRequest'],
  ];
  for (const [attrs, type, msg] of cases) {
    const m = await fault('POST', '/v2.0/security-group-rules', demo, post(attrs), 400, type);
    if (msg) assert.match(m, msg);
  }
  assert.equal((await showGroup(demo, g.id)).security_group_rules.length, 2, 'no refused rule was stored');
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);
});

test('groups and remote groups of other projects are 404; admins may use any; owners see rules others added', async () => {
  const mine = await createGroup(demo);
  const theirs = await createGroup(admin);
  const post = (attrs: Record<string, unknown>) => ({ security_group_rule: { direction: 'ingress', protocol: 'tcp', ...attrs } });
  await fault('POST', '/v2.0/security-group-rules', demo, post({ security_group_id: theirs.id }), 404, 'SecurityGroupNotFound');
  await fault('POST', '/v2.0/security-group-rules', demo, post({ security_group_id: randomUUID() }), 404, 'SecurityGroupNotFound');
  await fault('POST', '/v2.0/security-group-rules', demo, post({ security_group_id: 'bad_group_id' }), 404, 'SecurityGroupNotFound');
  await fault('POST', '/v2.0/security-group-rules', demo, post({ security_group_id: mine.id, remote_group_id: theirs.id }), 404, 'SecurityGroupNotFound');
  await fault('POST', '/v2.0/security-group-rules', demo, post({ security_group_id: mine.id, remote_group_id: 'bad_group_id' }), 404, 'SecurityGroupNotFound');
  await fault('POST', '/v2.0/security-group-rules', demo, post({ security_group_id: mine.id, remote_address_group_id: randomUUID() }), 404, 'AddressGroupNotFound');
  await fault('GET', `/v2.0/security-groups/${theirs.id}`, demo, undefined, 404, 'SecurityGroupNotFound');
  await fault('PUT', `/v2.0/security-groups/${theirs.id}`, demo, { security_group: { name: 'x' } }, 404, 'SecurityGroupNotFound');
  await fault('DELETE', `/v2.0/security-groups/${theirs.id}`, demo, undefined, 404, 'SecurityGroupNotFound');
  const theirRule = theirs.security_group_rules[0];
  await fault('GET', `/v2.0/security-group-rules/${theirRule.id}`, demo, undefined, 404, 'SecurityGroupRuleNotFound');
  await fault('DELETE', `/v2.0/security-group-rules/${theirRule.id}`, demo, undefined, 404, 'SecurityGroupRuleNotFound');
  assert.ok(!(await ok('GET', '/v2.0/security-groups', demo)).security_groups.some((x: any) => x.id === theirs.id));
  assert.ok(!(await ok('GET', '/v2.0/security-group-rules', demo)).security_group_rules.some((x: any) => x.security_group_id === theirs.id));

  // A rule from the same group as remote is fine for the owner.
  const self = await createRule(demo, { security_group_id: mine.id, protocol: 'tcp', port_range_min: 5000, port_range_max: 5001, remote_group_id: mine.id });
  assert.equal(self.remote_group_id, mine.id);
  // An admin adds a rule (owned by the admin's project) to demo's group, with a remote group of another project.
  const added = await createRule(admin, { security_group_id: mine.id, protocol: 'tcp', port_range_min: 8080, port_range_max: 8080, remote_group_id: theirs.id });
  assert.notEqual(added.project_id, demoProject);
  assert.equal((await ok('GET', `/v2.0/security-group-rules/${added.id}`, demo)).security_group_rule.id, added.id, 'the group owner sees it');
  assert.ok((await ok('GET', '/v2.0/security-group-rules', demo)).security_group_rules.some((x: any) => x.id === added.id));
  assert.ok((await ok('GET', `/v2.0/security-group-rules?security_group_id=${mine.id}`, demo)).security_group_rules.some((x: any) => x.id === added.id));
  await ok('DELETE', `/v2.0/security-group-rules/${added.id}`, demo);

  // Deleting a group takes away every rule that names it as remote group, in any group.
  const again = await createRule(admin, { security_group_id: mine.id, protocol: 'tcp', port_range_min: 8081, port_range_max: 8081, remote_group_id: theirs.id });
  changes.length = 0;
  await ok('DELETE', `/v2.0/security-groups/${theirs.id}`, admin);
  await fault('GET', `/v2.0/security-group-rules/${again.id}`, admin, undefined, 404);
  assert.ok(changes.some((c) => c.id === mine.id), 'the group that lost a rule is signalled too');
  const left = (await showGroup(demo, mine.id)).security_group_rules as any[];
  assert.ok(left.every((r) => r.remote_group_id === null || r.remote_group_id === mine.id));
  await ok('DELETE', `/v2.0/security-groups/${mine.id}`, demo);
  assert.deepEqual((await ok('GET', `/v2.0/security-group-rules?remote_group_id=${mine.id}`, admin)).security_group_rules, []);
});

test('hostile bodies: never a 5xx, always a Neutron fault, nothing stored', async () => {
  const g = await createGroup(demo);
  const rule = await createRule(demo, { security_group_id: g.id, protocol: 'tcp', port_range_min: 1, port_range_max: 2 });
  const rows = async () => {
    const db = h.cloud.network.ctx.db;
    const n = async (t: string) => Number((await db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst() as { n: number }).n);
    return `${await n('net_security_group')}/${await n('net_security_group_rule')}/${await n('net_default_security_group')}/${JSON.stringify(await showGroup(demo, g.id))}`;
  };
  const snapshot = await rows();
  const values: unknown[] = [null, 12, -1, 1e300, 'x'.repeat(300), '', {}, [], [1], true, { a: 1 }, '\u0000', '☃', '%', "' OR 1=1 --", 'default', g.id];
  const raw = ['{bad json', '[]', 'null', '"s"', '7', '{}', '{"security_group": null}', '{"security_group": []}', '{"security_group_rule": "x"}',
    '{"security_group_rules": []}', '{"security_group_rules": [1, 2]}', '{"security_groups": [{"name": "default"}]}', '{"__proto__": {"x": 1}}',
    '{"security_group": {"__proto__": {"admin": true}}}'];
  const groupAttrs = ['name', 'description', 'stateful', 'tenant_id', 'project_id', 'security_group_rules', 'id', 'shared', 'tags', 'bogus'];
  const ruleAttrs = ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix',
    'remote_group_id', 'remote_address_group_id', 'description', 'tenant_id', 'project_id', 'belongs_to_default_sg', 'bogus'];
  const attempts: [string, string, string][] = [];
  for (const r of raw) {
    attempts.push(['POST', '/v2.0/security-groups', r], ['POST', '/v2.0/security-group-rules', r], ['PUT', `/v2.0/security-groups/${g.id}`, r], ['PUT', `/v2.0/security-group-rules/${rule.id}`, r]);
  }
  for (const v of values) {
    for (const a of groupAttrs) {
      // A refusal that comes after every other check: each hostile value is checked, nothing can be stored.
      const late = a === 'stateful' ? { name: 'default' } : { stateful: 'maybe' };
      attempts.push(['POST', '/v2.0/security-groups', JSON.stringify({ security_group: { name: 'h', [a]: v, ...late } })]);
      attempts.push(['PUT', `/v2.0/security-groups/${g.id}`, JSON.stringify({ security_group: { [a]: v, ...late } })]);
    }
    for (const a of ruleAttrs) {
      // Unknown groups are the last check (404), so every value goes through all the others first.
      const base = { security_group_id: a === 'remote_group_id' ? randomUUID() : g.id, direction: 'ingress', protocol: 'tcp', remote_group_id: randomUUID() };
      attempts.push(['POST', '/v2.0/security-group-rules', JSON.stringify({ security_group_rule: { ...base, [a]: v } })]);
      attempts.push(['POST', '/v2.0/security-group-rules', JSON.stringify({ security_group_rules: [{ ...base, [a]: v }, { ...base, protocol: 'udp' }] })]);
    }
  }
  for (const id of ['x'.repeat(300), '%00', '..%2F..', "'%20OR%201=1", randomUUID()]) {
    attempts.push(['GET', `/v2.0/security-groups/${id}`, ''], ['DELETE', `/v2.0/security-groups/${id}`, ''], ['GET', `/v2.0/security-group-rules/${id}`, ''],
      ['DELETE', `/v2.0/security-group-rules/${id}`, ''], ['PUT', `/v2.0/security-groups/${id}`, '{"security_group": {"name": "n"}}']);
  }
  for (const q of ['sort_key=bogus', 'limit=-1', 'limit=x', 'marker=nope', 'fields=%00', 'project_id=' + 'x'.repeat(300), 'security_group_id=' + 'y'.repeat(100), 'port_range_min=abc', 'sort_dir=sideways']) {
    attempts.push(['GET', `/v2.0/security-groups?${q}`, ''], ['GET', `/v2.0/security-group-rules?${q}`, '']);
  }
  const fivexx: string[] = [];
  for (const [method, path, body] of attempts) {
    const r = await call(method, path, demo, undefined, body === '' ? undefined : body);
    if (r.status >= 500) fivexx.push(`${method} ${path} ${body} → ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status >= 400) {
      assert.ok(r.body?.NeutronError || r.body?.error, `${method} ${path} ${body}: fault body ${JSON.stringify(r.body)}`);
    } else if (method !== 'GET') assert.fail(`${method} ${path} ${body} was accepted: ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.deepEqual(fivexx, []);
  assert.equal(await rows(), snapshot, 'no refused request changed anything');
  await ok('DELETE', `/v2.0/security-groups/${g.id}`, demo);
});
