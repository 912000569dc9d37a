// Key pairs over real HTTP: generation, import of real ssh-keygen keys, X.509, paging, users, quota.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { computeApi, type ComputeApi } from './client.js';

const run = promisify(execFile);
let h: IdentityHarness;
let api: ComputeApi;
let admin: string;
let demo: string;
let demoUser: string;
let dir: string;

before(async () => {
  h = await startIdentity();
  api = computeApi(h.computeUrl);
  admin = await h.adminToken();
  demo = await h.tokenFor('demo', h.demoPassword, { project: 'demo' });
  demoUser = (await h.id.db.selectFrom('user_account').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow()).id;
  dir = mkdtempSync(join(tmpdir(), 'nephos-kp-'));
});
after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A key made by the real ssh-keygen, and ssh-keygen's own MD5 fingerprint of it. */
let keys = 0;
async function sshKeygen(type: string, bits?: number): Promise<{ pub: string; md5: string }> {
  const file = join(dir, `k-${type}-${bits ?? 0}-${keys++}`);
  await run('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'tester@nephos', '-f', file], { timeout: 30_000 });
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'md5', '-f', `${file}.pub`], { timeout: 30_000 });
  return { pub: readFileSync(`${file}.pub`, 'utf8'), md5: /MD5:([0-9a-f:]+)/.exec(stdout)![1] };
}

test('generated key pairs are RSA with a working private key; 200 without type at 2.1, 201 with type from 2.2', async () => {
  const v21 = await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'gen21' } }, 200);
  assert.deepEqual(Object.keys(v21.keypair).sort(), ['fingerprint', 'name', 'private_key', 'public_key', 'user_id']);
  assert.equal(v21.keypair.user_id, demoUser);
  const v22 = await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'gen22' } }, 201, { version: '2.2' });
  assert.equal(v22.keypair.type, 'ssh');
  const { private_key: priv, public_key: pub, fingerprint } = v22.keypair;
  assert.match(priv, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.match(pub, /^ssh-rsa AAAA[A-Za-z0-9+/=]+ Generated-by-Nova$/);
  const blob = Buffer.from(pub.split(' ')[1], 'base64');
  assert.equal(fingerprint, createHash('md5').update(blob).digest('hex').replace(/(..)(?!$)/g, '$1:'));
  // The private key is the public key's: same modulus.
  const fromPriv = createPublicKey(createPrivateKey(priv)).export({ format: 'jwk' }) as { n: string };
  assert.ok(blob.toString('base64').length > 300);
  const n = Buffer.from(fromPriv.n, 'base64url');
  assert.ok(blob.includes(n), 'the public blob carries the private key\'s modulus');
  // ssh-keygen agrees on the fingerprint of what we generated.
  const file = join(dir, 'generated.pub');
  await import('node:fs').then((fs) => fs.writeFileSync(file, `${pub}\n`));
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'md5', '-f', file], { timeout: 30_000 });
  assert.match(stdout, new RegExp(`MD5:${fingerprint}`));
});

test('imports real ssh-keygen keys (ed25519, RSA, ECDSA) with fingerprints equal to ssh-keygen\'s', async () => {
  for (const [type, bits] of [['ed25519', undefined], ['rsa', 3072], ['ecdsa', 256], ['ecdsa', 521]] as const) {
    const key = await sshKeygen(type, bits);
    const name = `imp-${type}-${bits ?? 0}`;
    const r = await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name, public_key: key.pub } }, 201, { version: '2.2' });
    assert.equal(r.keypair.fingerprint, key.md5, type);
    assert.equal(r.keypair.public_key, key.pub);
    assert.equal('private_key' in r.keypair, false);
    assert.equal(r.keypair.type, 'ssh');
  }
});

test('invalid public keys, names and duplicates are refused in Nova\'s words', async () => {
  const bad = ['ssh-rsa JUNK nova@ubuntu', ' ', `ssh-rsa ${'A'.repeat(2000)} openstack@ubuntu`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== short', 'ssh-dsa AAAA'];
  for (const public_key of bad) {
    assert.equal(await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'bad', public_key } }, 400), 'Keypair data is invalid: failed to generate fingerprint', public_key.slice(0, 30));
  }
  // A valid ed25519 blob under the wrong type name is not a key either.
  const ed = await sshKeygen('ed25519');
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'bad', public_key: ed.pub.replace('ssh-ed25519', 'ssh-rsa') } }, 400);
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: '' } }, 400);
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: `keypair-${'a'.repeat(250)}` } }, 400);
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'key_/.\\@:' } }, 400);
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'k', type: 'pgp' } }, 400, { version: '2.2' });
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'k', type: 'ssh' } }, 400, { version: '2.1' });
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'k', user_id: demoUser } }, 400, { version: '2.9' });
  await api.fault('POST', '/v2.1/os-keypairs', demo, { name: 'k' }, 400);
  await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'dup', public_key: ed.pub } }, 201, { version: '2.2' });
  assert.equal(await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'dup', public_key: ed.pub } }, 409, { version: '2.2' }), "Key pair 'dup' already exists.");
});

test('x509 key pairs: generated (certificate + PKCS#12 private key) and imported; fingerprint is the certificate\'s SHA-1', async () => {
  const gen = await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'cert', type: 'x509' } }, 201, { version: '2.2' });
  assert.equal(gen.keypair.type, 'x509');
  const cert = new X509Certificate(gen.keypair.public_key);
  assert.equal(gen.keypair.fingerprint, cert.fingerprint.toLowerCase());
  assert.match(cert.subject, new RegExp(`CN=${demoUser}`));
  assert.ok(Buffer.from(gen.keypair.private_key, 'base64').length > 1000, 'a PKCS#12 bundle');
  const imported = await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'cert-imp', type: 'x509', public_key: gen.keypair.public_key } }, 201, { version: '2.2' });
  assert.equal(imported.keypair.fingerprint, gen.keypair.fingerprint);
  assert.match(await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'cert-bad', type: 'x509', public_key: 'not a cert' } }, 400, { version: '2.2' }), /failed to generate X509 fingerprint/);
});

test('list, show and delete; status codes and fields per microversion; other users\' keys are not found', async () => {
  await api.ok('POST', '/v2.1/os-keypairs', admin, { keypair: { name: 'admins' } });
  const list21 = await api.ok('GET', '/v2.1/os-keypairs', demo);
  const names = list21.keypairs.map((k: any) => k.keypair.name);
  assert.ok(names.includes('gen21') && !names.includes('admins'));
  assert.deepEqual(Object.keys(list21.keypairs[0].keypair).sort(), ['fingerprint', 'name', 'public_key']);
  const list22 = await api.ok('GET', '/v2.1/os-keypairs', demo, undefined, 200, { version: '2.2' });
  assert.ok(list22.keypairs.every((k: any) => k.keypair.type === 'ssh' || k.keypair.type === 'x509'));
  const shown = (await api.ok('GET', '/v2.1/os-keypairs/gen21', demo)).keypair;
  assert.deepEqual(Object.keys(shown).sort(), ['created_at', 'deleted', 'deleted_at', 'fingerprint', 'id', 'name', 'public_key', 'updated_at', 'user_id']);
  assert.equal(typeof shown.id, 'number');
  assert.equal(shown.deleted, false);
  assert.match(shown.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal((await api.ok('GET', '/v2.1/os-keypairs/gen21', demo, undefined, 200, { version: '2.2' })).keypair.type, 'ssh');
  assert.match(await api.fault('GET', '/v2.1/os-keypairs/admins', demo, undefined, 404), /Keypair admins not found for user/);
  await api.ok('DELETE', '/v2.1/os-keypairs/gen21', demo, undefined, 202);
  await api.ok('DELETE', '/v2.1/os-keypairs/gen22', demo, undefined, 204, { version: '2.2' });
  await api.fault('DELETE', '/v2.1/os-keypairs/gen22', demo, undefined, 404);
});

test('paging from 2.35: limit, marker, next links; unknown marker is 400', async () => {
  const tok = admin;
  for (const n of ['pa', 'pb', 'pc', 'pd', 'pe']) await api.ok('POST', '/v2.1/os-keypairs', tok, { keypair: { name: n } });
  const p1 = await api.ok('GET', '/v2.1/os-keypairs?limit=2', tok, undefined, 200, { version: '2.35' });
  const first = p1.keypairs.map((k: any) => k.keypair.name);
  assert.equal(first.length, 2);
  const next = new URL(p1.keypairs_links[0].href);
  assert.equal(next.searchParams.get('marker'), first[1]);
  const p2 = await api.ok('GET', `/v2.1/os-keypairs${next.search}`, tok, undefined, 200, { version: '2.35' });
  assert.ok(p2.keypairs.every((k: any) => k.keypair.name > first[1]));
  // Before 2.35 the parameters are ignored.
  assert.ok((await api.ok('GET', '/v2.1/os-keypairs?limit=1', tok, undefined, 200, { version: '2.34' })).keypairs.length > 1);
  assert.match(await api.fault('GET', '/v2.1/os-keypairs?marker=zzz', tok, undefined, 400, { version: '2.35' }), /Marker zzz could not be found/);
  await api.fault('GET', '/v2.1/os-keypairs?limit=x', tok, undefined, 400, { version: '2.35' });
});

test('admins manage other users\' key pairs with user_id from 2.10; members may not', async () => {
  const r = await api.ok('POST', '/v2.1/os-keypairs', admin, { keypair: { name: 'for-demo', user_id: demoUser } }, 201, { version: '2.10' });
  assert.equal(r.keypair.user_id, demoUser);
  assert.ok((await api.ok('GET', '/v2.1/os-keypairs', demo)).keypairs.some((k: any) => k.keypair.name === 'for-demo'));
  assert.ok((await api.ok('GET', `/v2.1/os-keypairs?user_id=${demoUser}`, admin, undefined, 200, { version: '2.10' })).keypairs.some((k: any) => k.keypair.name === 'for-demo'));
  assert.equal((await api.ok('GET', `/v2.1/os-keypairs/for-demo?user_id=${demoUser}`, admin, undefined, 200, { version: '2.10' })).keypair.user_id, demoUser);
  const adminUser = (await h.id.db.selectFrom('user_account').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
  assert.match(await api.fault('GET', `/v2.1/os-keypairs?user_id=${adminUser}`, demo, undefined, 403, { version: '2.10' }), /os-keypairs:index/);
  await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'x', user_id: adminUser } }, 403, { version: '2.10' });
  await api.ok('DELETE', `/v2.1/os-keypairs/for-demo?user_id=${demoUser}`, admin, undefined, 204, { version: '2.10' });
  await api.fault('GET', '/v2.1/os-keypairs/for-demo', demo, undefined, 404);
});

test('the key_pairs quota counts per user: over it is 403 "too many key pairs"', async () => {
  const projectId = (await h.id.db.selectFrom('project').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow()).id;
  const have = (await api.ok('GET', '/v2.1/os-keypairs', demo)).keypairs.length;
  await api.ok('PUT', `/v2.1/os-quota-sets/${projectId}`, admin, { quota_set: { key_pairs: have + 1 } });
  await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'last-one' } });
  assert.equal(await api.fault('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'one-too-many' } }, 403), 'Quota exceeded, too many key pairs.');
  await api.ok('PUT', `/v2.1/os-quota-sets/${projectId}`, admin, { quota_set: { key_pairs: -1 } });
  await api.ok('POST', '/v2.1/os-keypairs', demo, { keypair: { name: 'one-too-many' } });
});
