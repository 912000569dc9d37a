/**
 * X.509 key pairs (keypair type `x509`, for WinRM certificate login) as Nova makes them: a
 * self-signed certificate for CN=<user id> with the clientAuth usage and a UPN
 * `<user>@localhost`, made by the `openssl` command; the private key is returned as a base64
 * PKCS#12 bundle with an empty password. The fingerprint is the SHA-1 of the certificate.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidKey } from './ssh-keys.js';

/** The SHA-1 fingerprint of a PEM certificate, `aa:bb:…`; {@link InvalidKey} if it does not parse. */
export function x509Fingerprint(pem: string): string {
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate');
    return new X509Certificate(pem).fingerprint.toLowerCase();
  } catch (err) {
    throw new InvalidKey(`failed to generate X509 fingerprint. Error message: ${(err as Error).message}`);
  }
}

function run(cmd: string, args: readonly string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args[0]} failed: ${String(stderr).trim().slice(-300) || err.message}`));
      else resolve(stdout);
    });
    if (input) child.stdin?.end(input); else child.stdin?.end();
  });
}

/** A generated X.509 key pair. */
export interface GeneratedX509 { readonly privateKey: string; readonly certificate: string; readonly fingerprint: string }

/** Generates a certificate and key for `userId` with the `openssl` command. */
export async function generateX509KeyPair(userId: string, bits = 2048): Promise<GeneratedX509> {
  const safe = userId.replace(/[^A-Za-z0-9_.@-]/g, '_') || 'user';
  const dir = await mkdtemp(join(tmpdir(), 'nephos-x509-'));
  try {
    const keyFile = join(dir, 'temp.key');
    const confFile = join(dir, 'temp.conf');
    await writeFile(confFile, [
      'distinguished_name = req_distinguished_name',
      '[req_distinguished_name]',
      '[v3_req_client]',
      'extendedKeyUsage = clientAuth',
      `subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${safe}@localhost`,
      '',
    ].join('\n'), { mode: 0o600 });
    const cert = await run('openssl', ['req', '-x509', '-nodes', '-days', '3650', '-config', confFile, '-newkey', `rsa:${bits}`,
      '-outform', 'PEM', '-keyout', keyFile, '-subj', `/CN=${safe}`, '-extensions', 'v3_req_client']);
    const certificate = cert.toString('utf8');
    const p12 = await run('openssl', ['pkcs12', '-export', '-inkey', keyFile, '-password', 'pass:'], cert);
    return { privateKey: p12.toString('base64'), certificate, fingerprint: x509Fingerprint(certificate) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
