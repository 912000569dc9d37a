import { conflict, notFound } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import type { Identity } from '../identity.js';
import type { CredentialRow } from '../store/schema.js';
import { parseJsonObject } from '../util.js';
import { openBlob, sealBlob } from './blob-cipher.js';

/** A credential as the API shows it (blob decrypted), before `links`. */
export interface CredentialEntity {
  [key: string]: unknown;
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
}

/** What a new credential is made of; `extra` holds the request's other attributes, as Keystone keeps them. */
export interface NewCredential {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra?: Record<string, unknown>;
}

/** The attributes a credential row stores in columns (the rest go to `extra`). */
export const CREDENTIAL_COLUMNS = ['id', 'user_id', 'project_id', 'type', 'blob'] as const;

/** Renders a stored row with its plain blob. */
export function credentialEntity(id: Identity, row: CredentialRow): CredentialEntity {
  return {
    ...parseJsonObject(row.extra),
    id: row.id, user_id: row.user_id, project_id: row.project_id, type: row.type, blob: openBlob(id, row),
  };
}

/** A credential row, or undefined. */
export function findCredentialRow(id: Identity, credentialId: string): Promise<CredentialRow | undefined> {
  return id.db.selectFrom('credential').selectAll().where('id', '=', credentialId).executeTakeFirst();
}

/** A credential row, or Keystone's 404 "Could not find credential: <id>." */
export async function getCredentialRow(id: Identity, credentialId: string): Promise<CredentialRow> {
  const row = await findCredentialRow(id, credentialId);
  if (!row) throw notFound(`Could not find credential: ${credentialId}.`);
  return row;
}

/** Rows, optionally narrowed by owner and type (exact matches, as Keystone's driver hints). */
export function listCredentialRows(id: Identity, filter: { user_id?: string; type?: string } = {}): Promise<CredentialRow[]> {
  let q = id.db.selectFrom('credential').selectAll();
  if (filter.user_id !== undefined) q = q.where('user_id', '=', filter.user_id);
  if (filter.type !== undefined) q = q.where('type', '=', filter.type);
  return q.orderBy('id').execute();
}

/** Stores a credential (blob encrypted); 409 when the id is taken (an EC2 access key already in use). */
export async function createCredential(id: Identity, c: NewCredential): Promise<CredentialEntity> {
  const sealed = sealBlob(id, c.blob);
  const row: CredentialRow = {
    id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type, blob: sealed.blob, key_hash: sealed.key_hash,
    extra: JSON.stringify(c.extra ?? {}),
  };
  try {
    await id.db.insertInto('credential').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflict occurred attempting to store credential - Duplicate entry found with ID ${c.id}.`);
    throw err;
  }
  id.notify('identity.credential.created', { resource_info: c.id });
  return { ...(c.extra ?? {}), id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type, blob: c.blob };
}

/** Applies an update (column attributes and extra ones) to a stored credential and returns the result. */
export async function updateCredential(id: Identity, current: CredentialRow, changes: Record<string, unknown>): Promise<CredentialEntity> {
  const merged = { ...credentialEntity(id, current), ...changes } as CredentialEntity;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) if (!(CREDENTIAL_COLUMNS as readonly string[]).includes(k) && k !== 'links') extra[k] = v;
  const set: Partial<CredentialRow> = {
    user_id: merged.user_id, project_id: merged.project_id ?? null, type: merged.type, extra: JSON.stringify(extra),
  };
  if (typeof changes.blob === 'string') Object.assign(set, sealBlob(id, changes.blob));
  await id.db.updateTable('credential').set(set).where('id', '=', current.id).execute();
  return { ...extra, id: current.id, user_id: merged.user_id, project_id: merged.project_id ?? null, type: merged.type, blob: merged.blob };
}

/** Deletes one credential; 404 when absent. */
export async function deleteCredential(id: Identity, credentialId: string): Promise<void> {
  const res = await id.db.deleteFrom('credential').where('id', '=', credentialId).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw notFound(`Could not find credential: ${credentialId}.`);
  id.notify('identity.credential.deleted', { resource_info: credentialId });
}

/** Deletes every credential of a user (Keystone does so when the user is deleted). */
export async function deleteCredentialsForUser(id: Identity, userId: string): Promise<void> {
  await id.db.deleteFrom('credential').where('user_id', '=', userId).execute();
}

/** Deletes every credential bound to a project (Keystone does so when the project is deleted). */
export async function deleteCredentialsForProject(id: Identity, projectId: string): Promise<void> {
  await id.db.deleteFrom('credential').where('project_id', '=', projectId).execute();
}
