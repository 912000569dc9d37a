// Image download over real HTTP through the fast path (the route writes into the socket itself):
// the API's usual headers, ranges across buffer boundaries, HEAD, a client leaving mid-download.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function http(h: IdentityHarness, method: string, path: string, token: string, opts: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${h.imageUrl}${path}`, { method, headers: { 'x-auth-token': token, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Odd-sized, several of the download's 2 MiB buffers, no short period. */
const SIZE = (7 << 20) + 4321;
const DATA = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) DATA[i] = (i * 11 + (i >> 12)) & 255;

describe('image download fast path', () => {
  let h: IdentityHarness;
  let admin: string;
  let id: string;
  before(async () => {
    h = await startIdentity();
    admin = await h.adminToken();
    const created = await http(h, 'POST', '/v2/images', admin, {
      body: Buffer.from(JSON.stringify({ name: 'dl', disk_format: 'raw', container_format: 'bare' })), headers: { 'content-type': 'application/json' },
    });
    id = JSON.parse(created.body.toString()).id;
    const up = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: DATA, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 204, up.body.toString());
  });
  after(async () => { await h?.close(); });

  test('a full download has the data, Content-MD5, Content-Length and the request id', async () => {
    const dl = await http(h, 'GET', `/v2/images/${id}/file`, admin);
    assert.equal(dl.status, 200);
    assert.ok(dl.body.equals(DATA));
    assert.equal(dl.headers['content-md5'], createHash('md5').update(DATA).digest('hex'));
    assert.equal(dl.headers['content-length'], String(SIZE));
    assert.equal(dl.headers['content-type'], 'application/octet-stream');
    assert.match(String(dl.headers['x-openstack-request-id']), /^req-/);
  });

  test('ranges across buffer boundaries and unaligned ends are exact', async () => {
    for (const [a, b] of [[0, 0], [4095, 4096], [(2 << 20) - 1, (4 << 20) + 1], [3, SIZE - 1], [SIZE - 1, SIZE - 1]]) {
      const dl = await http(h, 'GET', `/v2/images/${id}/file`, admin, { headers: { range: `bytes=${a}-${b}` } });
      assert.equal(dl.status, 206);
      assert.equal(dl.headers['content-range'], `bytes ${a}-${b}/${SIZE}`);
      assert.ok(dl.body.equals(DATA.subarray(a, b + 1)), `bytes=${a}-${b}`);
    }
  });

  test('HEAD answers the headers without a body', async () => {
    const head = await http(h, 'HEAD', `/v2/images/${id}/file`, admin);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(SIZE));
    assert.equal(head.body.length, 0);
  });

  test('a client leaving mid-download does not disturb the next downloads', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${h.imageUrl}/v2/images/${id}/file`, { headers: { 'x-auth-token': admin } }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', () => resolve());
      req.end();
    });
    for (let i = 0; i < 3; i++) {
      const dl = await http(h, 'GET', `/v2/images/${id}/file`, admin);
      assert.ok(dl.body.equals(DATA), `download ${i} after the abort`);
    }
  });
});
