// Image data over real HTTP: chunked uploads, hashes, ranges, interrupted uploads, quotas, the
// glance-direct import with qcow2 → raw conversion, and deletion removing the data.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';

const hash = (algo: string, b: Buffer) => createHash(algo).update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A raw HTTP call against the image API (real sockets, so streaming and aborts are real). A server
 * that refuses an upload early answers and then closes the connection while the client still
 * writes: the answer counts, the client's write error does not.
 */
function http(h: IdentityHarness, method: string, path: string, token: string, opts: { body?: Buffer | Buffer[]; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    let answered: { status: number; headers: Record<string, string | string[] | undefined>; chunks: Buffer[] } | undefined;
    const finish = () => answered && resolve({ status: answered.status, headers: answered.headers, body: Buffer.concat(answered.chunks) });
    const req = request(`${h.imageUrl}${path}`, { method, headers: { 'x-auth-token': token, ...opts.headers } }, (res) => {
      answered = { status: res.statusCode ?? 0, headers: res.headers, chunks: [] };
      res.on('data', (c: Buffer) => answered!.chunks.push(c));
      res.on('end', finish);
      res.on('error', finish);
    });
    req.on('error', (err) => (answered ? finish() : reject(err)));
    const parts = opts.body === undefined ? [] : Array.isArray(opts.body) ? opts.body : [opts.body];
    for (const p of parts) req.write(p);
    req.end();
  });
}

async function createImage(h: IdentityHarness, token: string, body: Record<string, unknown>): Promise<string> {
  const r = await http(h, 'POST', '/v2/images', token, { body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 201, r.body.toString());
  return JSON.parse(r.body.toString()).id;
}
const show = async (h: IdentityHarness, token: string, id: string) => JSON.parse((await http(h, 'GET', `/v2/images/${id}`, token)).body.toString());
const storedFiles = (h: IdentityHarness) => readdirSync(h.config.image.data_dir!, { recursive: true }).map(String).filter((f) => !f.endsWith('.partial') && f !== '.partial');
const allFiles = (h: IdentityHarness) => readdirSync(h.config.image.data_dir!, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);

describe('image data with the default configuration', () => {
  let h: IdentityHarness;
  let admin: string;
  before(async () => { h = await startIdentity(); admin = await h.adminToken(); });
  after(async () => { await h?.close(); });

  test('a chunked upload is stored with md5, sha512, size; download has Content-MD5 and ranges', async () => {
    const id = await createImage(h, admin, { name: 'chunked', disk_format: 'raw', container_format: 'bare' });
    const parts = [randomBytes(1 << 20), randomBytes(777), randomBytes(300_000)];
    const all = Buffer.concat(parts);
    // No Content-Length: node sends Transfer-Encoding: chunked.
    const up = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: parts, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 204, up.body.toString());
    const img = await show(h, admin, id);
    assert.equal(img.status, 'active');
    assert.equal(img.size, all.length);
    assert.equal(img.virtual_size, all.length);
    assert.equal(img.checksum, hash('md5', all));
    assert.equal(img.os_hash_algo, 'sha512');
    assert.equal(img.os_hash_value, hash('sha512', all));

    const dl = await http(h, 'GET', `/v2/images/${id}/file`, admin);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers['content-md5'], hash('md5', all));
    assert.equal(Number(dl.headers['content-length']), all.length);
    assert.ok(dl.body.equals(all));
    const part = await http(h, 'GET', `/v2/images/${id}/file`, admin, { headers: { range: 'bytes=1048570-1048589' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1048570-1048589/${all.length}`);
    assert.ok(part.body.equals(all.subarray(1048570, 1048590)));
    const tail = await http(h, 'GET', `/v2/images/${id}/file`, admin, { headers: { range: 'bytes=-10' } });
    assert.equal(tail.status, 206);
    assert.ok(tail.body.equals(all.subarray(all.length - 10)));
    const bad = await http(h, 'GET', `/v2/images/${id}/file`, admin, { headers: { range: `bytes=${all.length + 5}-${all.length + 10}` } });
    assert.equal(bad.status, 416);

    const again = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: Buffer.from('more'), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(again.status, 409, 'an active image takes no second upload');

    assert.ok(storedFiles(h).some((f) => f.includes(id)), 'the data is in the file store');
    assert.equal((await http(h, 'DELETE', `/v2/images/${id}`, admin)).status, 204);
    assert.ok(!allFiles(h).some((f) => f.includes(id)), 'deleting the image removed its data');
  });

  test('an interrupted upload leaves the image queued with no data, and a later upload succeeds', async () => {
    const id = await createImage(h, admin, { name: 'interrupted', disk_format: 'raw', container_format: 'bare' });
    await new Promise<void>((resolve) => {
      const req = request(`${h.imageUrl}/v2/images/${id}/file`, {
        method: 'PUT', headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream', 'content-length': String(16 << 20) },
      });
      req.on('error', () => resolve());
      req.write(randomBytes(2 << 20), () => setTimeout(() => { req.destroy(); resolve(); }, 200));
    });
    let img = await show(h, admin, id);
    for (let i = 0; i < 50 && img.status !== 'queued'; i++) { await sleep(100); img = await show(h, admin, id); }
    assert.equal(img.status, 'queued');
    assert.equal(img.checksum, null);
    assert.equal(img.size, null);
    for (let i = 0; i < 50 && allFiles(h).some((f) => f.includes(id)); i++) await sleep(100);
    assert.deepEqual(allFiles(h).filter((f) => f.includes(id)), [], 'no partial data left behind');
    const data = randomBytes(4096);
    const up = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 204, up.body.toString());
    assert.equal((await show(h, admin, id)).checksum, hash('md5', data));
  });

  test('upload needs application/octet-stream and formats set beforehand', async () => {
    const id = await createImage(h, admin, { name: 'no-formats' });
    const wrongType = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: Buffer.from('x'), headers: { 'content-type': 'application/json' } });
    assert.equal(wrongType.status, 415);
    const noFormat = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: Buffer.from('x'), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(noFormat.status, 400);
    assert.equal((await show(h, admin, id)).status, 'queued');
  });
});

describe('image data with quotas and conversion on import', () => {
  let h: IdentityHarness;
  let admin: string;
  let dir: string;
  before(async () => {
    h = await startIdentity({ overrides: { image: { convert_to_raw: true, image_size_total: 8 << 20 } } });
    admin = await h.adminToken();
    dir = mkdtempSync(join(tmpdir(), 'nephos-test-image-data-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an upload beyond the project storage quota is refused with 413 and keeps nothing', async () => {
    const id = await createImage(h, admin, { name: 'too-big', disk_format: 'raw', container_format: 'bare' });
    const r = await http(h, 'PUT', `/v2/images/${id}/file`, admin, { body: randomBytes(9 << 20), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 413, r.body.toString());
    assert.equal((await show(h, admin, id)).status, 'queued');
    assert.deepEqual(allFiles(h).filter((f) => f.includes(id)), []);
    assert.equal((await http(h, 'DELETE', `/v2/images/${id}`, admin)).status, 204);
  });

  test('glance-direct import converts a qcow2 to raw, and records a successful task', async () => {
    const qcow = join(dir, 'src.qcow2');
    const raw = join(dir, 'src.raw');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, '4M']);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 1M 64k', qcow], { stdio: 'ignore' });
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow, raw]);
    const id = await createImage(h, admin, { name: 'convert-me', disk_format: 'qcow2', container_format: 'bare' });
    const staged = await http(h, 'PUT', `/v2/images/${id}/stage`, admin, { body: readFileSync(qcow), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(staged.status, 204, staged.body.toString());
    assert.equal((await show(h, admin, id)).status, 'uploading');
    const imp = await http(h, 'POST', `/v2/images/${id}/import`, admin, {
      body: Buffer.from(JSON.stringify({ method: { name: 'glance-direct' } })), headers: { 'content-type': 'application/json' },
    });
    assert.equal(imp.status, 202, imp.body.toString());
    let img = await show(h, admin, id);
    for (let i = 0; i < 100 && img.status !== 'active' && !img.os_glance_failed_import; i++) { await sleep(100); img = await show(h, admin, id); }
    assert.equal(img.status, 'active', JSON.stringify(img));
    assert.equal(img.disk_format, 'raw');
    assert.equal(img.size, 4 << 20);
    const expected = readFileSync(raw);
    assert.equal(img.checksum, hash('md5', expected));
    const dl = await http(h, 'GET', `/v2/images/${id}/file`, admin);
    assert.ok(dl.body.equals(expected), 'the stored data is the raw conversion');
    const tasks = JSON.parse((await http(h, 'GET', `/v2/images/${id}/tasks`, admin)).body.toString()).tasks;
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].status, 'success');
    assert.equal(tasks[0].input.import_req.method.name, 'glance-direct');
    assert.equal(tasks[0].request_id, imp.headers['x-openstack-request-id']);
    assert.deepEqual(readdirSync(h.config.image.staging_dir!).filter((f) => f.includes(id)), [], 'staged data removed after import');
  });

  test('a staged qcow2 with a backing file fails its import: queued, failure recorded, no data', async () => {
    const evil = join(dir, 'evil.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', evil, '1M']);
    const id = await createImage(h, admin, { name: 'evil-import', disk_format: 'qcow2', container_format: 'bare' });
    const staged = await http(h, 'PUT', `/v2/images/${id}/stage`, admin, { body: readFileSync(evil), headers: { 'content-type': 'application/octet-stream' } });
    // Refused at staging already, or at import: either way it never becomes active.
    if (staged.status === 204) {
      const imp = await http(h, 'POST', `/v2/images/${id}/import`, admin, {
        body: Buffer.from(JSON.stringify({ method: { name: 'glance-direct' } })), headers: { 'content-type': 'application/json' },
      });
      assert.equal(imp.status, 202);
      let img = await show(h, admin, id);
      for (let i = 0; i < 100 && !img.os_glance_failed_import; i++) { await sleep(100); img = await show(h, admin, id); }
      assert.equal(img.os_glance_failed_import, 'file');
      const tasks = JSON.parse((await http(h, 'GET', `/v2/images/${id}/tasks`, admin)).body.toString()).tasks;
      assert.equal(tasks[0].status, 'failure');
      assert.match(tasks[0].message, /backing/i);
    } else {
      assert.equal(staged.status, 400);
      assert.match(staged.body.toString(), /backing/i);
    }
    const img = await show(h, admin, id);
    assert.notEqual(img.status, 'active');
    assert.equal(img.checksum, null);
    assert.deepEqual(allFiles(h).filter((f) => f.includes(id)), []);
  });
});

test('on start, data no image points at is removed and images caught mid-upload go back to queued', async () => {
  const { writeFileSync: write, existsSync } = await import('node:fs');
  const h1 = await startIdentity();
  try {
    const admin = await h1.adminToken();
    const id = await createImage(h1, admin, { name: 'kept', disk_format: 'raw', container_format: 'bare' });
    const data = randomBytes(2048);
    assert.equal((await http(h1, 'PUT', `/v2/images/${id}/file`, admin, { body: data, headers: { 'content-type': 'application/octet-stream' } })).status, 204);
    const stuck = await createImage(h1, admin, { name: 'stuck', disk_format: 'raw', container_format: 'bare' });
    await h1.cloud.image.ctx.db.updateTable('image').set({ status: 'saving' }).where('id', '=', stuck).execute();
    // What a crash between the store's commit and the database update leaves behind.
    const orphan = join(h1.config.image.data_dir!, '0b7f0c1e-3c55-4b0e-9f39-2b7c8e1f4d21');
    write(orphan, 'orphaned bytes');
    const { createImageService } = await import('../../src/image/service.js');
    const { inProcessValidator } = await import('../../src/platform/auth/index.js');
    const { openDatabase } = await import('../../src/platform/db/connect.js');
    const { silentLogger } = await import('../../src/platform/log.js');
    const db = await openDatabase(h1.config.database.url!);
    try {
      const again = await createImageService(h1.config, db, silentLogger(), { validator: inProcessValidator(h1.cloud.identity.tokens) });
      await again.close();
    } finally {
      await db.close();
    }
    assert.ok(!existsSync(orphan), 'the orphan file is removed');
    assert.equal((await show(h1, admin, stuck)).status, 'queued');
    const dl = await http(h1, 'GET', `/v2/images/${id}/file`, admin);
    assert.ok(dl.body.equals(data), 'data of a live image is kept');
  } finally {
    await h1.close();
  }
});
