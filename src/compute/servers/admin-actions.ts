/**
 * Server actions outside the lifecycle proper: the admin's `os-resetState`; the deferred-delete
 * pair `forceDelete`/`restore` (this cloud deletes at once, as Nova with
 * reclaim_instance_interval = 0: forceDelete is a delete, nothing is ever SOFT_DELETED to
 * restore); `addSecurityGroup`/`removeSecurityGroup` on every port of the server; and the
 * migrations, refused with a reason (one QEMU host per agent, no migration between hosts yet).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, conflict, notFound } from '../faults.js';
import { validateBody } from '../api/schema.js';
import type { Caller } from '../context.js';
import { updateInstance } from './store.js';
import { startAction } from './actions-log.js';
import { requestDelete, serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { checkLock, requestIdOf } from './action-guard.js';

type Handler = (d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string) => Promise<unknown>;

const accepted = (reply: FastifyReply) => { reply.status(202); return reply.send(); };

const resetState: Handler = async (d, req, reply, caller, id) => {
  validateBody({
    type: 'object',
    properties: { 'os-resetState': { type: 'object', properties: { state: { type: 'string', enum: ['active', 'error'] } }, required: ['state'], additionalProperties: false } },
    required: ['os-resetState'], additionalProperties: false,
  }, req.body);
  const state = (req.body as { 'os-resetState': { state: 'active' | 'error' } })['os-resetState'].state;
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-admin-actions:reset_state');
  const db = serversDb(d.ctx);
  await updateInstance(db, inst.uuid, { vm_state: state, task_state: null });
  await startAction(db, { uuid: inst.uuid, requestId: requestIdOf(caller), action: 'resetState', projectId: inst.project_id, userId: caller.userId });
  return accepted(reply);
};

const forceDelete: Handler = async (d, _req, reply, caller, id) => {
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-deferred-delete:force');
  await requestDelete(d, caller, inst);
  return accepted(reply);
};

const restore: Handler = async (d, _req, _reply, caller, id) => {
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-deferred-delete:restore');
  throw conflict(`Cannot 'restore' instance ${inst.uuid} while it is in vm_state ${inst.vm_state}`);
};

const migration = (what: string, rule: string): Handler => async (d, _req, _reply, caller, id) => {
  await visibleInstance(d.ctx, caller, id, rule);
  throw badRequest(`${what} is not supported by this cloud yet: servers cannot be moved between compute hosts.`);
};

/** add/removeSecurityGroup: the group (by name or id, in the server's project) on or off every port of the server. */
const securityGroup = (add: boolean): Handler => async (d, req, reply, caller, id) => {
  const key = add ? 'addSecurityGroup' : 'removeSecurityGroup';
  validateBody({
    type: 'object',
    properties: { [key]: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['name'], additionalProperties: false } },
    required: [key], additionalProperties: false,
  }, req.body);
  const name = (req.body as Record<string, { name: string }>)[key]!.name;
  const inst = await visibleInstance(d.ctx, caller, id, add ? 'os_compute_api:os-security-groups:add' : 'os_compute_api:os-security-groups:remove');
  checkLock(caller, inst);
  const { ids } = await d.network.securityGroupIds(inst.project_id, [name]);
  const sg = ids[0];
  if (!sg) throw notFound(`Security group ${name} not found for project ${inst.project_id}.`);
  const ports = (await Promise.all(inst.body.ports.map((p) => d.network.port(p.id)))).filter((p) => p !== null);
  if (ports.length === 0) throw badRequest(`Server ${inst.uuid} has no network port to ${add ? 'add the security group to' : 'remove the security group from'}.`);
  const on = ports.filter((p) => (p.security_groups ?? []).includes(sg));
  if (add && on.length === ports.length) throw badRequest(`Security group ${name} is already associated with the instance ${inst.uuid}`);
  if (!add && on.length === 0) throw badRequest(`Security group ${name} not assigned to the instance ${inst.uuid}`);
  for (const p of ports) {
    const groups = p.security_groups ?? [];
    const next = add ? [...new Set([...groups, sg])] : groups.filter((g) => g !== sg);
    if (next.length !== groups.length) await d.network.updatePort(p.id, { security_groups: next });
  }
  const names = await d.network.securityGroupNames([...new Set(ports.flatMap((p) => (add ? [...(p.security_groups ?? []), sg] : (p.security_groups ?? []).filter((g) => g !== sg))))]);
  await updateInstance(serversDb(d.ctx), inst.uuid, { body: { security_groups: names } });
  return accepted(reply);
};

/** The actions of this module, by their request body key. */
export const ADMIN_ACTIONS: Readonly<Record<string, Handler>> = {
  'os-resetState': resetState,
  forceDelete,
  restore,
  migrate: migration('Cold migration', 'os_compute_api:os-migrate-server:migrate'),
  'os-migrateLive': migration('Live migration', 'os_compute_api:os-migrate-server:migrate_live'),
  addSecurityGroup: securityGroup(true),
  removeSecurityGroup: securityGroup(false),
};
