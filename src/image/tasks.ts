/**
 * Tasks: every interoperable import is recorded as a Glance `api_image_import` task (status
 * processing → success | failure), readable with `GET /v2/images/{id}/tasks` (API 2.12) and the
 * read side of `/v2/tasks`. Creating tasks directly (the legacy `POST /v2/tasks`) is not offered.
 */
import { randomUUID } from 'node:crypto';
import type { Caller, ImageContext } from './context.js';
import { getVisible } from './images.js';
import { now } from './repo.js';
import { storedTime } from './list-query.js';
import { apiTime } from './view.js';
import type { ImageTaskRow } from './store/schema.js';
import { notFound } from '../platform/http/faults.js';

/** How long a finished task stays listed (Glance's task_time_to_live default: 48 h). */
const TASK_TTL_MS = 48 * 3600 * 1000;

/** Records a new import task for `imageId`; returns its id. */
export async function startImportTask(ctx: ImageContext, caller: Caller, imageId: string, input: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  const at = now();
  await ctx.db.insertInto('image_task').values({
    id, image_id: imageId, type: 'api_image_import', status: 'processing', owner: caller.projectId, user_id: caller.userId,
    request_id: caller.requestId ?? null, input: JSON.stringify({ image_id: imageId, import_req: input }), result: null,
    message: '', created_at: at, updated_at: at, expires_at: null,
  }).execute();
  return id;
}

/** Marks a task finished: success, or failure with the reason a user reads. */
export async function finishTask(ctx: ImageContext, taskId: string, imageId: string, outcome: { ok: true } | { ok: false; message: string }): Promise<void> {
  const at = now();
  const expires = new Date(Date.now() + TASK_TTL_MS);
  await ctx.db.updateTable('image_task').set({
    status: outcome.ok ? 'success' : 'failure',
    message: outcome.ok ? '' : outcome.message,
    result: outcome.ok ? JSON.stringify({ image_id: imageId }) : null,
    updated_at: at, expires_at: storedTime(expires),
  }).where('id', '=', taskId).execute();
}

/** The API form of a task. */
export function renderTask(t: ImageTaskRow): Record<string, unknown> {
  return {
    id: t.id, type: t.type, status: t.status, owner: t.owner, user_id: t.user_id, request_id: t.request_id, image_id: t.image_id,
    input: JSON.parse(t.input) as unknown, result: t.result === null ? null : JSON.parse(t.result) as unknown, message: t.message,
    created_at: apiTime(t.created_at), updated_at: apiTime(t.updated_at), expires_at: t.expires_at ? apiTime(t.expires_at) : null,
    self: `/v2/tasks/${t.id}`, schema: '/v2/schemas/task',
  };
}

/** `GET /v2/images/{id}/tasks`: the tasks of an image the caller can see. */
export async function imageTasks(ctx: ImageContext, caller: Caller, imageId: string): Promise<Record<string, unknown>[]> {
  await getVisible(ctx, caller, imageId);
  const rows = await ctx.db.selectFrom('image_task').selectAll().where('image_id', '=', imageId).orderBy('created_at').execute();
  return rows.map(renderTask);
}

/** `GET /v2/tasks` (policy `tasks_api_access`): the project's tasks, all of them for an admin. */
export async function listTasks(ctx: ImageContext, caller: Caller): Promise<Record<string, unknown>[]> {
  ctx.enforce(caller, 'tasks_api_access', { project_id: caller.projectId });
  let q = ctx.db.selectFrom('image_task').selectAll().orderBy('created_at', 'desc');
  if (!caller.isAdmin) q = q.where('owner', '=', caller.projectId ?? '');
  return (await q.execute()).map(renderTask);
}

/** `GET /v2/tasks/{id}`. */
export async function showTask(ctx: ImageContext, caller: Caller, id: string): Promise<Record<string, unknown>> {
  ctx.enforce(caller, 'tasks_api_access', { project_id: caller.projectId });
  const row = await ctx.db.selectFrom('image_task').selectAll().where('id', '=', id.slice(0, 64)).executeTakeFirst();
  if (!row || (!caller.isAdmin && row.owner !== caller.projectId)) throw notFound(`Task with the given id ${id} not found`);
  return renderTask(row);
}
