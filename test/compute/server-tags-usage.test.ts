// Server tags (2.26) and simple tenant usage through the compute API over HTTP, on servers of a
// simulated (`fake`) compute host: tag limits and wording, concurrent tag writes, states that
// refuse changes; usage windows over live and deleted servers with known launch and termination
// times, per-tenant totals, details, policy, paging (2.40) and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCompute, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
before(async () => { c = await startFakeCompute([`fake-${process.pid}-t`]); });
after(async () => { await c?.close(); });

const V = { version: '2.26' };

test('server tags: add (201 then 204), check, list, replace, delete one and all; limits and wording', async () => {
  const id = await c.createServer(c.demo, { name: 'tagged' });
  await c.waitStatus(id, 'ACTIVE');
  const base = `/v2.1/servers/${id}/tags`;
  await c.api.fault('GET', base, c.demo, undefined, 404, { version: '2.25' });
  assert.deepEqual((await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags, []);

  const add = await c.api.call('PUT', `${base}/blue`, c.demo, undefined, V);
  assert.equal(add.status, 201, add.text);
  assert.match(add.headers.get('location') ?? '', new RegExp(`/v2\\.1/servers/${id}/tags/blue$`));
  assert.equal((await c.api.call('PUT', `${base}/blue`, c.demo, undefined, V)).status, 204, 'already there');
  assert.equal((await c.api.call('GET', `${base}/blue`, c.demo, undefined, V)).status, 204);
  assert.equal(await c.api.fault('GET', `${base}/red`, c.demo, undefined, 404, V), `Server ${id} has no tag 'red'`);
  assert.equal((await c.api.call('PUT', `${base}/${encodeURIComponent('white space ünicode')}`, c.demo, undefined, V)).status, 201);
  assert.deepEqual((await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags, ['blue', 'white space ünicode']);
  assert.deepEqual((await c.show(id, '2.26')).tags, ['blue', 'white space ünicode']);

  // Replace all (duplicates collapse), then the server list filters by them.
  assert.deepEqual((await c.api.ok('PUT', base, c.demo, { tags: ['a', 'b', 'a'] }, 200, V)).tags, ['a', 'b']);
  assert.deepEqual((await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags, ['a', 'b']);
  assert.deepEqual((await c.api.ok('GET', '/v2.1/servers?tags=a,b', c.demo, undefined, 200, V)).servers.map((s: any) => s.id), [id]);
  assert.deepEqual((await c.api.ok('GET', '/v2.1/servers?tags=a,zzz', c.demo, undefined, 200, V)).servers, []);

  // Bad tags: in the body (schema) and in the URL (Nova's wording).
  let msg = await c.api.fault('PUT', base, c.demo, { tags: ['x,y'] }, 400, V);
  assert.match(msg, /'x,y' does not match/);
  await c.api.fault('PUT', base, c.demo, { tags: ['t'.repeat(61)] }, 400, V);
  await c.api.fault('PUT', base, c.demo, { tags: [''] }, 400, V);
  await c.api.fault('PUT', base, c.demo, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 400, V);
  await c.api.fault('PUT', base, c.demo, { other: [] }, 400, V);
  msg = await c.api.fault('PUT', `${base}/${encodeURIComponent('x,y')}`, c.demo, undefined, 400, V);
  assert.match(msg, /^Tag 'x,y' is invalid\. It must be a non empty string without characters '\/' and ','\. Validation error message: 'x,y' does not match/);
  msg = await c.api.fault('PUT', `${base}/${'t'.repeat(61)}`, c.demo, undefined, 400, V);
  assert.match(msg, /is too long/);
  await c.api.fault('PUT', `${base}/x`, c.demo, { some: 'body' }, 400, V);
  assert.deepEqual((await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags, ['a', 'b'], 'nothing changed by refused requests');

  // 50 is the most.
  const fifty = Array.from({ length: 50 }, (_, i) => `t${i}`);
  assert.equal((await c.api.ok('PUT', base, c.demo, { tags: fifty }, 200, V)).tags.length, 50);
  assert.equal(await c.api.fault('PUT', `${base}/one-more`, c.demo, undefined, 400, V), 'The number of tags exceeded the per-server limit 50');

  // Delete one, delete all.
  assert.equal((await c.api.call('DELETE', `${base}/t7`, c.demo, undefined, V)).status, 204);
  assert.equal(await c.api.fault('DELETE', `${base}/t7`, c.demo, undefined, 404, V), `Instance ${id} has no tag 't7'`);
  assert.equal((await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags.length, 49);
  assert.equal((await c.api.call('DELETE', base, c.demo, undefined, V)).status, 204);
  assert.deepEqual((await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags, []);

  // Concurrent single adds all land.
  const many = Array.from({ length: 12 }, (_, i) => `c${i}`);
  const codes = await Promise.all(many.map((t) => c.api.call('PUT', `${base}/${t}`, c.demo, undefined, V).then((r) => r.status)));
  assert.deepEqual(codes, many.map(() => 201));
  assert.deepEqual([...(await c.api.ok('GET', base, c.demo, undefined, 200, V)).tags].sort(), [...many].sort());

  await c.deleteServer(c.demo, id);
  await c.api.fault('GET', base, c.demo, undefined, 404, V);
});

test('server tags: other projects\' servers are not found; a server in ERROR refuses changes (409)', async () => {
  const theirs = await c.createServer(c.admin, { name: 'admins', networks: 'none' }, undefined, '2.37');
  await c.waitStatus(theirs, 'ACTIVE');
  await c.api.fault('GET', `/v2.1/servers/${theirs}/tags`, c.demo, undefined, 404, V);
  await c.api.fault('PUT', `/v2.1/servers/${theirs}/tags/x`, c.demo, undefined, 404, V);
  assert.equal((await c.api.call('PUT', `/v2.1/servers/${theirs}/tags/x`, c.admin, undefined, V)).status, 201);

  const driver = [...c.drivers.values()][0]!;
  driver.failNext('spawn');
  const broken = await c.createServer(c.demo, { name: 'broken' });
  await c.waitStatus(broken, 'ERROR');
  const msg = await c.api.fault('PUT', `/v2.1/servers/${broken}/tags/x`, c.demo, undefined, 409, V);
  assert.equal(msg, `Cannot 'update tag' instance ${broken} while it is in vm_state error`);
  assert.equal(await c.api.fault('PUT', `/v2.1/servers/${broken}/tags`, c.demo, { tags: ['x'] }, 409, V), `Cannot 'update tags' instance ${broken} while it is in vm_state error`);
  await c.api.fault('DELETE', `/v2.1/servers/${broken}/tags`, c.demo, undefined, 409, V);
  assert.deepEqual((await c.api.ok('GET', `/v2.1/servers/${broken}/tags`, c.demo, undefined, 200, V)).tags, [], 'reading is fine');
  await c.deleteServer(c.demo, broken);
  await c.deleteServer(c.admin, theirs);
});

/** A stored time (naive UTC with microseconds, as the records keep them) `ms` + `micros` after the epoch. */
const stored = (ms: number, micros = 0): string => `${new Date(ms).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}`;
/** The same time as a usage query parameter in Nova's accepted forms. */
const param = (ms: number, form: 'T' | 'space' | 'plain' = 'T'): string => {
  const iso = new Date(ms).toISOString();
  return form === 'plain' ? iso.slice(0, 19) : `${iso.slice(0, 10)}${form === 'T' ? 'T' : ' '}${iso.slice(11, 19)}.000000`;
};
const H = 3_600_000;

test('simple tenant usage: hours of live and deleted servers in a window, per tenant, detailed, paged (2.40); policy and bad input', async () => {
  // Three servers with known lives (T is 10 hours ago): s1 from T on, s2 from T to T+4h (deleted),
  // s3 (admin's) from T+5h+0.123456 s on; s4 never launched (ERROR). The window is [T+2h, T+8h].
  const T = Math.floor(Date.now() / 1000) * 1000 - 10 * H;
  const s1 = await c.createServer(c.demo, { name: 'u1' });
  const s2 = await c.createServer(c.demo, { name: 'u2' });
  const s3 = await c.createServer(c.admin, { name: 'u3', networks: 'none' }, undefined, '2.37');
  for (const id of [s1, s2, s3]) await c.waitStatus(id, 'ACTIVE');
  [...c.drivers.values()][0]!.failNext('spawn');
  const s4 = await c.createServer(c.demo, { name: 'u4' });
  await c.waitStatus(s4, 'ERROR');
  await c.deleteServer(c.demo, s2);
  const db = c.h.cloud.compute.ctx.db as any;
  const setTimes = (uuid: string, launched: string, terminated: string | null) =>
    db.updateTable('compute_instance').set({ launched_at: launched, terminated_at: terminated, created_at: launched }).where('uuid', '=', uuid).execute();
  await setTimes(s1, stored(T), null);
  await setTimes(s2, stored(T), stored(T + 4 * H));
  await setTimes(s3, stored(T + 5 * H, 123456), null);
  const window = `start=${param(T + 2 * H)}&end=${param(T + 8 * H)}`;
  const s3Hours = 3 - 0.123456 / 3600;

  // One tenant (its readers, or an admin): always with server_usages.
  const mine = (await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?${window}`, c.demo)).tenant_usage;
  assert.deepEqual(Object.keys(mine).sort(), ['server_usages', 'start', 'stop', 'tenant_id', 'total_hours', 'total_local_gb_usage', 'total_memory_mb_usage', 'total_vcpus_usage']);
  assert.equal(mine.tenant_id, c.demoProject);
  assert.equal(mine.start, param(T + 2 * H, 'plain'));
  assert.equal(mine.stop, param(T + 8 * H, 'plain'));
  assert.equal(mine.total_hours, 8);
  assert.equal(mine.total_vcpus_usage, 8);
  assert.equal(mine.total_memory_mb_usage, 128 * 8);
  assert.equal(mine.total_local_gb_usage, 8);
  const byId = new Map<string, any>(mine.server_usages.map((u: any) => [u.instance_id, u]));
  assert.deepEqual([...byId.keys()].sort(), [s1, s2].sort(), 'the never launched server does not count');
  assert.deepEqual(byId.get(s2), {
    instance_id: s2, name: 'u2', hours: 2, memory_mb: 128, local_gb: 1, vcpus: 1, tenant_id: c.demoProject, flavor: 'm1.nano',
    started_at: param(T, 'plain'), ended_at: param(T + 4 * H, 'plain'), state: 'terminated', uptime: 4 * 3600,
  });
  const u1 = byId.get(s1);
  assert.deepEqual([u1.hours, u1.state, u1.ended_at, u1.started_at], [6, 'active', null, param(T, 'plain')]);
  assert.ok(Math.abs(u1.uptime - 10 * 3600) < 120, `uptime up to now: ${u1.uptime}`);
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?${window}`, c.admin)).tenant_usage.total_hours, 8);
  await c.api.fault('GET', `/v2.1/os-simple-tenant-usage/${c.adminProject}?${window}`, c.demo, undefined, 403);
  // A window where nothing existed: an empty object.
  assert.deepEqual((await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?start=${param(T - 5 * H)}&end=${param(T - H)}`, c.demo)).tenant_usage, {});

  // Every tenant (admins): totals only, or with details; the other accepted time forms.
  await c.api.fault('GET', `/v2.1/os-simple-tenant-usage?${window}`, c.demo, undefined, 403);
  const all = (await c.api.ok('GET', `/v2.1/os-simple-tenant-usage?start=${encodeURIComponent(param(T + 2 * H, 'space'))}&end=${param(T + 8 * H, 'plain')}`, c.admin)).tenant_usages;
  assert.deepEqual(all.map((t: any) => t.tenant_id), [c.adminProject, c.demoProject].sort());
  assert.ok(all.every((t: any) => !('server_usages' in t)));
  const admins = all.find((t: any) => t.tenant_id === c.adminProject);
  assert.ok(Math.abs(admins.total_hours - s3Hours) < 1e-9, String(admins.total_hours));
  const detailed = (await c.api.ok('GET', `/v2.1/os-simple-tenant-usage?${window}&detailed=1`, c.admin)).tenant_usages;
  const s3u = detailed.find((t: any) => t.tenant_id === c.adminProject).server_usages[0];
  assert.equal(s3u.instance_id, s3);
  assert.equal(s3u.started_at, `${param(T + 5 * H, 'plain')}.123456`);

  // Paging (2.40): one instance per page, by project then id; links carry the marker.
  const seen: string[] = [];
  let next: string | undefined = `/v2.1/os-simple-tenant-usage?${window}&detailed=1&limit=1`;
  for (let pages = 0; next && pages < 10; pages++) {
    const r: any = await c.api.ok('GET', next, c.admin, undefined, 200, { version: '2.40' });
    for (const t of r.tenant_usages) for (const u of t.server_usages) seen.push(u.instance_id);
    const link = r.tenant_usages_links?.find((l: any) => l.rel === 'next')?.href as string | undefined;
    if (link) assert.match(link, /marker=/);
    next = link ? new URL(link).pathname + new URL(link).search : undefined;
  }
  assert.equal(next, undefined, 'paging ends');
  assert.deepEqual([...seen].sort(), [s1, s2, s3].sort());
  assert.equal(new Set(seen).size, 3);
  const one = await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?${window}&limit=1`, c.demo, undefined, 200, { version: '2.40' });
  assert.equal(one.tenant_usage.server_usages.length, 1);
  assert.match(one.tenant_usage_links[0].href, new RegExp(`/os-simple-tenant-usage/${c.demoProject}\\?.*marker=${one.tenant_usage.server_usages[0].instance_id}`));
  assert.equal((await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?${window}&limit=1`, c.demo, undefined, 200, { version: '2.39' })).tenant_usage.server_usages.length, 2, 'limit ignored before 2.40');
  assert.equal(await c.api.fault('GET', `/v2.1/os-simple-tenant-usage?${window}&marker=nope`, c.admin, undefined, 400, { version: '2.40' }), 'Marker nope could not be found.');
  await c.api.fault('GET', `/v2.1/os-simple-tenant-usage?${window}&limit=x`, c.admin, undefined, 400, { version: '2.40' });
  await c.api.fault('GET', `/v2.1/os-simple-tenant-usage?${window}&foo=1`, c.admin, undefined, 400, { version: '2.75' });
  assert.equal((await c.api.ok('GET', `/v2.1/os-simple-tenant-usage?${window}&foo=1`, c.admin, undefined, 200, { version: '2.74' })).tenant_usages.length, 2);

  // Bad windows and times; the end is capped at now.
  assert.equal(await c.api.fault('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?start=${param(T + 8 * H)}&end=${param(T + 2 * H)}`, c.demo, undefined, 400),
    'Invalid start time. The start time cannot occur after the end time.');
  for (const bad of ['yesterday', '2024-02-30T00:00:00', '2024-01-01T00:00:00Z', '2024-01-01 00:00:00']) {
    assert.equal(await c.api.fault('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?start=${encodeURIComponent(bad)}`, c.demo, undefined, 400),
      'Invalid datetime string: Datetime is in invalid format', bad);
  }
  const future = (await c.api.ok('GET', `/v2.1/os-simple-tenant-usage/${c.demoProject}?start=${param(T)}&end=${param(Date.now() + 48 * H)}`, c.demo)).tenant_usage;
  const stop = Date.parse(`${future.stop}Z`);
  assert.ok(stop <= Date.now() && stop > Date.now() - 60_000, `stop capped at now: ${future.stop}`);
  await c.api.fault('GET', '/v2.1/os-simple-tenant-usage/', c.admin, undefined, 404);
  for (const id of [s1, s4]) await c.deleteServer(c.demo, id);
  await c.deleteServer(c.admin, s3);
});
