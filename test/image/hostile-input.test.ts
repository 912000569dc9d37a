// Generated: walks every image route with hostile ids, bodies, content types and data. Expectation:
// never a 5xx (501 for what is not offered), always Glance's fault body on 4xx, and no state change
// (rows, stored files) from a rejected call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { routesOf } from '../../src/platform/http/server.js';

let h: IdentityHarness;
let admin: string;
let demo: string;
let queuedId: string;
let activeId: string;
let evilQcow2: Buffer;

const TABLES = ['image', 'image_property', 'image_tag', 'image_member', 'image_task',
  'metadef_namespace', 'metadef_object', 'metadef_property', 'metadef_tag', 'metadef_association'] as const;

async function call(method: string, url: string, token: string | undefined, body?: string | Buffer, contentType = 'application/json') {
  const res = await h.cloud.image.app.inject({
    method: method as never, url, payload: body,
    headers: { ...(token ? { 'x-auth-token': token } : {}), ...(body !== undefined ? { 'content-type': contentType } : {}) },
  });
  return res;
}

async function snapshot(): Promise<string> {
  const db = h.cloud.image.ctx.db as unknown as import('kysely').Kysely<Record<string, unknown>>;
  const counts: string[] = [];
  for (const t of TABLES) {
    const r = await db.selectFrom(t as never).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst() as { n: number | string };
    counts.push(`${t}=${Number(r.n)}`);
  }
  const statuses = await db.selectFrom('image' as never).select(['id' as never, 'status' as never]).orderBy('id' as never).execute();
  const files = (dir: string) => { try { return readdirSync(dir, { recursive: true }).map(String).sort().join(','); } catch { return ''; } };
  const cfg = h.config.image;
  return `${counts.join(' ')} ${JSON.stringify(statuses)} data[${files(cfg.data_dir!)}] stage[${files(cfg.staging_dir!)}]`;
}

before(async () => {
  h = await startIdentity();
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  const q = await call('POST', '/v2/images', admin, JSON.stringify({ name: 'hostile-queued', disk_format: 'qcow2', container_format: 'bare' }));
  assert.equal(q.statusCode, 201, q.body);
  queuedId = q.json().id;
  const a = await call('POST', '/v2/images', admin, JSON.stringify({ name: 'hostile-active', disk_format: 'raw', container_format: 'bare', visibility: 'shared' }));
  activeId = a.json().id;
  const up = await call('PUT', `/v2/images/${activeId}/file`, admin, Buffer.alloc(4096, 7), 'application/octet-stream');
  assert.equal(up.statusCode, 204, up.body);
  const dir = mkdtempSync(join(tmpdir(), 'nephos-test-hostile-'));
  try {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', join(dir, 'evil.qcow2'), '1M']);
    evilQcow2 = readFileSync(join(dir, 'evil.qcow2'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
after(async () => { await h?.close(); });

const hostileIds = () => ['x'.repeat(300), '..%2F..%2Fetc%2Fpasswd', '%00', 'ünïcødé-☃', "' OR 1=1 --", queuedId, activeId];
const jsonBodies = [
  '{bad json', '[]', 'null', '"string"', '12', '{}', JSON.stringify({ a: 'x'.repeat(70000) }),
  '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}',
  JSON.stringify({ name: 12, visibility: 'everyone', disk_format: 'exe', container_format: [], min_ram: -1, protected: 'yes' }),
  JSON.stringify({ name: 'n'.repeat(300), tags: ['x'.repeat(300)], os_glance_x: 'y', id: 'not-a-uuid' }),
  JSON.stringify({ status: 'active', size: 5, checksum: 'abc', location: 'file:///etc/passwd', locations: [{ url: 'file:///etc/passwd', metadata: {} }] }),
  JSON.stringify({ member: 12 }), JSON.stringify({ member: 'x'.repeat(300) }), JSON.stringify({ status: 'owned' }),
  JSON.stringify({ method: { name: 'web-download', uri: 'file:///etc/passwd' } }), JSON.stringify({ method: { name: 'glance-direct' }, stores: 'file' }),
  JSON.stringify({ method: 'glance-direct' }), JSON.stringify({ namespace: '\u0000', display_name: 7, visibility: 'x', resource_type_associations: 'a' }),
  JSON.stringify({ name: '\u0000\ud800', properties: 'x', tags: [{}], objects: 5 }),
];
const patchBodies = [
  '[{"op":"replace","path":"/status","value":"active"}]', '[{"op":"add","path":"/locations/-","value":{"url":"file:///etc/passwd","metadata":{}}}]',
  '[{"op":"remove","path":"/name"}]', '[{"op":"replace","path":"/visibility","value":"public"}]', '[{"op":"move","path":"/a"}]',
  '[{"op":"add","path":"/os_glance_import_task","value":"x"}]', '{"op":"add"}', '[{"op":"add","path":"/x~2y","value":1}]',
  '[{"op":"replace","path":"/min_ram","value":-5}]', '[{"op":"add","path":"/tags","value":"notalist"}]',
];

test('every image route answers hostile input with a 4xx in Glance form, never a 5xx, and rejected calls change nothing', async (t) => {
  const routes = routesOf(h.cloud.image.app);
  assert.ok(routes.length > 40, `expected the whole API, got ${routes.length} routes`);
  const failures: string[] = [];
  let calls = 0;
  let state = await snapshot();
  const check = async (method: string, path: string, token: string | undefined, body: string | Buffer | undefined, ct: string, label: string) => {
    calls++;
    const res = await call(method, path, token, body, ct);
    const where = `${method} ${path.slice(0, 90)} ${label} token=${token === admin ? 'admin' : token === demo ? 'demo' : token ?? 'none'}`;
    if (res.statusCode >= 500 && res.statusCode !== 501) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400 && method !== 'HEAD') {
      let parsed: any;
      try { parsed = JSON.parse(res.body); } catch { /* checked below */ }
      const glance = typeof parsed?.message === 'string' && parsed.code === `${res.statusCode} ${parsed.title}`;
      const keystone401 = res.statusCode === 401 && parsed?.error?.code === 401;
      if (!glance && !keystone401) failures.push(`bad fault body ${where}: ${res.body.slice(0, 160)}`);
    }
    const now = await snapshot();
    if (res.statusCode >= 400 && now !== state) failures.push(`state changed by a rejected call (${res.statusCode}) ${where}`);
    state = now;
  };
  for (const r of routes) {
    if (r.method === 'DELETE' && r.url === '/v2/images/:id') continue; // deleting is not a rejection; covered by the API suite
    const paths = r.url.includes(':') || r.url.includes('*')
      ? hostileIds().map((v) => r.url.replace(/:[A-Za-z_]+/g, v).replace('*', v))
      : [r.url];
    const writes = ['POST', 'PUT', 'PATCH'].includes(r.method);
    for (const path of paths) {
      for (const token of [admin, demo, undefined, 'gAAAAABnot-a-token']) {
        if (!writes) { await check(r.method, path, token, undefined, 'application/json', ''); continue; }
        if (token !== admin && token !== demo) { await check(r.method, path, token, '{}', 'application/json', 'body={}'); continue; }
        if (r.url.endsWith('/file') || r.url.endsWith('/stage')) {
          // Data routes: wrong content types, a hostile qcow2 declared qcow2, random bytes declared qcow2.
          await check(r.method, path, token, Buffer.from('data'), 'application/json', 'data as json');
          await check(r.method, path, token, Buffer.from('data'), 'text/plain', 'data as text');
          if (path.includes(queuedId)) {
            await check(r.method, path, token, evilQcow2, 'application/octet-stream', 'qcow2 with backing file');
            await check(r.method, path, token, Buffer.alloc(3000, 1), 'application/octet-stream', 'not qcow2');
          }
          continue;
        }
        if (r.method === 'PATCH') {
          for (const ct of ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch', 'application/json']) {
            for (const b of [...patchBodies, ...jsonBodies.slice(0, 6)]) {
              if (path.includes(activeId) && b.includes('"/visibility"') && token === admin) continue; // admin may publicize: not a rejection
              await check(r.method, path, token, b, ct, `patch ${ct.slice(-14)} ${b.slice(0, 40)}`);
            }
          }
          continue;
        }
        for (const b of jsonBodies) await check(r.method, path, token, b, 'application/json', `body=${b.slice(0, 50)}`);
      }
    }
  }
  t.diagnostic(`${calls} hostile calls over ${routes.length} routes`);
  assert.deepEqual(failures.slice(0, 25), []);
  // The fixtures are intact: the queued image has no data (staging may have accepted bytes: the
  // checks run at import), the active one's bytes are unchanged.
  const q = (await call('GET', `/v2/images/${queuedId}`, admin)).json();
  assert.ok(['queued', 'uploading'].includes(q.status), q.status);
  assert.equal(q.checksum, null);
  const dl = await call('GET', `/v2/images/${activeId}/file`, admin);
  assert.equal(dl.statusCode, 200);
  assert.ok(dl.rawPayload.equals(Buffer.alloc(4096, 7)));
});
