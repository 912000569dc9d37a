/**
 * `rescue` / `unrescue`: the instance boots from a rescue image — the one given
 * (`rescue_image_ref`) or its own image — with its own root disk attached second, so a user can
 * repair it; unrescue boots it from its own disk again. Rescue answers 200 with the admin
 * password (Nova's enable_instance_password default); failures leave the instance in ERROR with
 * a fault, as Nova's do.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../faults.js';
import { validateBody } from '../api/schema.js';
import type { Caller } from '../context.js';
import { VM } from './states.js';
import { startAction } from './actions-log.js';
import { checkImageVisible } from './create.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, beginTask, checkLock, checkState, requestIdOf, type StateRule } from './action-guard.js';
import { randomPassword } from './rebuild.js';

const RESCUE_RULE: StateRule = { vmStates: [VM.active, VM.stopped, VM.error] };
const UNRESCUE_RULE: StateRule = { vmStates: [VM.rescued] };

export async function rescueAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({
    type: 'object',
    properties: {
      rescue: { type: ['object', 'null'], properties: { adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', format: 'uuid' } }, additionalProperties: false },
    },
    required: ['rescue'], additionalProperties: false,
  }, req.body);
  const r = ((req.body as { rescue: { adminPass?: string; rescue_image_ref?: string } | null }).rescue) ?? {};
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-rescue');
  checkLock(caller, inst);
  checkState('rescue', inst, RESCUE_RULE);
  const agent = agentOf(d, inst);
  let imageId = inst.image_ref;
  if (r.rescue_image_ref) {
    const unsupported = badRequest(`Requested rescue image '${r.rescue_image_ref}' is not supported`);
    const img = await d.images.image(r.rescue_image_ref);
    if (!img) throw unsupported;
    await checkImageVisible(d.images, img, caller).catch(() => { throw unsupported; });
    if (img.status !== 'active' || !['qcow2', 'raw', 'ami'].includes(String(img.disk_format))) throw unsupported;
    imageId = img.id;
  }
  const db = serversDb(d.ctx);
  await beginTask(db, 'rescue', inst, RESCUE_RULE, { task_state: 'rescuing' });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'rescue', projectId: inst.project_id, userId: caller.userId });
  d.background('rescue', async () => { await agent.rescue(inst.uuid, rid, imageId); });
  return { adminPass: r.adminPass ?? randomPassword() };
}

export async function unrescueAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({ type: 'object', properties: { unrescue: {} }, required: ['unrescue'], additionalProperties: false }, req.body);
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-unrescue');
  checkLock(caller, inst);
  checkState('unrescue', inst, UNRESCUE_RULE);
  const agent = agentOf(d, inst);
  const db = serversDb(d.ctx);
  await beginTask(db, 'unrescue', inst, UNRESCUE_RULE, { task_state: 'unrescuing' });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'unrescue', projectId: inst.project_id, userId: caller.userId });
  d.background('unrescue', async () => {
    await agent.act(inst.uuid, rid, 'compute_unrescue_instance', async () => {
      await agent.driver.unrescue(inst.uuid);
      return { vm_state: VM.active };
    }, { task_state: null }, { vm_state: VM.error, task_state: null });
  });
  reply.status(202);
  return reply.send();
}
