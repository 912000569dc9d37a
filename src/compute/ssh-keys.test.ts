import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { generateSshKeyPair, InvalidKey, sshFingerprint } from './ssh-keys.js';

/** An OpenSSH ed25519 public key line made from a node key (the wire format by hand). */
function ed25519Line(): { line: string; blob: Buffer } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
  const str = (b: Buffer) => { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return Buffer.concat([l, b]); };
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
  return { line: `ssh-ed25519 ${blob.toString('base64')} me@host`, blob };
}

test('fingerprints are the MD5 of the key blob in colon hex, for imported and generated keys', async () => {
  const { line, blob } = ed25519Line();
  const md5 = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
  assert.equal(sshFingerprint(line), md5);
  assert.equal(sshFingerprint(`${line}\n`), md5);
  const gen = await generateSshKeyPair(1024);
  assert.equal(sshFingerprint(gen.publicKey), gen.fingerprint);
  assert.match(gen.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
});

test('what is not a real key is refused', () => {
  const { line } = ed25519Line();
  const [, body] = line.split(' ');
  for (const bad of ['', 'ssh-rsa', 'ssh-rsa !!!', `ssh-rsa ${body}`, `ssh-ed25519 ${body.slice(0, -8)}AAAAAAA=`, `ssh-ed25519 ${Buffer.concat([Buffer.from(body, 'base64'), Buffer.from([0])]).toString('base64')}`, `sk-ssh-ed25519@openssh.com ${body}`]) {
    assert.throws(() => sshFingerprint(bad), InvalidKey, bad.slice(0, 40));
  }
});
