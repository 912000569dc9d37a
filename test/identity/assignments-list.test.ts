// GET /v3/role_assignments (direct and effective, names, subtree, domain-scoped callers) and /v3/auth/{projects,domains,system}.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { adminApi } from './assignments-fixtures.js';

let h: IdentityHarness;
let api: ReturnType<typeof adminApi>;
before(async () => { h = await startIdentity(); api = adminApi(h); });
after(async () => { await h?.close(); });

const V3 = 'http://localhost:80/v3';
type Assignment = { links: Record<string, string>; scope: Record<string, any>; user?: any; group?: any; role: any };
const list = async (query: string): Promise<Assignment[]> => (await api.call('GET', `/v3/role_assignments?${query}`, undefined, 200)).body.role_assignments;

test('direct listing: filters and the exact entity shape', async () => {
  const d = await api.domain();
  const p = await api.project(d.id);
  const [u, g, r] = [await api.user(d.id), await api.group(d.id), await api.role()];
  await api.call('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${r.id}`, undefined, 204);
  await api.call('PUT', `/v3/domains/${d.id}/groups/${g.id}/roles/${r.id}`, undefined, 204);
  await api.call('PUT', `/v3/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/${r.id}/inherited_to_projects`, undefined, 204);
  await api.call('PUT', `/v3/system/users/${u.id}/roles/${r.id}`, undefined, 204);

  const byUser = await list(`user.id=${u.id}`);
  assert.equal(byUser.length, 3);
  assert.deepEqual(byUser.find((a) => a.scope.project), {
    links: { assignment: `${V3}/projects/${p.id}/users/${u.id}/roles/${r.id}` },
    scope: { project: { id: p.id } }, user: { id: u.id }, role: { id: r.id },
  });
  assert.deepEqual(byUser.find((a) => a.scope.domain), {
    links: { assignment: `${V3}/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/${r.id}/inherited_to_projects` },
    scope: { domain: { id: d.id }, 'OS-INHERIT:inherited_to': 'projects' }, user: { id: u.id }, role: { id: r.id },
  });
  assert.deepEqual(byUser.find((a) => a.scope.system), {
    links: { assignment: `${V3}/system/users/${u.id}/roles/${r.id}` }, scope: { system: { all: true } }, user: { id: u.id }, role: { id: r.id },
  });
  assert.deepEqual((await list(`group.id=${g.id}`)).map((a) => a.links.assignment), [`${V3}/domains/${d.id}/groups/${g.id}/roles/${r.id}`]);
  assert.equal((await list(`role.id=${r.id}`)).length, 4);
  assert.equal((await list(`role.id=${r.id}&scope.domain.id=${d.id}`)).length, 2);
  assert.equal((await list(`role.id=${r.id}&scope.domain.id=${d.id}&scope.OS-INHERIT:inherited_to=projects`)).length, 1);
  assert.deepEqual((await list(`role.id=${r.id}&scope.system=all`)).map((a) => a.user?.id), [u.id]);
  assert.deepEqual((await list(`scope.project.id=${p.id}`)).map((a) => a.user?.id), [u.id]);
  const body = (await api.call('GET', `/v3/role_assignments?role.id=${r.id}`, undefined, 200)).body;
  assert.deepEqual(body.links, { self: `${V3}/role_assignments?role.id=${r.id}`, previous: null, next: null });
});

test('effective listing expands groups, inheritance and implied roles, and drops domain roles', async () => {
  const d = await api.domain();
  const parent = await api.project(d.id);
  const child = await api.project(d.id, parent.id);
  const [u, g] = [await api.user(d.id), await api.group(d.id)];
  const [viaGroup, inheritedFromDomain, inheritedFromParent, prior, implied] = [await api.role(), await api.role(), await api.role(), await api.role(), await api.role()];
  const domainRole = await api.role({ domain_id: d.id });
  await api.addMember(g.id, u.id);
  await api.call('PUT', `/v3/projects/${child.id}/groups/${g.id}/roles/${viaGroup.id}`, undefined, 204);
  await api.call('PUT', `/v3/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/${inheritedFromDomain.id}/inherited_to_projects`, undefined, 204);
  await api.call('PUT', `/v3/OS-INHERIT/projects/${parent.id}/users/${u.id}/roles/${inheritedFromParent.id}/inherited_to_projects`, undefined, 204);
  await api.call('PUT', `/v3/roles/${prior.id}/implies/${implied.id}`, undefined, 201);
  await api.call('PUT', `/v3/projects/${child.id}/users/${u.id}/roles/${prior.id}`, undefined, 204);
  await api.call('PUT', `/v3/projects/${child.id}/users/${u.id}/roles/${domainRole.id}`, undefined, 204);

  const eff = await list(`effective&user.id=${u.id}&scope.project.id=${child.id}`);
  const byRole = new Map(eff.map((a) => [a.role.id, a]));
  assert.deepEqual([...byRole.keys()].sort(), [viaGroup.id, inheritedFromDomain.id, inheritedFromParent.id, prior.id, implied.id].sort());
  assert.deepEqual(byRole.get(viaGroup.id), {
    links: { assignment: `${V3}/projects/${child.id}/groups/${g.id}/roles/${viaGroup.id}`, membership: `${V3}/groups/${g.id}/users/${u.id}` },
    scope: { project: { id: child.id } }, user: { id: u.id }, role: { id: viaGroup.id },
  });
  assert.deepEqual(byRole.get(inheritedFromDomain.id), {
    links: { assignment: `${V3}/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/${inheritedFromDomain.id}/inherited_to_projects` },
    scope: { project: { id: child.id }, 'OS-INHERIT:inherited_to': 'projects' }, user: { id: u.id }, role: { id: inheritedFromDomain.id },
  });
  assert.equal(byRole.get(inheritedFromParent.id)!.links.assignment,
    `${V3}/OS-INHERIT/projects/${parent.id}/users/${u.id}/roles/${inheritedFromParent.id}/inherited_to_projects`);
  assert.deepEqual(byRole.get(implied.id)!.links, {
    assignment: `${V3}/projects/${child.id}/users/${u.id}/roles/${prior.id}`,
    prior_role: `${V3}/prior_role/${implied.id}/implies/${prior.id}`,
  });
  // On the parent only the domain-inherited role applies (project inheritance reaches the subtree only).
  assert.deepEqual((await list(`effective&user.id=${u.id}&scope.project.id=${parent.id}`)).map((a) => a.role.id), [inheritedFromDomain.id]);
  // The subtree of the parent brings in the child's assignments as well.
  const tree = await list(`effective&user.id=${u.id}&scope.project.id=${parent.id}&include_subtree`);
  assert.ok(tree.some((a) => a.scope.project.id === child.id && a.role.id === prior.id));
  // Without effective, the subtree lists direct grants on the child and the parent.
  const directTree = await list(`scope.project.id=${parent.id}&include_subtree=1`);
  assert.ok(directTree.some((a) => a.role.id === domainRole.id));
  assert.ok(directTree.some((a) => a.role.id === inheritedFromParent.id && a.scope['OS-INHERIT:inherited_to'] === 'projects'));
  // Keystone treats any value but 0 as true, even "false".
  assert.equal((await list(`effective=false&user.id=${u.id}&scope.project.id=${child.id}`)).length, eff.length);
  assert.ok((await list(`effective=0&user.id=${u.id}&scope.project.id=${child.id}`)).some((a) => a.role.id === domainRole.id));
});

test('include_names adds names and domains of every entity', async () => {
  const d = await api.domain();
  const p = await api.project(d.id);
  const [u, g] = [await api.user(d.id), await api.group(d.id)];
  const dr = await api.role({ domain_id: d.id });
  await api.call('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${dr.id}`, undefined, 204);
  await api.call('PUT', `/v3/domains/${d.id}/groups/${g.id}/roles/${dr.id}`, undefined, 204);
  const named = await list(`include_names&role.id=${dr.id}`);
  const onProject = named.find((a) => a.scope.project)!;
  assert.deepEqual(onProject.scope, { project: { id: p.id, name: p.name, domain: { id: d.id, name: d.name } } });
  assert.deepEqual(onProject.user, { id: u.id, name: u.name, domain: { id: d.id, name: d.name } });
  assert.deepEqual(onProject.role, { id: dr.id, name: dr.name, domain: { id: d.id, name: d.name } });
  const onDomain = named.find((a) => a.scope.domain)!;
  assert.deepEqual(onDomain.scope, { domain: { id: d.id, name: d.name } });
  assert.deepEqual(onDomain.group, { id: g.id, name: g.name, domain: { id: d.id, name: d.name } });
});

test('invalid filter combinations are 400s', async () => {
  const bad = async (q: string, msg: string) => {
    const res = await api.call('GET', `/v3/role_assignments?${q}`, undefined, 400);
    assert.equal(res.body.error.message, msg);
  };
  await bad('scope.domain.id=a&scope.project.id=b', 'Specify a domain or project, not both');
  await bad('scope.domain.id=a&scope.system=all', 'Specify system or domain, not both');
  await bad('scope.project.id=a&scope.system=all', 'Specify system or project, not both');
  await bad('user.id=a&group.id=b', 'Specify a user or group, not both');
  await bad('effective&group.id=b', 'Combining effective and group filter will always result in an empty list.');
  await bad('effective&scope.domain.id=a&scope.OS-INHERIT:inherited_to=projects', 'Combining effective, domain and inherited filters will always result in an empty list.');
  await bad('include_subtree', 'scope.project.id must be specified if include_subtree is also specified');
  await api.call('GET', `/v3/role_assignments?include_subtree&scope.project.id=${'0'.repeat(32)}`, undefined, 404);
});

test('a domain-scoped domain admin sees only its domain; a member is refused', async () => {
  const d = await api.domain();
  const p = await api.project(d.id);
  const admin = await api.user(d.id, 'dom-admin-pw');
  const adminRole = (await api.call('GET', '/v3/roles?name=admin', undefined, 200)).body.roles[0];
  await api.call('PUT', `/v3/domains/${d.id}/users/${admin.id}/roles/${adminRole.id}`, undefined, 204);
  const u = await api.user(d.id);
  const r = await api.role();
  await api.call('PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${r.id}`, undefined, 204);
  const token = await h.tokenFor({ id: admin.id }, 'dom-admin-pw', { domainId: d.id });
  const res = await h.request('GET', '/v3/role_assignments', { token });
  assert.equal(res.status, 200);
  const scopes = res.body.role_assignments.map((a: Assignment) => a.scope.domain?.id ?? a.scope.project?.id);
  assert.deepEqual(scopes.sort(), [d.id, p.id].sort());
  const demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  assert.equal((await h.request('GET', '/v3/role_assignments', { token: demo })).status, 403);
});

test('auth scopes: projects, domains and system available to the caller', async () => {
  const d = await api.domain();
  const parent = await api.project(d.id);
  const child = await api.project(d.id, parent.id);
  const u = await api.user(d.id, 'scopes-pw-1');
  const [r, dr] = [await api.role(), await api.role({ domain_id: d.id })];
  const other = await api.project(d.id);
  await api.call('PUT', `/v3/OS-INHERIT/projects/${parent.id}/users/${u.id}/roles/${r.id}/inherited_to_projects`, undefined, 204);
  await api.call('PUT', `/v3/domains/${d.id}/users/${u.id}/roles/${r.id}`, undefined, 204);
  // Only a domain-specific role (implying nothing) on this project: not a usable scope.
  await api.call('PUT', `/v3/projects/${other.id}/users/${u.id}/roles/${dr.id}`, undefined, 204);
  const token = await h.tokenFor({ id: u.id }, 'scopes-pw-1', 'unscoped');
  const projects = (await h.request('GET', '/v3/auth/projects', { token })).body;
  assert.deepEqual(projects.projects.map((x: { id: string }) => x.id), [child.id]);
  assert.equal(projects.projects[0].links.self, `${V3}/projects/${child.id}`);
  assert.equal(projects.projects[0].domain_id, d.id);
  assert.equal(projects.links.self, `${V3}/auth/projects`);
  const domains = (await h.request('GET', '/v3/auth/domains', { token })).body.domains;
  assert.deepEqual(domains.map((x: { id: string; name: string }) => [x.id, x.name]), [[d.id, d.name]]);
  assert.equal(domains[0].links.self, `${V3}/domains/${d.id}`);
  assert.deepEqual((await h.request('GET', '/v3/auth/system', { token })).body, { system: [], links: { self: `${V3}/auth/system` } });
  await api.call('PUT', `/v3/system/users/${u.id}/roles/${r.id}`, undefined, 204);
  assert.deepEqual((await h.request('GET', '/v3/auth/system', { token })).body.system, [{ all: true }]);
  assert.equal((await h.request('GET', '/v3/auth/projects')).status, 401);
});
