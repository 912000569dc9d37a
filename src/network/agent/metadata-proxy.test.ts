import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  instanceSignature, loadOrCreateProxyKey, metadataProxyToken, startMetadataProxy, type MetadataProxy,
} from './metadata-proxy.js';

const NET = 'a1b2c3d4-0000-4000-8000-000000000001';
const SECRET = 'shared-secret';
let dir: string;
let key: string;
let upstream: Server;
let upstreamUrl: string;
let seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
let proxy: MetadataProxy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nephos-mdproxy-'));
  await chmod(dir, 0o755);
  key = await loadOrCreateProxyKey(join(dir, 'proxy.key'));
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url?.startsWith('/slow')) return; // never answers
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ uuid: req.headers['x-instance-id'] }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxy = await startMetadataProxy({
    socketPath: join(dir, 'md.sock'), upstreamUrl, sharedSecret: SECRET, proxyKey: key, timeoutMs: 500,
    resolve: (net, ip) => (net === NET && ip === '10.0.0.5' ? { instanceId: 'inst-5', projectId: 'proj-1' } : null),
  });
});

after(async () => {
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function call(path: string, headers: Record<string, string>, body?: string, method = 'GET'): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'md.sock'), path, method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const fromHaproxy = (ip: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'X-Neutron-Network-ID': NET, 'X-Forwarded-For': ip, 'X-Nephos-Metadata-Token': metadataProxyToken(key, NET), ...extra,
});

test('the proxy key is created once (0600) and read back', async () => {
  assert.equal(key.length, 64);
  assert.equal((await stat(join(dir, 'proxy.key'))).mode & 0o777, 0o600);
  assert.equal(await loadOrCreateProxyKey(join(dir, 'proxy.key')), key);
  assert.equal((await stat(join(dir, 'md.sock'))).mode & 0o777, 0o666);
});

test('a known address is forwarded with the instance, project, signature and address; client identity headers are dropped', async () => {
  seen = [];
  const r = await call('/openstack/latest/meta_data.json?x=1', fromHaproxy('10.0.0.5', {
    'X-Instance-ID': 'someone-else', 'X-Tenant-ID': 'other', 'X-Instance-ID-Signature': 'forged', Accept: 'application/json', Cookie: 'c=1',
  }));
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { uuid: 'inst-5' });
  assert.equal(r.headers['x-upstream'], 'yes');
  assert.equal(seen.length, 1);
  const h = seen[0]!.headers;
  assert.equal(seen[0]!.url, '/openstack/latest/meta_data.json?x=1');
  assert.equal(h['x-instance-id'], 'inst-5');
  assert.equal(h['x-tenant-id'], 'proj-1');
  assert.equal(h['x-instance-id-signature'], instanceSignature(SECRET, 'inst-5'));
  assert.equal(h['x-forwarded-for'], '10.0.0.5');
  assert.equal(h.accept, 'application/json');
  assert.equal(h.cookie, undefined);
  assert.equal(h['x-neutron-network-id'], undefined);
  assert.equal(h['x-nephos-metadata-token'], undefined);
});

test('the signature is Nova\'s: hex HMAC-SHA256 of the instance id', () => {
  // python3 -c "import hmac,hashlib;print(hmac.new(b'shared-secret',b'inst-5',hashlib.sha256).hexdigest())"
  assert.equal(instanceSignature('shared-secret', 'inst-5'), 'd7ae1f67a4d65ddabcba6ee0f0dcc5e79efb2286894ea21ce2cdc3fbad89a265');
});

test('a POST body reaches the upstream', async () => {
  seen = [];
  const r = await call('/openstack/latest/password', { ...fromHaproxy('10.0.0.5'), 'Content-Type': 'text/plain' }, 'secret-pw', 'POST');
  assert.equal(r.status, 200);
  assert.deepEqual([seen[0]?.method, seen[0]?.body, seen[0]?.headers['content-type']], ['POST', 'secret-pw', 'text/plain']);
});

test('an appended X-Forwarded-For chain counts by its last (haproxy-set) entry', async () => {
  seen = [];
  assert.equal((await call('/', fromHaproxy('10.0.0.5, 10.0.0.9'))).status, 404);
  assert.equal((await call('/', fromHaproxy('10.0.0.9, 10.0.0.5'))).status, 200);
  assert.equal(seen.length, 1);
});

test('an address without an instance gets 404 and nothing reaches the upstream', async () => {
  seen = [];
  const r = await call('/openstack/latest/meta_data.json', fromHaproxy('10.0.0.6'));
  assert.equal(r.status, 404);
  assert.equal(seen.length, 0);
});

test('requests not from a network\'s haproxy are refused', async () => {
  seen = [];
  assert.equal((await call('/', fromHaproxy('10.0.0.5', { 'X-Nephos-Metadata-Token': 'guess' }))).status, 403);
  assert.equal((await call('/', fromHaproxy('10.0.0.5', { 'X-Nephos-Metadata-Token': metadataProxyToken(key, 'other-net') }))).status, 403);
  assert.equal((await call('/', { 'X-Forwarded-For': '10.0.0.5' })).status, 400);
  assert.equal((await call('/', fromHaproxy('not-an-ip'))).status, 400);
  assert.equal(seen.length, 0);
});

test('an upstream that does not answer in time gives 504', async () => {
  const r = await call('/slow', fromHaproxy('10.0.0.5'));
  assert.equal(r.status, 504);
  assert.match(r.body, /did not answer within 500 ms/);
});

test('an upstream that is down gives 502 naming it', async () => {
  const down = await startMetadataProxy({
    socketPath: join(dir, 'down.sock'), upstreamUrl: 'http://127.0.0.1:1', sharedSecret: SECRET, proxyKey: key,
    resolve: () => ({ instanceId: 'i', projectId: 'p' }),
  });
  try {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: join(dir, 'down.sock'), path: '/', headers: fromHaproxy('10.0.0.5') }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.status, 502);
    assert.match(r.body, /http:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/);
  } finally {
    await down.close();
  }
});

test('a socket in a directory nobody can enter is refused at start', async () => {
  const priv = await mkdtemp(join(tmpdir(), 'nephos-mdpriv-'));
  try {
    await assert.rejects(startMetadataProxy({
      socketPath: join(priv, 'x.sock'), upstreamUrl, sharedSecret: SECRET, proxyKey: key, resolve: () => null,
    }), /not traversable by other users/);
  } finally {
    await rm(priv, { recursive: true, force: true });
  }
});
