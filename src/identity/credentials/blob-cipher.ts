import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Identity } from '../identity.js';
import { decrypt, encrypt } from '../tokens/fernet.js';
import { initialize, load, type KeyRing } from '../tokens/key-repository.js';

/**
 * Credential blobs are encrypted at rest, as Keystone's fernet credential provider does: with
 * the primary key of a Fernet key repository `<state_dir>/credential-keys` (created on first
 * use; separate from the token keys so that token key rotation never strands a blob). The row's
 * `key_hash` is the SHA-1 of the primary key text used, as Keystone's; rows with a NULL
 * `key_hash` hold plain text (written before encryption existed) and are read as they are.
 */

const initialized = new Set<string>();

/** The credential key repository directory of this deployment. */
export function credentialKeyDir(id: Identity): string {
  return join(id.config.platform.state_dir, 'credential-keys');
}

function ring(id: Identity): KeyRing {
  const dir = credentialKeyDir(id);
  if (!initialized.has(dir)) {
    initialize(dir);
    initialized.add(dir);
  }
  return load(dir);
}

const hashes = new Map<string, string>();

function primaryKeyHash(r: KeyRing): string {
  const file = join(r.dir, String(r.ids[0]));
  let h = hashes.get(file);
  if (!h) {
    h = createHash('sha1').update(readFileSync(file, 'utf8').trim()).digest('hex');
    hashes.set(file, h);
  }
  return h;
}

/** Encrypts a blob for storage: the `blob` and `key_hash` column values. */
export function sealBlob(id: Identity, plaintext: string): { blob: string; key_hash: string } {
  const r = ring(id);
  return { blob: encrypt(r.keys, plaintext), key_hash: primaryKeyHash(r) };
}

/** The plain blob of a stored row (any active key decrypts; plain rows pass through). */
export function openBlob(id: Identity, row: { blob: string; key_hash: string | null }): string {
  if (!row.key_hash) return row.blob;
  return decrypt(row.blob, ring(id).keys).plaintext.toString('utf8');
}
