/** An instance's `fault` (what a user reads when it goes to ERROR or an action fails). */
import type { Kysely } from 'kysely';
import type { ServersDB } from './schema.js';
import { updateInstance, type InstancePatch } from './store.js';
import { nowIso } from '../store/db.js';

/** Stores `err` as the instance's fault along with `patch` (its state after the failure). */
export async function recordFault(db: Kysely<ServersDB>, uuid: string, err: unknown, patch: InstancePatch): Promise<void> {
  const msg = err instanceof Error ? err.message : String(err);
  const code = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
  await updateInstance(db, uuid, { ...patch, body: { ...patch.body, fault: { code, message: msg.slice(0, 255), details: msg, created: nowIso() } } });
}
