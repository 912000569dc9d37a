// Server groups, tags and usage on the shared engines (PostgreSQL, MariaDB) — the whole cloud on a
// throwaway database with a simulated (`fake`) compute host: group members joined and left,
// concurrent tag writes (compare-and-swap on the instance row), Unicode tags, and usage windows
// compared as stored time strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempMariadb, tempPostgres } from '../lib/databases.js';
import { startFakeCompute, type FakeCompute } from './fake-compute.js';

const H = 3_600_000;
const stored = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}.000000`;
const param = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}.000000`;

async function scenario(c: FakeCompute): Promise<void> {
  const V = { version: '2.26' };
  const g = (await c.api.ok('POST', '/v2.1/os-server-groups', c.demo, { server_group: { name: 'g', policies: ['anti-affinity'] } })).server_group;
  const a = await c.createServer(c.demo, { name: 'a' }, { group: g.id });
  const b = await c.createServer(c.demo, { name: 'b' });
  for (const id of [a, b]) await c.waitStatus(id, 'ACTIVE');
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-server-groups/${g.id}`, c.demo)).server_group.members, [a]);

  // Tags: concurrent adds all land; Unicode survives.
  const tags = ['ünï', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
  const codes = await Promise.all(tags.map((t) => c.api.call('PUT', `/v2.1/servers/${a}/tags/${encodeURIComponent(t)}`, c.demo, undefined, V).then((r) => r.status)));
  assert.deepEqual(codes, tags.map(() => 201));
  assert.deepEqual([...(await c.api.ok('GET', `/v2.1/servers/${a}/tags`, c.demo, undefined, 200, V)).tags].sort(), [...tags].sort());
  assert.deepEqual((await c.api.ok('GET', `/v2.1/servers?tags=${encodeURIComponent('ünï')}`, c.demo, undefined, 200, V)).servers.map((s: any) => s.id), [a]);

  // Usage: a from T on, b from T to T+4h (deleted); window [T+2h, T+8h].
  await c.deleteServer(c.demo, b);
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-server-groups/${g.id}`, c.demo)).server_group.members, [a]);
  const T = Math.floor(Date.now() / 1000) * 1000 - 10 * H;
  const db = c.h.cloud.compute.ctx.db as any;
  await db.updateTable('compute_instance').set({ launched_at: stored(T), terminated_at: null }).where('uuid', '=', a).execute();
  await db.updateTable('compute_instance').set({ launched_at: stored(T), terminated_at: stored(T + 4 * H) }).where('uuid', '=', b).execute();
  const u = (await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?start=${param(T + 2 * H)}&end=${param(T + 8 * H)}`, c.demo)).tenant_usage;
  assert.equal(u.total_hours, 8);
  assert.deepEqual(u.server_usages.map((x: any) => [x.name, x.hours, x.state]).sort(), [['a', 6, 'active'], ['b', 2, 'terminated']]);
  const page = await c.api.ok('GET', `/v2.1/os-simple-tenant-usage?start=${param(T + 2 * H)}&end=${param(T + 8 * H)}&limit=1&detailed=1`, c.admin, undefined, 200, { version: '2.40' });
  const first = page.tenant_usages[0].server_usages[0].instance_id as string;
  const rest = await c.api.ok('GET', `/v2.1/os-simple-tenant-usage?start=${param(T + 2 * H)}&end=${param(T + 8 * H)}&detailed=1&marker=${first}`, c.admin, undefined, 200, { version: '2.40' });
  assert.deepEqual([first, ...rest.tenant_usages.flatMap((t: any) => t.server_usages.map((x: any) => x.instance_id))].sort(), [a, b].sort());
  await c.deleteServer(c.demo, a);
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-server-groups/${g.id}`, c.demo)).server_group.members, []);
  await c.api.ok('DELETE', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 204);
}

for (const [engine, make] of [['PostgreSQL', tempPostgres], ['MariaDB', tempMariadb]] as const) {
  test(`server groups, tags and usage on ${engine}`, { timeout: 180_000 }, async () => {
    const database = await make();
    let c: FakeCompute | undefined;
    try {
      c = await startFakeCompute([`fake-${process.pid}-${engine.slice(0, 2).toLowerCase()}`], { databaseUrl: database.url });
      await scenario(c);
    } finally {
      await c?.close();
      await database.drop();
    }
  });
}
