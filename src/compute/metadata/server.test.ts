import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { instanceSignature } from '../../network/agent/metadata-proxy.js';
import { silentLogger } from '../../platform/log.js';
import type { InstanceMetadata } from './model.js';
import { sampleInstance } from './sample.js';
import { createMetadataServer, type MetadataServer } from './server.js';

const SECRET = 'unit-test-secret';
const md = sampleInstance();
let lookups = 0;
let failLookup = false;
let server: MetadataServer;

before(async () => {
  server = await createMetadataServer({
    host: '127.0.0.1', port: 0, sharedSecret: SECRET, log: silentLogger(), cacheSeconds: 0,
    lookup: async (id): Promise<InstanceMetadata | null> => {
      lookups++;
      if (failLookup) throw new Error('database down');
      return id === md.uuid ? md : null;
    },
  });
});
after(async () => { await server.close(); });

const signed = (id = md.uuid, tenant = md.projectId): Record<string, string> => ({
  'x-instance-id': id, 'x-tenant-id': tenant, 'x-instance-id-signature': instanceSignature(SECRET, id), 'x-forwarded-for': '10.0.0.5',
});

async function get(path: string, headers: Record<string, string> = signed(), method = 'GET') {
  const r = await fetch(`${server.url}${path}`, { method, headers });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text(), headers: r.headers };
}

/** Sends raw bytes and returns the status line (for request targets fetch() would normalise). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, '127.0.0.1');
    let out = '';
    s.on('data', (b) => { out += b.toString('latin1'); });
    s.on('end', () => resolve(out.split('\r\n')[0]!));
    s.on('error', reject);
    s.end(request);
  });
}

test('a signed request gets its documents, plain text or JSON, with a request id', async () => {
  const r = await get('/openstack/latest/meta_data.json');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/json');
  assert.equal(JSON.parse(r.text).uuid, md.uuid);
  assert.match(r.headers.get('x-openstack-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
  const ec2 = await get('/latest/meta-data/');
  assert.equal(ec2.type, 'text/plain; charset=utf-8');
  assert.match(ec2.text, /^ami-id\n/);
  assert.equal((await get('/latest/meta-data/local-ipv4')).text, '10.0.0.5');
  assert.equal((await get('/latest/user-data')).text, '#!/bin/sh\necho hello from user data\n');
});

test('the root listing is public, as Nova', async () => {
  const r = await get('/', {});
  assert.equal(r.status, 200);
  assert.match(r.text, /^1\.0\n[\s\S]*\nlatest$/);
});

test('a missing header is 400, an invalid signature 403, and the lookup is not even made', async () => {
  const before = lookups;
  const { 'x-instance-id-signature': _s, ...unsigned } = signed();
  assert.equal((await get('/latest/meta-data/', unsigned)).status, 400);
  const { 'x-tenant-id': _t, ...noTenant } = signed();
  assert.match((await get('/latest/meta-data/', noTenant)).text, /X-Tenant-ID header is missing/);
  assert.equal((await get('/latest/meta-data/', {})).status, 400);
  const forged = { ...signed(), 'x-instance-id-signature': instanceSignature('other-secret', md.uuid) };
  const r = await get('/latest/meta-data/', forged);
  assert.equal(r.status, 403);
  assert.match(r.text, /Invalid proxy request signature/);
  assert.equal((await get('/latest/meta-data/', { ...signed(), 'x-instance-id-signature': 'abc' })).status, 403);
  // A signature for one instance does not open another.
  assert.equal((await get('/latest/meta-data/', { ...signed('other-instance'), 'x-instance-id': md.uuid })).status, 403);
  assert.equal(lookups, before);
});

test('duplicated identity headers are refused (400)', async () => {
  const sig = instanceSignature(SECRET, md.uuid);
  const line = await raw(`GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Instance-ID: ${md.uuid}\r\nX-Instance-ID: ${md.uuid}\r\nX-Tenant-ID: ${md.projectId}\r\nX-Instance-ID-Signature: ${sig}\r\n\r\n`);
  assert.match(line, / 400 /);
});

test('an unknown instance, or a tenant that is not the instance\'s project, is 404', async () => {
  assert.equal((await get('/latest/meta-data/', signed('no-such-instance'))).status, 404);
  assert.equal((await get('/latest/meta-data/', signed(md.uuid, 'another-project'))).status, 404);
});

test('only GET and HEAD: HEAD has the headers and no body, anything else is 405', async () => {
  const h = await get('/openstack/latest/user_data', signed(), 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.text, '');
  assert.equal(h.headers.get('content-length'), String('#!/bin/sh\necho hello from user data\n'.length));
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await get('/openstack/latest/password', signed(), m);
    assert.equal(r.status, 405, m);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
  }
});

test('hostile paths are 404 (or refused by the HTTP parser), never a 500', async () => {
  const sig = Object.entries(signed()).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const status = async (target: string): Promise<string> =>
    (await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${sig}\r\n`)).split(' ')[1]!;
  for (const p of ['/../../../etc/passwd', '/openstack/latest/%00', '/openstack/latest/meta_data.json%00.txt', '/%zz', '/%',
    '/latest/meta-data/__proto__', '/latest/meta-data/hostname/more', `/latest/${'x/'.repeat(4000)}`, '/openstack/latest/../../../../../proc/self/environ']) {
    assert.equal(await status(p), '404', p.slice(0, 50));
  }
  // `..` climbs no higher than the root, as in Nova: these are the root listing and a real leaf.
  assert.equal(await status('/latest/meta-data/%2e%2e/%2e%2e/%2e%2e'), '200');
  assert.equal((await get('/latest/meta-data/%2e%2e/meta-data/hostname')).text, 'web-1.novalocal');
  assert.equal(await status(`/${'y'.repeat(20_000)}`), '431');
  assert.equal(await status('http://169.254.169.254/latest/meta-data/hostname?x=1'), '200');
  assert.match(await raw('GARBAGE\r\n\r\n'), / 400 /);
});

test('a failing lookup is a 500 saying to try again, and the service keeps serving', async () => {
  failLookup = true;
  try {
    const r = await get('/latest/meta-data/');
    assert.equal(r.status, 500);
    assert.match(r.text, /try your request again/);
  } finally {
    failLookup = false;
  }
  assert.equal((await get('/latest/meta-data/instance-id')).text, 'i-0000002a');
});

test('records are cached for cacheSeconds (Nova\'s metadata_cache_expiration)', async () => {
  let n = 0;
  const cached = await createMetadataServer({
    host: '127.0.0.1', port: 0, sharedSecret: SECRET, log: silentLogger(), cacheSeconds: 60,
    lookup: async (id) => { n++; return id === md.uuid ? md : null; },
  });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${cached.url}/latest/meta-data/hostname`, { headers: signed() });
      assert.equal(await r.text(), 'web-1.novalocal');
    }
    assert.equal(n, 1);
  } finally {
    await cached.close();
  }
});

test('a service without a shared secret does not start', async () => {
  await assert.rejects(createMetadataServer({ host: '127.0.0.1', port: 0, sharedSecret: '', log: silentLogger(), lookup: async () => null }), /shared secret/);
});
