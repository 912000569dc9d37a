// Nova's network proxy APIs over HTTP on a cloud with the network service and a simulated
// (`fake`) compute host: /os-security-groups and /os-security-group-rules, a server's groups
// (/servers/{id}/os-security-groups), /os-floating-ips and /os-floating-ip-pools with
// addFloatingIp/removeFloatingIp, /os-networks and /os-tenant-networks. Shapes are checked key by
// key against what tempest's response schemas allow (no extra keys), what was done is checked on
// the network service's own API, and each refusal against Nova's status and wording; from
// microversion 2.36 (2.44 for the floating IP actions) the proxies answer 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startFakeCompute, until, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
before(async () => { c = await startFakeCompute([`fake-${process.pid}-px`]); });
after(async () => { await c?.close(); });

const OLD = { version: '2.35' };
const NEW = { version: '2.36' };

/** A network service call with a token (what the proxies did, seen from the other side). */
async function neutron(method: string, path: string, token: string, body?: unknown): Promise<any> {
  const res = await fetch(`${c.h.networkUrl}${path}`, {
    method, headers: { 'x-auth-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const GROUP_KEYS = ['description', 'id', 'name', 'rules', 'tenant_id'];
const RULE_KEYS = ['from_port', 'group', 'id', 'ip_protocol', 'ip_range', 'parent_group_id', 'to_port'];
const FIP_KEYS = ['fixed_ip', 'id', 'instance_id', 'ip', 'pool'];
const keys = (o: object) => Object.keys(o).sort();

function checkGroup(g: any): void {
  assert.deepEqual(keys(g), GROUP_KEYS, JSON.stringify(g));
  assert.equal(typeof g.name, 'string');
  assert.equal(typeof g.description, 'string');
  for (const r of g.rules) {
    assert.deepEqual(keys(r), RULE_KEYS, JSON.stringify(r));
    assert.equal(r.parent_group_id, g.id);
    assert.ok(Object.keys(r.group).every((k) => ['name', 'tenant_id'].includes(k)));
    assert.ok(Object.keys(r.ip_range).every((k) => k === 'cidr'));
  }
}

const createGroup = async (token: string, name: string, description = 'made by the proxies test'): Promise<any> => {
  const g = (await c.api.ok('POST', '/v2.1/os-security-groups', token, { security_group: { name, description } }, 200, OLD)).security_group;
  checkGroup(g);
  return g;
};
const addRule = (token: string, rule: Record<string, unknown>, status = 200) =>
  status === 200
    ? c.api.ok('POST', '/v2.1/os-security-group-rules', token, { security_group_rule: rule }, 200, OLD).then((b) => b.security_group_rule)
    : c.api.fault('POST', '/v2.1/os-security-group-rules', token, { security_group_rule: rule }, status, OLD);

test('security groups: gone from 2.36; list, create, show, update, delete in Nova form, on the network service with the caller project', async () => {
  for (const [m, p] of [['GET', '/v2.1/os-security-groups'], ['POST', '/v2.1/os-security-groups'], ['GET', `/v2.1/os-security-groups/${randomUUID()}`],
    ['DELETE', `/v2.1/os-security-groups/${randomUUID()}`], ['POST', '/v2.1/os-security-group-rules'], ['DELETE', `/v2.1/os-security-group-rules/${randomUUID()}`]] as const) {
    const body = m === 'POST' ? (p.endsWith('rules') ? { security_group_rule: { parent_group_id: randomUUID() } } : { security_group: { name: 'x', description: '' } }) : undefined;
    assert.equal(await c.api.fault(m, p, c.demo, body, 404, NEW), 'The resource could not be found.', `${m} ${p}`);
  }

  // The project's default group (the network service makes it on first need), with its rules from members of itself.
  const list = (await c.api.ok('GET', '/v2.1/os-security-groups', c.demo, undefined, 200, OLD)).security_groups;
  list.forEach(checkGroup);
  const dflt = list.find((g: any) => g.name === 'default');
  assert.ok(dflt, JSON.stringify(list));
  assert.equal(dflt.tenant_id, c.demoProject);
  assert.ok(dflt.rules.length >= 1);
  for (const r of dflt.rules) {
    assert.deepEqual(r.group, { name: 'default', tenant_id: c.demoProject });
    assert.deepEqual(r.ip_range, {});
    assert.equal(r.ip_protocol, null);
  }

  // Create: names keep their spaces; egress rules are not shown; it is the demo project's in the network service.
  const g = await createGroup(c.demo, ' proxy sg one ', 'first');
  assert.equal(g.name, ' proxy sg one ');
  assert.equal(g.description, 'first');
  assert.equal(g.tenant_id, c.demoProject);
  assert.deepEqual(g.rules, []);
  const ng = (await neutron('GET', `/v2.0/security-groups/${g.id}`, c.admin)).security_group;
  assert.equal(ng.project_id, c.demoProject);
  assert.ok(ng.security_group_rules.every((r: any) => r.direction === 'egress'), 'a new group has only egress rules');
  const shown = (await c.api.ok('GET', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, 200, OLD)).security_group;
  assert.deepEqual(shown, g);
  const again = (await c.api.ok('GET', '/v2.1/os-security-groups', c.demo, undefined, 200, OLD)).security_groups;
  assert.deepEqual(again.find((x: any) => x.id === g.id), g);
  // Sorted by project, then name.
  const names = again.map((x: any) => `${x.tenant_id}/${x.name}`);
  assert.deepEqual(names, [...names].sort());
  // The project-id and legacy URL forms serve it too.
  assert.equal((await c.api.ok('GET', `/v2.1/${c.demoProject}/os-security-groups/${g.id}`, c.demo)).security_group.id, g.id);
  assert.equal((await c.api.ok('GET', `/v2/os-security-groups/${g.id}`, c.demo)).security_group.id, g.id);

  // Bad bodies and ids.
  await c.api.fault('POST', '/v2.1/os-security-groups', c.demo, { security_group: { name: 'no-description' } }, 400, OLD);
  await c.api.fault('POST', '/v2.1/os-security-groups', c.demo, { security_group: { name: 'x'.repeat(256), description: '' } }, 400, OLD);
  await c.api.fault('POST', '/v2.1/os-security-groups', c.demo, { security_group: { name: 7, description: '' } }, 400, OLD);
  await c.api.fault('POST', '/v2.1/os-security-groups', c.demo, { group: {} }, 400, OLD);
  // The network service keeps the name `default` for the project's own group: Nova's SecurityGroupLimitExceeded (403).
  await c.api.fault('POST', '/v2.1/os-security-groups', c.demo, { security_group: { name: 'default', description: '' } }, 403, OLD);
  assert.equal(await c.api.fault('GET', '/v2.1/os-security-groups/not-a-uuid', c.demo, undefined, 400, OLD), 'Security group id should be uuid');
  await c.api.fault('GET', `/v2.1/os-security-groups/${randomUUID()}`, c.demo, undefined, 404, OLD);
  await c.api.fault('DELETE', `/v2.1/os-security-groups/${randomUUID()}`, c.demo, undefined, 404, OLD);
  await c.api.fault('PUT', `/v2.1/os-security-groups/${randomUUID()}`, c.demo, { security_group: { name: 'n', description: 'd' } }, 404, OLD);
  // Another project's group is not found for a member.
  const theirs = await createGroup(c.admin, `admin-sg-${process.pid}`);
  await c.api.fault('GET', `/v2.1/os-security-groups/${theirs.id}`, c.demo, undefined, 404, OLD);
  await c.api.fault('DELETE', `/v2.1/os-security-groups/${theirs.id}`, c.demo, undefined, 404, OLD);

  // Update (both fields, as Nova's schema wants).
  await c.api.fault('PUT', `/v2.1/os-security-groups/${g.id}`, c.demo, { security_group: { name: 'only-name' } }, 400, OLD);
  const upd = (await c.api.ok('PUT', `/v2.1/os-security-groups/${g.id}`, c.demo, { security_group: { name: 'proxy-sg-renamed', description: 'second' } }, 200, OLD)).security_group;
  checkGroup(upd);
  assert.equal(upd.name, 'proxy-sg-renamed');
  const after2 = (await c.api.ok('GET', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, 200, OLD)).security_group;
  assert.equal(after2.name, 'proxy-sg-renamed');
  assert.equal(after2.description, 'second');
  // Renaming the default group is refused by the network service: 400 here.
  await c.api.fault('PUT', `/v2.1/os-security-groups/${dflt.id}`, c.demo, { security_group: { name: 'not-default', description: '' } }, 400, OLD);

  // all_tenants: an admin sees every project's groups with it (any value), a member only its own anyway.
  const adminAll = (await c.api.ok('GET', '/v2.1/os-security-groups?all_tenants=true', c.admin, undefined, 200, OLD)).security_groups.map((x: any) => x.id);
  assert.ok(adminAll.includes(g.id) && adminAll.includes(theirs.id));
  const adminOwn = (await c.api.ok('GET', '/v2.1/os-security-groups', c.admin, undefined, 200, OLD)).security_groups.map((x: any) => x.id);
  assert.ok(adminOwn.includes(theirs.id) && !adminOwn.includes(g.id));
  const demoAll = (await c.api.ok('GET', '/v2.1/os-security-groups?all_tenants=1', c.demo, undefined, 200, OLD)).security_groups.map((x: any) => x.id);
  assert.ok(demoAll.includes(g.id) && !demoAll.includes(theirs.id));

  // limit/offset page before the sort.
  const total = again.length;
  assert.ok(total >= 2);
  assert.equal((await c.api.ok('GET', '/v2.1/os-security-groups?limit=1', c.demo, undefined, 200, OLD)).security_groups.length, 1);
  assert.equal((await c.api.ok('GET', `/v2.1/os-security-groups?offset=1`, c.demo, undefined, 200, OLD)).security_groups.length, total - 1);
  assert.equal((await c.api.ok('GET', `/v2.1/os-security-groups?offset=${total}`, c.demo, undefined, 200, OLD)).security_groups.length, 0);
  assert.match(await c.api.fault('GET', '/v2.1/os-security-groups?limit=-1', c.demo, undefined, 400, OLD), /^Invalid input for query parameters limit/);
  await c.api.fault('GET', '/v2.1/os-security-groups?offset=x', c.demo, undefined, 400, OLD);

  // The default group cannot go (the network service's 409 is Nova's 400); others go with 202 and are gone.
  await c.api.fault('DELETE', `/v2.1/os-security-groups/${dflt.id}`, c.demo, undefined, 400, OLD);
  const del = await c.api.call('DELETE', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, OLD);
  assert.equal(del.status, 202, del.text);
  assert.equal(del.text, '');
  await c.api.fault('GET', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, 404, OLD);
  assert.equal((await c.api.call('DELETE', `/v2.1/os-security-groups/${theirs.id}`, c.admin, undefined, OLD)).status, 202);
});

test('security group rules: tcp/udp/icmp and group rules in Nova form, duplicates and bad ranges refused, deletion', async () => {
  const g = await createGroup(c.demo, `rules-${process.pid}`);
  const peer = await createGroup(c.demo, `peer-${process.pid}`);

  const tcp = await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22 });
  assert.deepEqual(keys(tcp), RULE_KEYS);
  assert.deepEqual({ ...tcp, id: 'x' }, { id: 'x', parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, group: {}, ip_range: { cidr: '0.0.0.0/0' } });
  const dup = await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22 }, 400);
  assert.equal(dup, `This rule already exists in group ${g.id}`);
  // Ports as strings are integers to Nova too; a CIDR of its own.
  const cidr = await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'udp', from_port: '5000', to_port: '5010', cidr: '10.2.3.124/24' });
  assert.deepEqual([cidr.from_port, cidr.to_port, cidr.ip_range], [5000, 5010, { cidr: '10.2.3.124/24' }]);
  const icmp = await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'icmp', from_port: -1, to_port: -1 });
  assert.deepEqual([icmp.ip_protocol, icmp.from_port, icmp.to_port], ['icmp', -1, -1]);
  // A source group: every port when none are given; the group's name and project instead of a range.
  const fromPeer = await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'tcp', group_id: peer.id });
  assert.deepEqual([fromPeer.from_port, fromPeer.to_port, fromPeer.group, fromPeer.ip_range], [1, 65535, { name: peer.name, tenant_id: c.demoProject }, {}]);
  const v6 = await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 443, to_port: 443, cidr: '2001:db8::/32' });
  assert.deepEqual(v6.ip_range, { cidr: '2001:db8::/32' });

  // What the network service holds.
  const held = (await neutron('GET', `/v2.0/security-group-rules?security_group_id=${g.id}`, c.demo)).security_group_rules as any[];
  const byId = new Map(held.map((r) => [r.id, r]));
  assert.deepEqual([byId.get(tcp.id).direction, byId.get(tcp.id).port_range_min, byId.get(tcp.id).port_range_max, byId.get(tcp.id).ethertype], ['ingress', 22, 22, 'IPv4']);
  assert.deepEqual([byId.get(icmp.id).port_range_min, byId.get(icmp.id).port_range_max], [null, null]);
  assert.equal(byId.get(fromPeer.id).remote_group_id, peer.id);
  assert.equal(byId.get(v6.id).ethertype, 'IPv6');
  assert.equal(byId.get(cidr.id).project_id, c.demoProject);

  // The group shows its ingress rules.
  const shown = (await c.api.ok('GET', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, 200, OLD)).security_group;
  checkGroup(shown);
  assert.deepEqual(shown.rules.map((r: any) => r.id).sort(), [tcp.id, cidr.id, icmp.id, fromPeer.id, v6.id].sort());
  assert.deepEqual(shown.rules.find((r: any) => r.id === tcp.id), tcp);

  // Refusals: Nova's checks first, with its words.
  const base = { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 80, to_port: 80 };
  assert.equal(await addRule(c.demo, { ...base, ip_protocol: '999-bogus' }, 400), 'Invalid IP protocol 999-bogus.');
  assert.match(await addRule(c.demo, { ...base, from_port: 65536, to_port: 65536 }, 400) as string, /^Invalid port range 65536:65536\. Valid TCP ports should be between 1-65535/);
  assert.match(await addRule(c.demo, { ...base, to_port: 70000 }, 400) as string, /^Invalid port range 80:70000/);
  assert.match(await addRule(c.demo, { ...base, from_port: 22, to_port: 21 }, 400) as string, /Former value cannot be greater than the later/);
  assert.match(await addRule(c.demo, { ...base, ip_protocol: 'icmp', from_port: 256, to_port: 0 }, 400) as string, /For ICMP, the type:code must be valid/);
  assert.match(await addRule(c.demo, { ...base, from_port: 'x' }, 400) as string, /To and From ports must be integers/);
  assert.equal(await addRule(c.demo, { ...base, cidr: '10.0.0.1/0' }, 400), 'Bad prefix for network in cidr 10.0.0.1/0');
  assert.equal(await addRule(c.demo, { ...base, cidr: 'not-a-net' }, 400), 'not-a-net is not a valid IP network.');
  assert.equal(await addRule(c.demo, { ...base, cidr: '10.0.0.0/33' }, 400), '10.0.0.0/33 is not a valid IP network.');
  assert.equal(await addRule(c.demo, { parent_group_id: g.id, cidr: '10.0.0.0/8' }, 400), 'Not enough parameters to build a valid rule.');
  assert.equal(await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'tcp' }, 400), 'Not enough parameters to build a valid rule.');
  await addRule(c.demo, { ...base, parent_group_id: 'not-a-uuid' }, 400);
  await addRule(c.demo, { ...base, parent_group_id: randomUUID() }, 404);
  await addRule(c.demo, { ...base, group_id: randomUUID() }, 404);
  await addRule(c.demo, { ...base, group_id: 'nope' }, 400);
  await c.api.fault('POST', '/v2.1/os-security-group-rules', c.demo, { rule: {} }, 400, OLD);
  const count = (await neutron('GET', `/v2.0/security-group-rules?security_group_id=${g.id}`, c.demo)).security_group_rules.length;
  assert.equal(count, held.length, 'refused rules changed nothing');

  // Delete: 202, then 404; a non-uuid id is 400.
  const rd = await c.api.call('DELETE', `/v2.1/os-security-group-rules/${tcp.id}`, c.demo, undefined, OLD);
  assert.equal(rd.status, 202, rd.text);
  await c.api.fault('DELETE', `/v2.1/os-security-group-rules/${tcp.id}`, c.demo, undefined, 404, OLD);
  await c.api.fault('DELETE', '/v2.1/os-security-group-rules/nope', c.demo, undefined, 400, OLD);
  // The same rule can be made again once gone.
  await addRule(c.demo, { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22 });

  // Deleting the peer group takes the rules naming it away.
  assert.equal((await c.api.call('DELETE', `/v2.1/os-security-groups/${peer.id}`, c.demo, undefined, OLD)).status, 202);
  const left = (await c.api.ok('GET', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, 200, OLD)).security_group.rules;
  assert.ok(!left.some((r: any) => r.id === fromPeer.id), JSON.stringify(left));
  assert.equal((await c.api.call('DELETE', `/v2.1/os-security-groups/${g.id}`, c.demo, undefined, OLD)).status, 202);
});

test('a server\'s security groups: its ports\' groups at every microversion, following addSecurityGroup/removeSecurityGroup', async () => {
  const id = await c.createServer(c.demo, { name: 'px-sg' });
  await c.waitStatus(id, 'ACTIVE');
  const sg = await createGroup(c.demo, `px-server-${process.pid}`);
  const rule = await addRule(c.demo, { parent_group_id: sg.id, ip_protocol: 'tcp', from_port: 80, to_port: 80 });
  const path = `/v2.1/servers/${id}/os-security-groups`;
  for (const v of ['2.1', '2.90']) {
    const groups = (await c.api.ok('GET', path, c.demo, undefined, 200, { version: v })).security_groups;
    groups.forEach(checkGroup);
    assert.deepEqual(groups.map((g: any) => g.name), ['default']);
    // The default group's rules name the group itself.
    assert.ok(groups[0].rules.every((r: any) => r.group.name === 'default'));
  }
  await c.api.fault('GET', `/v2.1/servers/${randomUUID()}/os-security-groups`, c.demo, undefined, 404);
  await c.api.fault('GET', '/v2.1/servers/nope/os-security-groups', c.demo, undefined, 404);

  // The server actions (another module's) put the group on its ports; the list follows the ports.
  const act = (body: unknown) => c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, body);
  let r = await act({ addSecurityGroup: { name: sg.name } });
  assert.equal(r.status, 202, r.text);
  const ports = (await neutron('GET', `/v2.0/ports?device_id=${id}`, c.demo)).ports as any[];
  assert.ok(ports.length >= 1 && ports.every((p) => p.security_groups.includes(sg.id)));
  const both = (await c.api.ok('GET', path, c.demo)).security_groups;
  assert.deepEqual(both.map((g: any) => g.name), ['default', sg.name].sort());
  assert.deepEqual(both.find((g: any) => g.id === sg.id), (await c.api.ok('GET', `/v2.1/os-security-groups/${sg.id}`, c.demo, undefined, 200, OLD)).security_group);
  assert.deepEqual(both.find((g: any) => g.id === sg.id).rules.map((x: any) => x.id), [rule.id]);
  // An admin sees the member's server's groups too.
  assert.equal((await c.api.ok('GET', path, c.admin)).security_groups.length, 2);
  // A group in use by a port cannot be deleted: the network service's 409 is Nova's 400.
  await c.api.fault('DELETE', `/v2.1/os-security-groups/${sg.id}`, c.demo, undefined, 400, OLD);

  r = await act({ removeSecurityGroup: { name: sg.name } });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual((await c.api.ok('GET', path, c.demo)).security_groups.map((g: any) => g.name), ['default']);
  assert.equal((await c.api.call('DELETE', `/v2.1/os-security-groups/${sg.id}`, c.demo, undefined, OLD)).status, 202);
  await c.deleteServer(c.demo, id);
});

test('floating IPs: pools, allocate (named, by id, default pool), show, list, addFloatingIp/removeFloatingIp, release; gone from 2.36 / 2.44', async () => {
  const pools = (await c.api.ok('GET', '/v2.1/os-floating-ip-pools', c.demo, undefined, 200, OLD)).floating_ip_pools;
  assert.deepEqual(pools, [{ name: 'public' }]);
  for (const [m, p] of [['GET', '/v2.1/os-floating-ip-pools'], ['GET', '/v2.1/os-floating-ips'], ['POST', '/v2.1/os-floating-ips'], ['GET', `/v2.1/os-floating-ips/${randomUUID()}`]] as const) {
    await c.api.fault(m, p, c.demo, m === 'POST' ? { pool: 'public' } : undefined, 404, NEW);
  }
  const publicId = (await neutron('GET', '/v2.0/networks?name=public', c.admin)).networks[0].id;

  const made: any[] = [];
  for (const body of [{ pool: 'public' }, { pool: publicId }, {}, { pool: null }]) {
    const f = (await c.api.ok('POST', '/v2.1/os-floating-ips', c.demo, body, 200, OLD)).floating_ip;
    assert.deepEqual(keys(f), FIP_KEYS);
    assert.deepEqual([f.pool, f.instance_id, f.fixed_ip], ['public', null, null]);
    assert.match(f.ip, /^203\.0\.113\.\d+$/);
    made.push(f);
  }
  const held = (await neutron('GET', `/v2.0/floatingips/${made[0].id}`, c.admin)).floatingip;
  assert.deepEqual([held.project_id, held.floating_ip_address, held.floating_network_id], [c.demoProject, made[0].ip, publicId]);
  assert.equal(await c.api.fault('POST', '/v2.1/os-floating-ips', c.demo, { pool: 'non_exist_pool' }, 404, OLD), 'Floating IP pool not found.');
  await c.api.fault('POST', '/v2.1/os-floating-ips', c.demo, { pool: 7 }, 400, OLD);

  const list = (await c.api.ok('GET', '/v2.1/os-floating-ips', c.demo, undefined, 200, OLD)).floating_ips;
  for (const f of made) {
    const shown = (await c.api.ok('GET', `/v2.1/os-floating-ips/${f.id}`, c.demo, undefined, 200, OLD)).floating_ip;
    assert.deepEqual(shown, f);
    assert.deepEqual(list.find((x: any) => x.id === f.id), f);
  }
  assert.ok(!(await c.api.ok('GET', '/v2.1/os-floating-ips', c.admin, undefined, 200, OLD)).floating_ips.some((x: any) => x.id === made[0].id), 'the admin project lists its own');
  const missing = randomUUID();
  assert.equal(await c.api.fault('GET', `/v2.1/os-floating-ips/${missing}`, c.demo, undefined, 404, OLD), `Floating IP not found for ID ${missing}`);
  await c.api.fault('DELETE', `/v2.1/os-floating-ips/${missing}`, c.demo, undefined, 404, OLD);

  // Two servers; the first floating IP goes to one, then moves to the other.
  const s1 = await c.createServer(c.demo, { name: 'px-fip-1' });
  const s2 = await c.createServer(c.demo, { name: 'px-fip-2' });
  const a1 = await c.waitStatus(s1, 'ACTIVE');
  await c.waitStatus(s2, 'ACTIVE');
  const fixed1 = (a1.addresses.private as any[]).find((a) => a['OS-EXT-IPS:type'] === 'fixed').addr as string;
  const act = (sid: string, body: unknown, version = '2.43') => c.api.call('POST', `/v2.1/servers/${sid}/action`, c.demo, body, { version });
  const [f1, f2] = made;

  assert.equal((await act(s1, { addFloatingIp: { address: f1.ip } }, '2.44')).status, 404);
  assert.equal((await act(s1, { removeFloatingIp: { address: f1.ip } }, '2.44')).status, 404);
  let r = await act(s1, { addFloatingIp: { address: f1.ip } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.text, '');
  let shown = (await c.api.ok('GET', `/v2.1/os-floating-ips/${f1.id}`, c.demo, undefined, 200, OLD)).floating_ip;
  assert.deepEqual([shown.instance_id, shown.fixed_ip], [s1, fixed1]);
  const addrs = (await c.show(s1)).addresses.private as any[];
  assert.ok(addrs.some((a) => a.addr === f1.ip && a['OS-EXT-IPS:type'] === 'floating'), JSON.stringify(addrs));
  // A second floating IP for the same fixed address: 400 (the network service's 409).
  assert.equal((await act(s1, { addFloatingIp: { address: f2.ip } })).status, 400);
  // Unknown or malformed addresses, fixed addresses the server does not have.
  assert.equal((await act(s1, { addFloatingIp: { address: '0.0.0.0' } })).status, 404);
  assert.equal((await act(s1, { addFloatingIp: { address: '' } })).status, 400);
  assert.equal((await act(s1, { addFloatingIp: { address: f2.ip, fixed_address: '10.9.9.9' } })).status, 400);
  assert.equal((await act(s1, { addFloatingIp: { address: f2.ip, bogus: 1 } })).status, 400);
  assert.equal((await act(s1, { addFloatingIp: null })).status, 400);
  assert.equal((await act(randomUUID(), { addFloatingIp: { address: f2.ip } })).status, 404);

  // Move it to s2: s1 no longer has it (409 on removal from s1).
  r = await act(s2, { addFloatingIp: { address: f1.ip } });
  assert.equal(r.status, 202, r.text);
  shown = (await c.api.ok('GET', `/v2.1/os-floating-ips/${f1.id}`, c.demo, undefined, 200, OLD)).floating_ip;
  assert.equal(shown.instance_id, s2);
  await until('s1 without the floating IP', async () => !((await c.show(s1)).addresses.private as any[]).some((a) => a.addr === f1.ip));
  assert.equal(await c.api.fault('POST', `/v2.1/servers/${s1}/action`, c.demo, { removeFloatingIp: { address: f1.ip } }, 409, { version: '2.43' }),
    `Floating IP ${f1.ip} is not associated with instance ${s1}.`);
  assert.equal(await c.api.fault('POST', `/v2.1/servers/${s2}/action`, c.demo, { removeFloatingIp: { address: '0.0.0.0' } }, 404, { version: '2.43' }),
    'Floating IP not found for address 0.0.0.0.');
  r = await act(s2, { removeFloatingIp: { address: f1.ip } });
  assert.equal(r.status, 202, r.text);
  shown = (await c.api.ok('GET', `/v2.1/os-floating-ips/${f1.id}`, c.demo, undefined, 200, OLD)).floating_ip;
  assert.deepEqual([shown.instance_id, shown.fixed_ip], [null, null]);
  assert.equal((await act(s2, { removeFloatingIp: { address: f1.ip } })).status, 409);

  // Releasing an associated one disassociates it as well.
  assert.equal((await act(s1, { addFloatingIp: { address: f2.ip, fixed_address: fixed1 } })).status, 202);
  for (const f of made) {
    const d = await c.api.call('DELETE', `/v2.1/os-floating-ips/${f.id}`, c.demo, undefined, OLD);
    assert.equal(d.status, 202, d.text);
    await c.api.fault('GET', `/v2.1/os-floating-ips/${f.id}`, c.demo, undefined, 404, OLD);
  }
  assert.equal((await neutron('GET', `/v2.0/floatingips?project_id=${c.demoProject}`, c.admin)).floatingips.length, 0);
  await c.deleteServer(c.demo, s1);
  await c.deleteServer(c.demo, s2);
});

test('networks: os-networks and os-tenant-networks list and show what the caller sees; the rest is gone (410)', async () => {
  const adminNets = (await c.api.ok('GET', '/v2.1/os-networks', c.admin, undefined, 200, OLD)).networks;
  const labels = adminNets.map((n: any) => n.label);
  assert.ok(labels.includes('public') && labels.includes('private'), JSON.stringify(labels));
  const pub = adminNets.find((n: any) => n.label === 'public');
  assert.equal(pub.cidr, null);
  assert.ok('bridge' in pub && 'project_id' in pub, 'an admin sees the nova-network admin fields (null)');
  const demoNets = (await c.api.ok('GET', '/v2.1/os-networks', c.demo, undefined, 200, OLD)).networks;
  const priv = demoNets.find((n: any) => n.label === 'private');
  assert.deepEqual(keys(priv), ['broadcast', 'cidr', 'cidr_v6', 'dns1', 'dns2', 'gateway', 'gateway_v6', 'id', 'label', 'netmask', 'netmask_v6']);
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-networks/${priv.id}`, c.demo, undefined, 200, OLD)).network, priv);
  assert.equal(await c.api.fault('GET', `/v2.1/os-networks/${randomUUID()}`, c.demo, undefined, 404, OLD), 'Network not found');
  await c.api.fault('GET', '/v2.1/os-networks', c.demo, undefined, 404, NEW);
  await c.api.fault('GET', `/v2.1/os-networks/${priv.id}`, c.demo, undefined, 404, NEW);
  // A network of another project (not shared) is not the member's.
  const own = (await neutron('POST', '/v2.0/networks', c.admin, { network: { name: `px-admin-${process.pid}` } })).network;
  try {
    assert.ok(!demoNets.some((n: any) => n.id === own.id));
    await c.api.fault('GET', `/v2.1/os-networks/${own.id}`, c.demo, undefined, 404, OLD);
    assert.equal((await c.api.ok('GET', `/v2.1/os-networks/${own.id}`, c.admin, undefined, 200, OLD)).network.label, own.name);
  } finally {
    await neutron('DELETE', `/v2.0/networks/${own.id}`, c.admin);
  }

  const tenant = (await c.api.ok('GET', '/v2.1/os-tenant-networks', c.demo, undefined, 200, OLD)).networks;
  assert.deepEqual(tenant.find((n: any) => n.id === priv.id), { id: priv.id, cidr: 'None', label: 'private' });
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-tenant-networks/${priv.id}`, c.demo, undefined, 200, OLD)).network, { id: priv.id, cidr: 'None', label: 'private' });
  await c.api.fault('GET', '/v2.1/os-tenant-networks', c.demo, undefined, 404, NEW);

  for (const [m, p] of [['POST', '/v2.1/os-networks'], ['DELETE', `/v2.1/os-networks/${priv.id}`], ['POST', '/v2.1/os-networks/add'],
    ['POST', `/v2.1/os-networks/${priv.id}/action`], ['POST', '/v2.1/os-tenant-networks'], ['DELETE', `/v2.1/os-tenant-networks/${priv.id}`]] as const) {
    await c.api.fault(m, p, c.admin, m === 'POST' ? { network: {} } : undefined, 410, { name: 'computeFault' });
  }
  assert.ok((await neutron('GET', `/v2.0/networks/${priv.id}`, c.admin)).network, 'nothing deleted');
});
