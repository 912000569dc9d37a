// The compute API's image proxy (/images, /images/{id}/metadata), os-hosts, os-migrations,
// os-server-password, os-server-external-events and server diagnostics over HTTP, on servers of
// simulated (`fake`) compute hosts: Nova's shapes (exact key sets where Nova's schemas forbid
// more), codes, microversion limits, policy, and the image service's visibility rules applied
// through the caller's own token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCompute, until, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
const run = process.pid;
before(async () => { c = await startFakeCompute([`fake-${run}-a`, `fake-${run}-b`]); });
after(async () => { await c?.close(); });

const sorted = (o: object) => Object.keys(o).sort();
const IMAGE_KEYS = ['OS-EXT-IMG-SIZE:size', 'created', 'id', 'links', 'metadata', 'minDisk', 'minRam', 'name', 'progress', 'status', 'updated'];

/** Calls the image service directly (as a client would) with `token`. */
async function glance(method: string, path: string, token: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${c.h.imageUrl}${path}`, {
    method, headers: { 'x-auth-token': token, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function glanceImage(token: string, meta: Record<string, unknown>, data?: Buffer): Promise<string> {
  const made = await glance('POST', '/v2/images', token, { container_format: 'bare', disk_format: 'raw', ...meta });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  if (data) assert.equal((await glance('PUT', `/v2/images/${made.body.id}/file`, token, data, 'application/octet-stream')).status, 204);
  return made.body.id as string;
}

test('image proxy: list, detail, show in Nova\'s shape; Glance\'s visibility for the caller; filters and paging; gone at 2.36', async () => {
  const name = `img-${run}-${Date.now()}`;
  const mine = await glanceImage(c.demo, { name, visibility: 'private', min_ram: 64, min_disk: 1, os_distro: 'debian', auto_disk_config: 'true' }, Buffer.alloc(1024, 42));
  const queued = await glanceImage(c.demo, { name: `${name}-queued`, visibility: 'private' });
  const theirs = await glanceImage(c.admin, { name: `${name}-admin`, visibility: 'private' }, Buffer.alloc(512, 1));

  const img = (await c.api.ok('GET', `/v2.1/images/${mine}`, c.demo)).image;
  assert.deepEqual(sorted(img), [...IMAGE_KEYS, 'OS-DCF:diskConfig'].sort());
  assert.equal(img.status, 'ACTIVE');
  assert.equal(img.progress, 100);
  assert.equal(img.minRam, 64);
  assert.equal(img.minDisk, 1);
  assert.equal(img['OS-EXT-IMG-SIZE:size'], 1024);
  assert.equal(img['OS-DCF:diskConfig'], 'AUTO');
  assert.deepEqual(img.metadata, { os_distro: 'debian', auto_disk_config: 'true' });
  assert.match(img.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(img.links.map((l: any) => l.rel), ['self', 'bookmark', 'alternate']);
  assert.match(img.links[0].href, new RegExp(`/v2\\.1/images/${mine}$`));
  assert.equal(img.links[2].type, 'application/vnd.openstack.image');
  assert.equal(img.links[2].href, `${c.h.imageUrl}/images/${mine}`);

  const q = (await c.api.ok('GET', `/v2.1/images/${queued}`, c.demo)).image;
  assert.deepEqual([q.status, q.progress, q['OS-EXT-IMG-SIZE:size']], ['SAVING', 25, 0]);
  assert.ok(!('server' in q) && !('OS-DCF:diskConfig' in q));

  // Another project's private image: not there for demo (Glance decides), there for its owner.
  assert.equal(await c.api.fault('GET', `/v2.1/images/${theirs}`, c.demo, undefined, 404), 'Image not found.');
  assert.equal((await c.api.ok('GET', `/v2.1/images/${theirs}`, c.admin)).image.id, theirs);
  await c.api.fault('GET', '/v2.1/images/not-an-image', c.demo, undefined, 404);

  const brief = (await c.api.ok('GET', '/v2.1/images', c.demo)).images;
  const ids = brief.map((i: any) => i.id);
  assert.ok(ids.includes(mine) && ids.includes(queued) && ids.includes(c.imageId), 'own and public images listed');
  assert.ok(!ids.includes(theirs), 'another project\'s private image not listed');
  for (const i of brief) assert.deepEqual(sorted(i), ['id', 'links', 'name']);
  const detail = (await c.api.ok('GET', '/v2.1/images/detail', c.demo)).images;
  for (const i of detail) for (const k of IMAGE_KEYS) assert.ok(k in i, `${k} in ${JSON.stringify(i)}`);

  // Filters: name, status (Nova's upper case), changes-since, limit with a next link, marker.
  assert.deepEqual((await c.api.ok('GET', `/v2.1/images?name=${name}`, c.demo)).images.map((i: any) => i.id), [mine]);
  const active = (await c.api.ok('GET', '/v2.1/images/detail?status=ACTIVE', c.demo)).images;
  assert.ok(active.length >= 2 && active.every((i: any) => i.status === 'ACTIVE'));
  assert.ok(!active.some((i: any) => i.id === queued));
  const since = (await c.api.ok('GET', `/v2.1/images?changes-since=${encodeURIComponent(img.created)}`, c.demo)).images.map((i: any) => i.id);
  assert.ok(since.includes(mine));
  assert.ok(!since.includes(c.imageId) || Date.parse(img.created) <= Date.parse((await c.api.ok('GET', `/v2.1/images/${c.imageId}`, c.demo)).image.updated));
  const page1 = await c.api.ok('GET', '/v2.1/images?limit=1', c.demo);
  assert.equal(page1.images.length, 1);
  assert.equal(page1.images_links[0].rel, 'next');
  const next = new URL(page1.images_links[0].href);
  assert.equal(next.searchParams.get('marker'), page1.images[0].id);
  const page2 = await c.api.ok('GET', `/v2.1/images?limit=1&marker=${page1.images[0].id}`, c.demo);
  assert.equal(page2.images.length, 1);
  assert.notEqual(page2.images[0].id, page1.images[0].id);
  assert.ok(!('images_links' in (await c.api.ok('GET', '/v2.1/images', c.demo))), 'no next link under the page size');
  await c.api.fault('GET', '/v2.1/images?limit=x', c.demo, undefined, 400);

  // Removed at 2.36 (the image service's own API takes over).
  for (const p of ['/v2.1/images', '/v2.1/images/detail', `/v2.1/images/${mine}`]) {
    assert.equal(await c.api.fault('GET', p, c.demo, undefined, 404, { version: '2.36' }), 'The resource could not be found.');
  }
  assert.equal((await c.api.ok('GET', `/v2.1/images/${mine}`, c.demo, undefined, 200, { version: '2.35' })).image.id, mine);

  // Delete: the caller's own image; another project's private one is not found; twice is 404.
  await c.api.fault('DELETE', `/v2.1/images/${theirs}`, c.demo, undefined, 404);
  await c.api.fault('DELETE', `/v2.1/images/${mine}`, c.demo, undefined, 404, { version: '2.36' });
  assert.equal((await c.api.call('DELETE', `/v2.1/images/${queued}`, c.demo)).status, 204);
  await c.api.fault('GET', `/v2.1/images/${queued}`, c.demo, undefined, 404);
  await c.api.fault('DELETE', `/v2.1/images/${queued}`, c.demo, undefined, 404);
  assert.equal(await c.api.fault('DELETE', `/v2.1/images/${c.imageId}`, c.demo, undefined, 403), 'You are not allowed to delete the image.');
  for (const id of [mine, theirs]) assert.equal((await c.api.call('DELETE', `/v2.1/images/${id}`, c.admin)).status, 204);
});

test('image metadata proxy: list, set (replace), update (merge), item show/set/delete, quota 403, owner only, gone at 2.39', async () => {
  const id = await glanceImage(c.demo, { name: `meta-${run}`, visibility: 'private' }, Buffer.alloc(1024, 7));
  const base = `/v2.1/images/${id}/metadata`;
  assert.deepEqual(await c.api.ok('GET', base, c.demo), { metadata: {} });
  assert.deepEqual(await c.api.ok('PUT', base, c.demo, { metadata: { os_version: 'value1', os_distro: 'value2' } }), { metadata: { os_version: 'value1', os_distro: 'value2' } });
  assert.deepEqual(await c.api.ok('GET', base, c.demo), { metadata: { os_version: 'value1', os_distro: 'value2' } });
  // Replace drops what is not given; Glance has the result.
  await c.api.ok('PUT', base, c.demo, { metadata: { os_version: 'value2', architecture: 'value3' } });
  assert.deepEqual((await c.api.ok('GET', base, c.demo)).metadata, { os_version: 'value2', architecture: 'value3' });
  const g = (await glance('GET', `/v2/images/${id}`, c.demo)).body;
  assert.equal(g.os_version, 'value2');
  assert.ok(!('os_distro' in g));
  // Merge.
  assert.deepEqual((await c.api.ok('POST', base, c.demo, { metadata: { os_version: 'alt1', os_distro: 'value2' } })).metadata, { os_version: 'alt1', architecture: 'value3', os_distro: 'value2' });
  // One item.
  assert.deepEqual(await c.api.ok('GET', `${base}/os_distro`, c.demo), { meta: { os_distro: 'value2' } });
  assert.deepEqual(await c.api.ok('PUT', `${base}/os_version`, c.demo, { meta: { os_version: 'alt' } }), { meta: { os_version: 'alt' } });
  assert.equal((await c.api.ok('GET', base, c.demo)).metadata.os_version, 'alt');
  assert.equal(await c.api.fault('PUT', `${base}/os_version`, c.demo, { meta: { other: 'x' } }, 400), 'Request body and URI mismatch');
  await c.api.fault('PUT', `${base}/a`, c.demo, { meta: { a: '1', b: '2' } }, 400);
  await c.api.fault('PUT', base, c.demo, { metadata: { 'bad/key': 'x' } }, 400);
  assert.equal((await c.api.call('DELETE', `${base}/architecture`, c.demo)).status, 204);
  assert.deepEqual((await c.api.ok('GET', base, c.demo)).metadata, { os_version: 'alt', os_distro: 'value2' });
  assert.equal(await c.api.fault('DELETE', `${base}/architecture`, c.demo, undefined, 404), 'Invalid metadata key');
  await c.api.fault('GET', `${base}/architecture`, c.demo, undefined, 404);

  // Unknown image: 404 on every method.
  const none = '/v2.1/images/00000000-0000-4000-8000-000000000000/metadata';
  await c.api.fault('GET', none, c.demo, undefined, 404);
  await c.api.fault('POST', none, c.demo, { metadata: { a: 'b' } }, 404);
  await c.api.fault('PUT', none, c.demo, { metadata: { a: 'b' } }, 404);
  await c.api.fault('PUT', `${none}/a`, c.demo, { meta: { a: 'b' } }, 404);
  await c.api.fault('DELETE', `${none}/a`, c.demo, undefined, 404);

  // The project's metadata_items quota bounds the image's properties (Nova's 403).
  await c.api.ok('PUT', `/v2.1/os-quota-sets/${c.demoProject}`, c.admin, { quota_set: { metadata_items: 3 } });
  try {
    assert.equal(await c.api.fault('POST', base, c.demo, { metadata: { k1: 'a', k2: 'b' } }, 403), 'Image metadata limit exceeded');
    assert.equal(await c.api.fault('PUT', base, c.demo, { metadata: { k1: 'a', k2: 'b', k3: 'c', k4: 'd' } }, 403), 'Image metadata limit exceeded');
    await c.api.ok('PUT', base, c.demo, { metadata: { k1: 'a', k2: 'b', k3: 'c' } });
  } finally {
    await c.api.call('DELETE', `/v2.1/os-quota-sets/${c.demoProject}`, c.admin);
  }

  // A public image of another project: readable, not writable (Glance's 403 as Nova's).
  assert.equal(typeof (await c.api.ok('GET', `/v2.1/images/${c.imageId}/metadata`, c.demo)).metadata, 'object');
  assert.equal(await c.api.fault('POST', `/v2.1/images/${c.imageId}/metadata`, c.demo, { metadata: { x: 'y' } }, 403), `Not authorized for image ${c.imageId}.`);

  // Gone at 2.39 (still there at 2.38, after the image proxy itself left at 2.36).
  assert.equal((await c.api.ok('GET', base, c.demo, undefined, 200, { version: '2.38' })).metadata.k1, 'a');
  await c.api.fault('GET', base, c.demo, undefined, 404, { version: '2.39' });
  await c.api.fault('PUT', `${base}/k1`, c.demo, { meta: { k1: 'z' } }, 404, { version: '2.39' });
  assert.equal((await c.api.call('DELETE', `/v2.1/images/${id}`, c.demo)).status, 204);
});

test('image proxy: a snapshot waits SAVING → ACTIVE on GET /images/{id}, links its server, and lists by server and type', async () => {
  const id = await c.createServer(c.demo, { name: 'snapped' });
  await c.waitStatus(id, 'ACTIVE');
  const res = await c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, { createImage: { name: `snap-${run}`, metadata: { purpose: 'test' } } });
  assert.equal(res.status, 202, res.text);
  const imageId = (res.headers.get('location') ?? '').split('/').pop()!;
  const img = await until('snapshot ACTIVE', async () => {
    const r = await c.api.call('GET', `/v2.1/images/${imageId}`, c.demo);
    assert.equal(r.status, 200, r.text);
    assert.ok(['SAVING', 'ACTIVE'].includes(r.body.image.status), r.text);
    return r.body.image.status === 'ACTIVE' ? r.body.image : undefined;
  });
  assert.equal(img.name, `snap-${run}`);
  assert.equal(img.metadata.image_type, 'snapshot');
  assert.equal(img.metadata.instance_uuid, id);
  assert.equal(img.metadata.purpose, 'test');
  assert.deepEqual(sorted(img.server), ['id', 'links']);
  assert.equal(img.server.id, id);
  assert.match(img.server.links[0].href, new RegExp(`/v2\\.1/servers/${id}$`));
  assert.ok(img['OS-EXT-IMG-SIZE:size'] > 0);

  const byServer = (await c.api.ok('GET', `/v2.1/images?server=${id}`, c.demo)).images.map((i: any) => i.id);
  assert.deepEqual(byServer, [imageId]);
  const server = (await c.api.ok('GET', `/v2.1/servers/${id}`, c.demo)).server;
  const byLink = (await c.api.ok('GET', `/v2.1/images/detail?server=${encodeURIComponent(server.links[0].href)}`, c.demo)).images.map((i: any) => i.id);
  assert.deepEqual(byLink, [imageId]);
  const snaps = (await c.api.ok('GET', '/v2.1/images?type=snapshot', c.demo)).images.map((i: any) => i.id);
  assert.ok(snaps.includes(imageId) && !snaps.includes(c.imageId));

  assert.equal((await c.api.call('DELETE', `/v2.1/images/${imageId}`, c.demo)).status, 204);
  await c.api.fault('GET', `/v2.1/images/${imageId}`, c.demo, undefined, 404);
  await c.deleteServer(c.demo, id);
});

test('os-hosts: services by host and zone, a compute host\'s resources, 501 for what libvirt does not do, 404 at 2.43', async () => {
  const [a, b] = c.hosts;
  const hosts = (await c.api.ok('GET', '/v2.1/os-hosts', c.admin)).hosts;
  for (const h of hosts) assert.deepEqual(sorted(h), ['host_name', 'service', 'zone']);
  for (const name of [a, b]) assert.deepEqual(hosts.find((h: any) => h.host_name === name), { host_name: name, service: 'compute', zone: 'nova' });
  assert.ok((await c.api.ok('GET', '/v2.1/os-hosts?zone=nova', c.admin)).hosts.some((h: any) => h.host_name === a));
  assert.ok((await c.api.ok('GET', '/v2.1/os-hosts?zone=', c.admin)).hosts.length >= 2);
  assert.deepEqual((await c.api.ok('GET', '/v2.1/os-hosts?zone=xxx', c.admin)).hosts, []);
  await c.api.fault('GET', '/v2.1/os-hosts', c.demo, undefined, 403);
  await c.api.fault('GET', '/v2.1/os-hosts', c.admin, undefined, 404, { version: '2.43' });
  assert.ok(Array.isArray((await c.api.ok('GET', '/v2.1/os-hosts', c.admin, undefined, 200, { version: '2.42' })).hosts));

  // A server on host a: used_max and the project's line count its flavor (m1.nano: 1 vCPU, 128 MiB, 1 GB).
  const id = await c.createServer(c.admin, { name: 'on-a', host: a, networks: 'none' }, undefined, '2.74');
  await c.waitStatus(id, 'ACTIVE');
  const res = (await c.api.ok('GET', `/v2.1/os-hosts/${a}`, c.admin)).host.map((r: any) => r.resource);
  for (const r of res) assert.deepEqual(sorted(r), ['cpu', 'disk_gb', 'host', 'memory_mb', 'project']);
  assert.deepEqual(res.slice(0, 3).map((r: any) => r.project), ['(total)', '(used_now)', '(used_max)']);
  assert.ok(res.every((r: any) => r.host === a));
  assert.equal(res[0].cpu, 16, 'the fake host\'s vCPUs');
  const mine = res.find((r: any) => r.project === c.adminProject);
  assert.deepEqual(mine, { host: a, project: c.adminProject, cpu: 1, memory_mb: 128, disk_gb: 1 });
  assert.ok(res[2].cpu >= 1 && res[2].memory_mb >= 128);
  assert.match(await c.api.fault('GET', '/v2.1/os-hosts/nonexistent_hostname', c.admin, undefined, 404), /nonexistent_hostname/);
  await c.api.fault('GET', `/v2.1/os-hosts/${a}`, c.demo, undefined, 403);

  // Update and power actions: schema 400, policy 403, unknown host 404, else 501.
  await c.api.fault('PUT', `/v2.1/os-hosts/${a}`, c.admin, { status: 'invalid', maintenance_mode: 'enable' }, 400);
  await c.api.fault('PUT', `/v2.1/os-hosts/${a}`, c.admin, { status: null, maintenance_mode: null }, 400);
  await c.api.fault('PUT', `/v2.1/os-hosts/${a}`, c.admin, {}, 400);
  await c.api.fault('PUT', `/v2.1/os-hosts/${a}`, c.demo, { status: 'enable', maintenance_mode: 'enable' }, 403);
  await c.api.fault('PUT', '/v2.1/os-hosts/nonexistent_hostname', c.admin, { status: 'enable' }, 404);
  await c.api.fault('PUT', `/v2.1/os-hosts/${a}`, c.admin, { status: 'disable' }, 501, { name: 'notImplemented' });
  for (const action of ['startup', 'shutdown', 'reboot']) {
    await c.api.fault('GET', `/v2.1/os-hosts/${a}/${action}`, c.demo, undefined, 403);
    await c.api.fault('GET', `/v2.1/os-hosts/nonexistent_hostname/${action}`, c.admin, undefined, 404);
    assert.equal(await c.api.fault('GET', `/v2.1/os-hosts/${a}/${action}`, c.admin, undefined, 501, { name: 'notImplemented' }), 'The requested functionality is not supported.');
  }
  await c.deleteServer(c.admin, id);
});

test('os-migrations: a resize is a migration (pre-migrating → finished → confirmed / reverted); fields per microversion; filters, paging, policy', async () => {
  const flavorIds = async (...ids: string[]) => {
    const rows = await c.h.cloud.compute.ctx.db.selectFrom('compute_flavor').select(['id', 'flavorid']).where('flavorid', 'in', ids).execute();
    return ids.map((f) => Number(rows.find((r) => r.flavorid === f)!.id));
  };
  const [nano, micro] = await flavorIds('42', '84');
  const id = await c.createServer(c.demo, { name: 'resized' });
  const host = (await c.waitStatus(id, 'ACTIVE'))['OS-EXT-SRV-ATTR:host'];
  assert.equal((await c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, { resize: { flavorRef: '84' } })).status, 202);
  await c.waitStatus(id, 'VERIFY_RESIZE');
  const listed = async (version?: string, query = '') =>
    (await c.api.ok('GET', `/v2.1/os-migrations${query}`, c.admin, undefined, 200, version ? { version } : {})).migrations.filter((m: any) => m.instance_uuid === id);
  const [m] = await listed();
  const BASE = ['created_at', 'dest_compute', 'dest_host', 'dest_node', 'id', 'instance_uuid', 'new_instance_type_id', 'old_instance_type_id', 'source_compute', 'source_node', 'status', 'updated_at'];
  assert.deepEqual(sorted(m), BASE);
  assert.equal(m.status, 'finished');
  assert.deepEqual([m.source_compute, m.dest_compute, m.old_instance_type_id, m.new_instance_type_id], [host, host, nano, micro]);
  assert.equal(typeof m.id, 'number');
  assert.deepEqual(sorted((await listed('2.23'))[0]), [...BASE, 'migration_type'].sort());
  assert.equal((await listed('2.23'))[0].migration_type, 'resize');
  const v259 = (await listed('2.59'))[0];
  assert.deepEqual(sorted(v259), [...BASE, 'migration_type', 'uuid'].sort());
  const v280 = (await listed('2.80'))[0];
  assert.deepEqual(sorted(v280), [...BASE, 'migration_type', 'project_id', 'user_id', 'uuid'].sort());
  assert.equal(v280.project_id, c.demoProject);

  assert.equal((await c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, { confirmResize: null })).status, 204);
  await c.waitStatus(id, 'ACTIVE');
  assert.equal((await until('migration confirmed', async () => ((await listed())[0].status === 'confirmed' ? true : undefined))), true);
  assert.equal((await listed(undefined, `?instance_uuid=${id}&status=confirmed`)).length, 1);
  assert.equal((await listed(undefined, `?host=${host}&migration_type=resize`)).length, 1);
  assert.equal((await listed(undefined, '?status=error')).length, 0);
  assert.equal((await listed(undefined, '?source_compute=elsewhere')).length, 0);

  // A second resize, reverted.
  assert.equal((await c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, { resize: { flavorRef: '42' } })).status, 202);
  await c.waitStatus(id, 'VERIFY_RESIZE');
  assert.equal((await c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, { revertResize: null })).status, 202);
  await c.waitStatus(id, 'ACTIVE');
  const both = await until('migration reverted', async () => {
    const l = await listed('2.59');
    return l.length === 2 && l[0].status === 'reverted' ? l : undefined;
  });
  assert.equal(both[1].status, 'confirmed', 'newest first from 2.59');
  assert.deepEqual([both[0].old_instance_type_id, both[0].new_instance_type_id], [micro, nano]);

  // 2.59 paging: limit, marker, next link; a bad marker and bad times are 400.
  const p1 = await c.api.ok('GET', `/v2.1/os-migrations?instance_uuid=${id}&limit=1`, c.admin, undefined, 200, { version: '2.59' });
  assert.deepEqual(p1.migrations.map((x: any) => x.uuid), [both[0].uuid]);
  assert.equal(new URL(p1.migrations_links[0].href).searchParams.get('marker'), both[0].uuid);
  const p2 = await c.api.ok('GET', `/v2.1/os-migrations?instance_uuid=${id}&limit=1&marker=${both[0].uuid}`, c.admin, undefined, 200, { version: '2.59' });
  assert.deepEqual(p2.migrations.map((x: any) => x.uuid), [both[1].uuid]);
  assert.match(await c.api.fault('GET', '/v2.1/os-migrations?marker=nope', c.admin, undefined, 400, { version: '2.59' }), /Marker nope could not be found/);
  await c.api.fault('GET', '/v2.1/os-migrations?changes-since=yesterday', c.admin, undefined, 400, { version: '2.59' });
  await c.api.fault('GET', '/v2.1/os-migrations?bogus=1', c.admin, undefined, 400, { version: '2.59' });
  assert.equal((await c.api.ok('GET', `/v2.1/os-migrations?changes-since=2000-01-01T00:00:00Z&instance_uuid=${id}`, c.admin, undefined, 200, { version: '2.59' })).migrations.length, 2);
  assert.equal((await c.api.ok('GET', `/v2.1/os-migrations?changes-since=2999-01-01T00:00:00Z&instance_uuid=${id}`, c.admin, undefined, 200, { version: '2.59' })).migrations.length, 0);
  assert.match(await c.api.fault('GET', '/v2.1/os-migrations?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z', c.admin, undefined, 400, { version: '2.66' }), /changes-since must be less than or equal to changes-before/);
  assert.equal((await c.api.ok('GET', '/v2.1/os-migrations?bogus=1', c.admin)).migrations.length >= 2, true, 'before 2.59 unknown filters are ignored');

  // Policy: a project member may not list (manager or admin); a deleted server's migrations are gone.
  await c.api.fault('GET', '/v2.1/os-migrations', c.demo, undefined, 403);
  await c.deleteServer(c.demo, id);
  assert.deepEqual(await listed(), []);
});

test('os-server-password: an empty password, cleared with 204; other projects\' servers are not found', async () => {
  const id = await c.createServer(c.demo, { name: 'pw' });
  await c.waitStatus(id, 'ACTIVE');
  assert.deepEqual(await c.api.ok('GET', `/v2.1/servers/${id}/os-server-password`, c.demo), { password: '' });
  const del = await c.api.call('DELETE', `/v2.1/servers/${id}/os-server-password`, c.demo);
  assert.equal(del.status, 204);
  assert.equal(del.text, '');
  assert.deepEqual(await c.api.ok('GET', `/v2.1/servers/${id}/os-server-password`, c.admin), { password: '' });
  const theirs = await c.createServer(c.admin, { name: 'pw-admin', networks: 'none' }, undefined, '2.37');
  await c.waitStatus(theirs, 'ACTIVE');
  await c.api.fault('GET', `/v2.1/servers/${theirs}/os-server-password`, c.demo, undefined, 404);
  await c.api.fault('DELETE', `/v2.1/servers/${theirs}/os-server-password`, c.demo, undefined, 404);
  await c.api.fault('GET', '/v2.1/servers/00000000-0000-4000-8000-000000000000/os-server-password', c.demo, undefined, 404);
  await c.deleteServer(c.admin, theirs);
  await c.deleteServer(c.demo, id);
});

test('os-server-external-events: 200 per event for a server on a host, 207 with 404/400 codes, schema per microversion, service or admin only', async () => {
  const id = await c.createServer(c.demo, { name: 'events' });
  await c.waitStatus(id, 'ACTIVE');
  const ok = await c.api.call('POST', '/v2.1/os-server-external-events', c.admin, { events: [{ name: 'network-changed', server_uuid: id }] });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { events: [{ name: 'network-changed', server_uuid: id, status: 'completed', code: 200 }] });

  const unknown = '00000000-0000-4000-8000-000000000000';
  const mixed = await c.api.call('POST', '/v2.1/os-server-external-events', c.admin, {
    events: [{ name: 'network-vif-plugged', server_uuid: id, tag: 'port-1', status: 'completed' }, { name: 'network-vif-plugged', server_uuid: unknown }],
  });
  assert.equal(mixed.status, 207, mixed.text);
  assert.deepEqual(mixed.body.events.map((e: any) => [e.server_uuid, e.code, e.status]), [[id, 200, 'completed'], [unknown, 404, 'failed']]);
  assert.equal(mixed.body.events[0].tag, 'port-1');
  const all404 = await c.api.call('POST', '/v2.1/os-server-external-events', c.admin, { events: [{ name: 'network-changed', server_uuid: unknown }] });
  assert.equal(all404.status, 207);

  // power-update exists from 2.76 and needs a tag.
  await c.api.fault('POST', '/v2.1/os-server-external-events', c.admin, { events: [{ name: 'power-update', server_uuid: id, tag: 'POWER_OFF' }] }, 400);
  const untagged = await c.api.call('POST', '/v2.1/os-server-external-events', c.admin, { events: [{ name: 'power-update', server_uuid: id }] }, { version: '2.76' });
  assert.equal(untagged.status, 207);
  assert.equal(untagged.body.events[0].code, 400);
  await c.api.fault('POST', '/v2.1/os-server-external-events', c.admin, { events: [] }, 400);
  await c.api.fault('POST', '/v2.1/os-server-external-events', c.admin, { events: [{ name: 'network-changed' }] }, 400);
  await c.api.fault('POST', '/v2.1/os-server-external-events', c.admin, { events: [{ name: 'network-changed', server_uuid: 'not-a-uuid' }] }, 400);
  await c.api.fault('POST', '/v2.1/os-server-external-events', c.demo, { events: [{ name: 'network-changed', server_uuid: id }] }, 403);
  await c.deleteServer(c.demo, id);
});

test('server diagnostics: 2.48 standard form from the driver, the libvirt-style keys before, admin only, a stopped server shows no counters', async () => {
  const id = await c.createServer(c.demo, { name: 'diag' });
  const server = await c.waitStatus(id, 'ACTIVE');
  const mac = Object.values(server.addresses as Record<string, any[]>).flat()[0]['OS-EXT-IPS-MAC:mac_addr'];
  const d = await c.api.ok('GET', `/v2.1/servers/${id}/diagnostics`, c.admin, undefined, 200, { version: '2.48' });
  assert.deepEqual(sorted(d), ['config_drive', 'cpu_details', 'disk_details', 'driver', 'hypervisor', 'hypervisor_os', 'memory_details', 'nic_details', 'num_cpus', 'num_disks', 'num_nics', 'state', 'uptime']);
  assert.deepEqual([d.state, d.driver, d.hypervisor, d.hypervisor_os, d.config_drive], ['running', 'libvirt', 'qemu', 'linux', false]);
  assert.deepEqual(d.memory_details, { maximum: 128, used: 128 });
  assert.deepEqual([d.num_cpus, d.num_nics, d.num_disks], [1, 1, 1]);
  assert.deepEqual(d.cpu_details, [{ id: 0, time: null, utilisation: null }]);
  assert.deepEqual(sorted(d.disk_details[0]), ['errors_count', 'read_bytes', 'read_requests', 'write_bytes', 'write_requests']);
  assert.equal(d.nic_details[0].mac_address, mac);
  assert.deepEqual(sorted(d.nic_details[0]), ['mac_address', 'rx_drop', 'rx_errors', 'rx_octets', 'rx_packets', 'rx_rate', 'tx_drop', 'tx_errors', 'tx_octets', 'tx_packets', 'tx_rate']);
  assert.ok(Number.isInteger(d.uptime) && d.uptime >= 0);

  const legacy = await c.api.ok('GET', `/v2.1/servers/${id}/diagnostics`, c.admin);
  assert.equal(legacy.memory, 128 * 1024, 'KiB, as libvirt reports it');
  assert.ok(!('driver' in legacy));
  await c.api.fault('GET', `/v2.1/servers/${id}/diagnostics`, c.demo, undefined, 403);
  await c.api.fault('GET', '/v2.1/servers/00000000-0000-4000-8000-000000000000/diagnostics', c.admin, undefined, 404);

  assert.equal((await c.api.call('POST', `/v2.1/servers/${id}/action`, c.demo, { 'os-stop': null })).status, 202);
  await c.waitStatus(id, 'SHUTOFF');
  const off = await c.api.ok('GET', `/v2.1/servers/${id}/diagnostics`, c.admin, undefined, 200, { version: '2.48' });
  assert.deepEqual([off.state, off.num_cpus, off.num_disks, off.memory_details.used], ['shutdown', 0, 0, 0]);
  assert.equal(off.nic_details[0].mac_address, mac);
  await c.deleteServer(c.demo, id);
});

test('hostile input on these routes: never a 5xx (501 only with its reason), always Nova\'s fault body', async () => {
  const id = await c.createServer(c.demo, { name: 'hostile' });
  await c.waitStatus(id, 'ACTIVE');
  const ids = ['%00', 'x'.repeat(300), '..%2F..', '%E2%82%A1', '-1', '%27%3B%20DROP', '00000000-0000-0000-0000-000000000000', c.imageId];
  const bodies: unknown[] = ['', 'not json', '[]', 'null', '{"metadata": []}', '{"metadata": {"a": 1}}', '{"meta": {"a": {"b": 1}}}', { metadata: { ['k'.repeat(300)]: 'v' } },
    { events: [{ name: 'network-changed', server_uuid: id, extra: 1 }] }, { events: 'x' }, { status: ['enable'] }];
  const calls: [string, string, unknown?, string?][] = [];
  for (const i of ids) {
    calls.push(['GET', `/v2.1/images/${i}`], ['DELETE', `/v2.1/images/${i === c.imageId ? 'x' : i}`], ['GET', `/v2.1/images/${i}/metadata`], ['GET', `/v2.1/images/${i}/metadata/${i}`],
      ['DELETE', `/v2.1/images/${i}/metadata/${i}`], ['GET', `/v2.1/os-hosts/${i}`], ['GET', `/v2.1/os-hosts/${i}/reboot`], ['GET', `/v2.1/servers/${i}/diagnostics`, undefined, '2.48'],
      ['GET', `/v2.1/servers/${i}/os-server-password`], ['DELETE', `/v2.1/servers/${i}/os-server-password`]);
    for (const b of bodies) calls.push(['PUT', `/v2.1/images/${i}/metadata`, b], ['POST', `/v2.1/images/${i}/metadata`, b], ['PUT', `/v2.1/images/${i}/metadata/a`, b], ['PUT', `/v2.1/os-hosts/${i}`, b]);
  }
  for (const q of ['limit=-1', 'limit=99999999999999999999', 'limit=0', 'marker=%00', 'marker=nope', 'changes-since=x', 'minRam=abc', 'status=%00', 'server=/', 'property-=x', 'page_size=x', 'name=%00']) {
    calls.push(['GET', `/v2.1/images?${q}`], ['GET', `/v2.1/images/detail?${q}`]);
  }
  for (const q of ['limit=-1', 'limit=1&limit=2', 'marker=%00', 'changes-since=x', 'changes-before=2020-13-45', 'hidden=x', 'hidden=1', 'host=%00', 'status=', 'user_id=x&project_id=y']) {
    for (const v of ['2.1', '2.59', '2.66', '2.80']) calls.push(['GET', `/v2.1/os-migrations?${q}`, undefined, v]);
  }
  for (const q of ['zone=%00', 'zone=a&zone=b', 'x=y']) calls.push(['GET', `/v2.1/os-hosts?${q}`]);
  for (const b of bodies) calls.push(['POST', '/v2.1/os-server-external-events', b, '2.90']);
  for (const [method, path, body, version] of calls) {
    for (const token of [c.admin, c.demo]) {
      const r = await c.api.call(method, path, token, body, version ? { version } : {});
      const what = `${method} ${path} ${typeof body === 'string' ? body : JSON.stringify(body)}: ${r.status} ${r.text.slice(0, 300)}`;
      assert.ok(r.status < 500 || r.status === 501, what);
      if (r.status >= 400) {
        const [name, fault] = Object.entries(r.body ?? {})[0] ?? [];
        assert.ok(name && typeof fault === 'object' && (fault as any).code === r.status && typeof (fault as any).message === 'string' && (fault as any).message, what);
      }
    }
  }
  // Nothing was changed by any of it: the public image keeps its properties, the server its state.
  assert.equal((await c.api.ok('GET', `/v2.1/images/${c.imageId}`, c.admin)).image.status, 'ACTIVE');
  assert.equal((await c.show(id)).status, 'ACTIVE');
  await c.deleteServer(c.demo, id);
});
