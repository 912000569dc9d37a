import { createHash, randomUUID } from 'node:crypto';
import { badRequest } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import type { CredentialRow } from '../store/schema.js';
import { openBlob } from './blob-cipher.js';
import { pythonJsonDumps } from './python-json.js';
import { createCredential, findCredentialRow } from './store.js';

/** The credential type of EC2 (and S3) access keys. */
export const EC2 = 'ec2';

/** Keystone's id of an EC2 credential: the SHA-256 hex of its access key. */
export function ec2CredentialId(access: string): string {
  return createHash('sha256').update(access, 'utf8').digest('hex');
}

/** An EC2 credential as the EC2/S3 token APIs need it. */
export interface Ec2Credential {
  /** The credential id (sha256 of `access`). */
  id: string;
  user_id: string;
  /** The project the key is bound to (`tenant_id` in OS-EC2 views). */
  project_id: string | null;
  access: string;
  secret: string;
  /** Set when the key was made with a trust-scoped token: tokens from it are trust-scoped. */
  trust_id: string | null;
  /** Set when the key was made with an application credential token. */
  app_cred_id: string | null;
  /** Set when the key was made with an OAuth1 access token. */
  access_token_id: string | null;
}

const invalidInCredential = (attr: string) => badRequest(`Expecting to find ${attr} in credential. The server could not comply `
  + 'with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');

/**
 * Keystone's `_validate_blob_json` for EC2 blobs: a JSON object text with a non-null `access`.
 * 400 otherwise.
 */
export function parseEc2Blob(blob: unknown): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(blob));
  } catch {
    throw badRequest('Invalid blob in credential');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.keys(parsed).length === 0) throw invalidInCredential('blob');
  const o = parsed as Record<string, unknown>;
  if (o.access === undefined || o.access === null) throw invalidInCredential('access');
  return o;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : v === undefined || v === null ? null : String(v));

/** The EC2 view of a stored credential row (blob decrypted), or undefined for other types or damaged blobs. */
export function ec2FromRow(id: Identity, row: CredentialRow): Ec2Credential | undefined {
  if (row.type !== EC2) return undefined;
  let blob: Record<string, unknown>;
  try {
    const v = JSON.parse(openBlob(id, row));
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    blob = v as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return {
    id: row.id, user_id: row.user_id, project_id: row.project_id, access: str(blob.access) ?? '', secret: str(blob.secret) ?? '',
    trust_id: str(blob.trust_id), app_cred_id: str(blob.app_cred_id), access_token_id: str(blob.access_token_id),
  };
}

/**
 * Looks an EC2 access key up (for the EC2 and S3 token APIs): the credential whose id is the
 * key's SHA-256, when it is of type ec2. Undefined when there is none.
 */
export async function findEc2Credential(id: Identity, access: string): Promise<Ec2Credential | undefined> {
  const row = await findCredentialRow(id, ec2CredentialId(access));
  return row ? ec2FromRow(id, row) : undefined;
}

/** Creates an EC2 key pair for a user and project, as POST /v3/users/{id}/credentials/OS-EC2 does. */
export async function createEc2Credential(id: Identity, userId: string, projectId: string, trustId: string | null): Promise<Ec2Credential> {
  const access = randomUUID().replace(/-/g, '');
  const secret = randomUUID().replace(/-/g, '');
  const credId = ec2CredentialId(access);
  await createCredential(id, {
    id: credId, user_id: userId, project_id: projectId, type: EC2,
    blob: pythonJsonDumps({ access, secret, trust_id: trustId }),
  });
  return { id: credId, user_id: userId, project_id: projectId, access, secret, trust_id: trustId, app_cred_id: null, access_token_id: null };
}

/** The OS-EC2 API's view of a credential (before `links`). */
export function ec2View(c: Ec2Credential): Record<string, unknown> {
  return { user_id: c.user_id, tenant_id: c.project_id, access: c.access, secret: c.secret, trust_id: c.trust_id };
}
