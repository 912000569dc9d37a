/**
 * Instance actions and their events (Nova's os-instance-actions): one action per API request
 * that acts on an instance, events for what the conductor and the compute host did for it.
 */
import type { Kysely } from 'kysely';
import type { ServersDB } from './schema.js';
import { nowIso } from '../store/db.js';

/** Records an action (the API's request), returning its id. */
export async function startAction(db: Kysely<ServersDB>, a: { uuid: string; requestId: string; action: string; projectId: string; userId: string }): Promise<void> {
  await db.insertInto('compute_instance_action').values({
    instance_uuid: a.uuid, request_id: a.requestId, action: a.action, project_id: a.projectId, user_id: a.userId,
    start_time: nowIso(), finish_time: null, message: null, updated_at: null,
  } as never).execute();
}

/** Starts an event of the action of `requestId` on `uuid` (none recorded when that action is unknown). */
export async function startEvent(db: Kysely<ServersDB>, uuid: string, requestId: string, event: string, host: string | null): Promise<number | null> {
  const action = await db.selectFrom('compute_instance_action').select('id').where('instance_uuid', '=', uuid).where('request_id', '=', requestId)
    .orderBy('id', 'desc').executeTakeFirst();
  if (!action) return null;
  await db.insertInto('compute_instance_action_event').values({
    action_id: action.id, event, start_time: nowIso(), finish_time: null, result: null, traceback: null, host, details: null,
  } as never).execute();
  const ev = await db.selectFrom('compute_instance_action_event').select('id').where('action_id', '=', action.id).where('event', '=', event)
    .orderBy('id', 'desc').executeTakeFirst();
  return ev?.id ?? null;
}

/** Finishes an event; an error also marks its action failed (Nova's message "Error"). */
export async function finishEvent(db: Kysely<ServersDB>, eventId: number | null, result: 'Success' | 'Error', details?: string): Promise<void> {
  if (eventId === null) return;
  const now = nowIso();
  await db.updateTable('compute_instance_action_event').set({ finish_time: now, result, details: details ?? null, traceback: result === 'Error' ? details ?? null : null })
    .where('id', '=', eventId).execute();
  const ev = await db.selectFrom('compute_instance_action_event').select('action_id').where('id', '=', eventId).executeTakeFirst();
  if (!ev) return;
  const upd: Record<string, string> = { updated_at: now, finish_time: now };
  if (result === 'Error') upd.message = 'Error';
  await db.updateTable('compute_instance_action').set(upd).where('id', '=', ev.action_id).execute();
}
