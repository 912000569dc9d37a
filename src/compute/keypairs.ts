/**
 * Key pairs (Nova's KeypairAPI): per user, by name; imported (OpenSSH public key or X.509
 * certificate, checked and fingerprinted) or generated (RSA for `ssh`, a self-signed
 * certificate for `x509`), counted against the user's `key_pairs` quota.
 */
import type { ComputeContext } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './faults.js';
import { checkDeltas, QuotaExceeded } from './quotas.js';
import { generateSshKeyPair, InvalidKey, sshFingerprint } from './ssh-keys.js';
import { generateX509KeyPair, x509Fingerprint } from './x509-keys.js';
import type { KeypairRow } from './store/schema.js';
import { insertWithId, isUniqueViolation, nowIso } from './store/db.js';

export type KeypairType = 'ssh' | 'x509';

/** A key pair as stored (plus the private key right after generation). */
export interface Keypair extends KeypairRow { private_key?: string }

const invalid = (reason: string) => badRequest(`Keypair data is invalid: ${reason}`);
export const keypairNotFound = (name: string, userId: string) => notFound(`Keypair ${name} not found for user ${userId}`);

function normalise(r: KeypairRow): KeypairRow {
  return { ...r, id: Number(r.id) };
}

/** Nova's quota check for one more key pair of `userId` (403 "too many key pairs"). */
async function checkQuota(ctx: ComputeContext, projectId: string, userId: string, delta: number): Promise<void> {
  try {
    await checkDeltas(ctx, projectId, userId, { key_pairs: delta });
  } catch (err) {
    if (err instanceof QuotaExceeded) throw forbidden('Quota exceeded, too many key pairs.');
    throw err;
  }
}

/**
 * Creates a key pair of `userId` (in the caller's `projectId` for quota purposes): imports
 * `publicKey` when given, else generates one and returns its private key once.
 */
export async function createKeypair(
  ctx: ComputeContext,
  k: { readonly userId: string; readonly projectId: string; readonly name: string; readonly type: KeypairType; readonly publicKey?: string },
): Promise<Keypair> {
  await checkQuota(ctx, k.projectId, k.userId, 1);
  let fingerprint: string;
  let publicKey: string;
  let privateKey: string | undefined;
  if (k.publicKey !== undefined) {
    publicKey = k.publicKey;
    try {
      fingerprint = k.type === 'x509' ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
    } catch (err) {
      if (!(err instanceof InvalidKey)) throw err;
      throw invalid(k.type === 'x509' ? err.message : 'failed to generate fingerprint');
    }
  } else if (k.type === 'x509') {
    const g = await generateX509KeyPair(k.userId);
    ({ fingerprint, privateKey } = g);
    publicKey = g.certificate;
  } else {
    const g = await generateSshKeyPair();
    ({ fingerprint, publicKey, privateKey } = g);
  }
  const row: Omit<KeypairRow, 'id'> = { user_id: k.userId, name: k.name, fingerprint, public_key: publicKey, type: k.type, created_at: nowIso() };
  let id: number;
  try {
    id = await insertWithId(ctx.db, ctx.engine, 'compute_keypair', row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Key pair '${k.name}' already exists.`);
    throw err;
  }
  // A concurrent create may have taken the last slot (Nova's recheck_quota).
  try {
    await checkQuota(ctx, k.projectId, k.userId, 0);
  } catch (err) {
    await ctx.db.deleteFrom('compute_keypair').where('id', '=', id).execute();
    throw err;
  }
  ctx.notify(k.publicKey !== undefined ? 'keypair.import.end' : 'keypair.create.end', { tenant_id: k.projectId, user_id: k.userId, key_name: k.name });
  return { ...row, id, ...(privateKey !== undefined ? { private_key: privateKey } : {}) };
}

/** One key pair of a user, or 404. */
export async function getKeypair(ctx: ComputeContext, userId: string, name: string): Promise<KeypairRow> {
  const r = await ctx.db.selectFrom('compute_keypair').selectAll().where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
  if (!r) throw keypairNotFound(name, userId);
  return normalise(r);
}

/** A user's key pairs by name, paged after `marker` (a name of theirs; else 400). */
export async function listKeypairs(ctx: ComputeContext, userId: string, page: { limit?: number; marker?: string } = {}): Promise<KeypairRow[]> {
  let q = ctx.db.selectFrom('compute_keypair').selectAll().where('user_id', '=', userId);
  if (page.marker !== undefined) {
    const m = await ctx.db.selectFrom('compute_keypair').select('name').where('user_id', '=', userId).where('name', '=', page.marker).executeTakeFirst();
    if (!m) throw badRequest(`Marker ${page.marker} could not be found.`);
    q = q.where('name', '>', page.marker);
  }
  q = q.orderBy('name');
  if (page.limit !== undefined) q = q.limit(page.limit);
  return (await q.execute()).map(normalise);
}

/** Deletes a user's key pair, or 404. */
export async function deleteKeypair(ctx: ComputeContext, userId: string, name: string): Promise<void> {
  const r = await ctx.db.deleteFrom('compute_keypair').where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw keypairNotFound(name, userId);
  ctx.notify('keypair.delete.end', { user_id: userId, key_name: name });
}
