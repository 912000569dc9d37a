/**
 * `shelve`, `shelveOffload`, `unshelve`. Shelve: a snapshot image `<name>-shelved` (made by the
 * API, as in Nova), the instance powered off and its disk uploaded → SHELVED; with Nova's
 * default `shelved_offload_time` 0 it is offloaded at once: destroyed on its host, its
 * allocations removed, its ports unbound from the host (binding:host_id ''), host and node
 * cleared → SHELVED_OFFLOADED. Unshelve: a SHELVED instance is powered on where it is; an
 * offloaded one is scheduled again (placement claim through the scheduler, 2.77 zone and 2.91
 * host honoured), its ports bound to the chosen host, and spawned there from the shelved image.
 * Either way the shelved image is deleted once the instance runs.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, conflict } from '../faults.js';
import { atLeast } from '../api/http.js';
import { validateBody, type Schema } from '../api/schema.js';
import type { Caller } from '../context.js';
import { splitZones, zoneOfComputeHost, zonedServices } from '../availability-zones.js';
import { computeServiceOf, DEFAULT_AZ } from '../services.js';
import type { RequestSpec, Selection } from '../scheduler/types.js';
import type { ComputeAgent } from '../agent/agent.js';
import { getInstance, updateInstance, InstanceGone, InstanceStateConflict, type Instance } from './store.js';
import { POWER, VM } from './states.js';
import { recordFault } from './faults.js';
import { finishEvent, startAction, startEvent } from './actions-log.js';
import { refreshAddresses, type ConductorOptions } from './conductor.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, beginTask, checkLock, checkState, requestIdOf, type StateRule } from './action-guard.js';
import { beginImageTask, createSnapshotImage } from './snapshot.js';
import { groupOfInstance, groupRequest, groupsDb } from './groups.js';

const SHELVE_RULE: StateRule = { vmStates: [VM.active, VM.stopped, VM.paused, VM.suspended] };
const OFFLOAD_RULE: StateRule = { vmStates: [VM.shelved] };
const UNSHELVE_RULE: StateRule = { vmStates: [VM.shelved, VM.shelvedOffloaded] };

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Nova's `shelved_offload_time`: 0 offloads at once (the default), -1 never, N > 0 after N
 * seconds (a timer in this process: a restart before it fires leaves the instance SHELVED).
 */
function offloadTime(d: ServersApiDeps): number {
  const v = (d.ctx.config.compute as Record<string, unknown>).shelved_offload_time;
  return typeof v === 'number' ? v : 0;
}

export async function shelveAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({ type: 'object', properties: { shelve: {} }, required: ['shelve'], additionalProperties: false }, req.body);
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-shelve:shelve');
  checkLock(caller, inst);
  checkState('shelve', inst, SHELVE_RULE);
  const agent = agentOf(d, inst);
  const image = await createSnapshotImage(d.images, inst, caller, `${inst.display_name}-shelved`);
  const rid = await beginImageTask(d, caller, inst, image, 'shelve', SHELVE_RULE, 'shelving');
  d.background('shelve', async () => {
    if (!await agent.shelve(inst.uuid, rid, image.id, { vm_state: inst.vm_state })) return;
    const after = offloadTime(d);
    if (after === 0) await offloadInstance(d.conductor.o, inst.uuid, rid);
    else if (after > 0) setTimeout(() => { d.background('shelve offload', async () => { await offloadInstance(d.conductor.o, inst.uuid, rid); }); }, after * 1000).unref();
  });
  reply.status(202);
  return reply.send();
}

export async function shelveOffloadAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({ type: 'object', properties: { shelveOffload: {} }, required: ['shelveOffload'], additionalProperties: false }, req.body);
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-shelve:shelve_offload');
  checkLock(caller, inst);
  checkState('shelveOffload', inst, OFFLOAD_RULE);
  const db = serversDb(d.ctx);
  await beginTask(db, 'shelveOffload', inst, OFFLOAD_RULE, { task_state: 'shelving_offloading' });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'shelveOffload', projectId: inst.project_id, userId: caller.userId });
  d.background('shelve offload', async () => { await offloadInstance(d.conductor.o, inst.uuid, rid); });
  reply.status(202);
  return reply.send();
}

/**
 * Takes a SHELVED instance off its host: the hypervisor side destroyed, ports unbound from the
 * host (they stay the instance's), allocations removed, host and node cleared. False when the
 * instance is no longer SHELVED (unshelved meanwhile) or the offload failed (a fault says why).
 */
export async function offloadInstance(o: ConductorOptions, uuid: string, rid: string): Promise<boolean> {
  let inst: Instance;
  try {
    inst = await updateInstance(o.db, uuid, { task_state: 'shelving_offloading' }, { vm_state: [VM.shelved], task_state: [null, 'shelving_offloading'] });
  } catch (err) {
    if (err instanceof InstanceStateConflict || err instanceof InstanceGone) return false;
    throw err;
  }
  const ev = await startEvent(o.db, uuid, rid, 'compute_shelve_offload_instance', inst.host);
  try {
    const agent = inst.host ? o.hosts.agent(inst.host) : undefined;
    if (agent) await agent.destroy(uuid);
    else if (inst.host) o.log.warn({ instance: uuid, host: inst.host }, 'host unreachable: its hypervisor side is left to its agent\'s reconcile');
    for (const p of inst.body.ports) await o.network.updatePort(p.id, { 'binding:host_id': '' });
    await o.placement.removeAllocations(uuid);
    await updateInstance(o.db, uuid, {
      vm_state: VM.shelvedOffloaded, task_state: null, host: null, node: null, power_state: POWER.nostate, body: { hypervisor_hostname: null },
    });
    o.onChange?.(uuid);
    await finishEvent(o.db, ev, 'Success');
    return true;
  } catch (err) {
    await finishEvent(o.db, ev, 'Error', message(err));
    if (err instanceof InstanceGone) return false;
    o.log.warn({ err, instance: uuid }, 'shelve offload failed');
    await recordFault(o.db, uuid, err, { task_state: null }).catch(() => undefined);
    return false;
  }
}

function unshelveSchema(req: FastifyRequest): Schema {
  let unshelve: Schema = {};
  if (atLeast(req, '2.91')) {
    unshelve = {
      type: ['object', 'null'], properties: { availability_zone: { type: ['string', 'null'] }, host: { type: 'string' } }, additionalProperties: false,
    };
  } else if (atLeast(req, '2.77')) {
    unshelve = {
      type: ['object', 'null'], properties: { availability_zone: { type: 'string', format: 'name', minLength: 1, maxLength: 255 } },
      required: ['availability_zone'], additionalProperties: false,
    };
  }
  return { type: 'object', properties: { unshelve }, required: ['unshelve'], additionalProperties: false };
}

/** The zone the instance is pinned to: the one it runs in unless that is the default zone (no pin asked). */
const pinnedZone = (inst: Instance): string | null => (inst.availability_zone && inst.availability_zone !== DEFAULT_AZ ? inst.availability_zone : null);

export async function unshelveAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody(unshelveSchema(req), req.body);
  const u = (req.body as { unshelve: unknown }).unshelve;
  const args = u !== null && typeof u === 'object' ? u as { availability_zone?: string | null; host?: string } : {};
  const azPassed = atLeast(req, '2.77') && 'availability_zone' in args;
  const host = atLeast(req, '2.91') ? args.host : undefined;
  const ctx = d.ctx;
  const inst = await visibleInstance(ctx, caller, id, 'os_compute_api:os-shelve:unshelve');
  checkLock(caller, inst);
  checkState('unshelve', inst, UNSHELVE_RULE);
  if ((azPassed || host) && inst.vm_state !== VM.shelvedOffloaded) {
    throw conflict(`Specifying an availability zone or a host when unshelving server "${inst.uuid}" with status "${inst.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`);
  }
  const zone = azPassed ? args.availability_zone ?? null : pinnedZone(inst);
  if (azPassed && zone) {
    const { available } = splitZones(await zonedServices(ctx, { binary: 'nova-compute' }));
    if (!available.includes(zone)) throw badRequest('The requested availability zone is not available');
  }
  if (host) {
    ctx.authorize(caller, 'os_compute_api:os-shelve:unshelve_to_host', { project_id: inst.project_id, user_id: inst.user_id });
    if (!await computeServiceOf(ctx, host)) throw badRequest(`Compute host ${host} could not be found.`);
    if (zone && await zoneOfComputeHost(ctx, host) !== zone) throw conflict(`Host "${host}" is not in the availability zone "${zone}".`);
  }
  const agent = inst.vm_state === VM.shelved ? agentOf(d, inst) : undefined;
  const db = serversDb(ctx);
  await beginTask(db, 'unshelve', inst, UNSHELVE_RULE, { task_state: 'unshelving' });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'unshelve', projectId: inst.project_id, userId: caller.userId });
  d.background('unshelve', async () => {
    if (agent) await unshelveInPlace(d, agent, inst, rid);
    else await unshelveOffloaded(d, inst, rid, { zone, host: host ?? null });
  });
  reply.status(202);
  return reply.send();
}

/** A SHELVED instance (still on its host, powered off) starts again; its shelved image goes. */
async function unshelveInPlace(d: ServersApiDeps, agent: ComputeAgent, inst: Instance, rid: string): Promise<void> {
  const ok = await agent.act(inst.uuid, rid, 'compute_unshelve_instance', async () => {
    await agent.driver.powerOn(inst.uuid);
    return { vm_state: VM.active, body: { shelved_image_id: null } };
  }, { task_state: null }, { vm_state: VM.shelved, task_state: null });
  if (ok) await deleteShelvedImage(d, inst);
}

async function deleteShelvedImage(d: ServersApiDeps, inst: Instance): Promise<void> {
  const id = inst.body.shelved_image_id;
  if (id) await d.images.delete(id).catch((err: unknown) => d.ctx.log.warn({ err, image: id, instance: inst.uuid }, 'shelved image not deleted'));
}

/**
 * An offloaded instance scheduled again (the scheduler claims its resources in placement), its
 * ports bound to the chosen host, and spawned there from the shelved image. A failure puts
 * everything back: nothing on the host, ports unbound, no allocations, SHELVED_OFFLOADED with a fault.
 */
async function unshelveOffloaded(d: ServersApiDeps, inst: Instance, rid: string, where: { zone: string | null; host: string | null }): Promise<void> {
  const o = d.conductor.o;
  const imageId = inst.body.shelved_image_id;
  const f = inst.body.flavor;
  // Its server group's policy holds as at create (the instance itself, on no host now, does not count).
  const gdb = groupsDb(o.db);
  const group = await groupOfInstance(gdb, inst.uuid);
  const spec: RequestSpec = {
    instanceUuids: [inst.uuid], projectId: inst.project_id, userId: inst.user_id,
    flavor: { vcpus: f.vcpus, memoryMb: f.memory_mb, rootGb: f.root_gb, ephemeralGb: f.ephemeral_gb, swapMb: f.swap, name: f.name, flavorId: f.flavorid, extraSpecs: f.extra_specs },
    image: { id: imageId ?? inst.image_ref, properties: inst.body.image.properties }, availabilityZone: where.zone,
    ...(where.host ? { requestedDestination: { host: where.host } } : {}), requestId: rid,
    ...(group ? { group: await groupRequest(gdb, group, [inst.uuid]) } : {}),
  };
  const ev = await startEvent(o.db, inst.uuid, rid, 'conductor_unshelve_instance', null);
  let sel: Selection;
  try {
    if (!imageId) throw new Error(`Instance ${inst.uuid} has no shelved image to unshelve from.`);
    [sel] = (await o.scheduler.selectDestinations(spec)) as [Selection];
  } catch (err) {
    await finishEvent(o.db, ev, 'Error', message(err));
    await recordFault(o.db, inst.uuid, err, { task_state: null }).catch(() => undefined);
    o.onChange?.(inst.uuid);
    return;
  }
  try {
    const agent = o.hosts.agent(sel.host);
    if (!agent) throw new Error(`Compute host ${sel.host} is not reachable from this controller.`);
    let cur = await updateInstance(o.db, inst.uuid, {
      host: sel.host, node: sel.nodename, availability_zone: sel.availabilityZone, body: { hypervisor_hostname: sel.nodename },
    }, { task_state: ['unshelving'] });
    for (const p of cur.body.ports) await o.network.updatePort(p.id, { 'binding:host_id': sel.host, device_owner: `compute:${sel.availabilityZone}` });
    cur = await updateInstance(o.db, inst.uuid, { body: { addresses: await refreshAddresses(o.network, cur) } });
    o.onChange?.(inst.uuid);
    await finishEvent(o.db, ev, 'Success');
    await agent.unshelve(inst.uuid, rid, imageId);
    await updateInstance(o.db, inst.uuid, { body: { shelved_image_id: null } });
    await deleteShelvedImage(d, inst);
  } catch (err) {
    await finishEvent(o.db, ev, 'Error', message(err));
    for (const p of inst.body.ports) await o.network.updatePort(p.id, { 'binding:host_id': '' }).catch(() => undefined);
    await o.placement.removeAllocations(inst.uuid).catch((e: unknown) => o.log.warn({ err: e, instance: inst.uuid }, 'allocations of a failed unshelve not removed'));
    if (err instanceof InstanceGone || !await getInstance(o.db, inst.uuid)) return;
    o.log.warn({ err, instance: inst.uuid, host: sel.host }, 'unshelve failed');
    await recordFault(o.db, inst.uuid, err, {
      vm_state: VM.shelvedOffloaded, task_state: null, host: null, node: null, power_state: POWER.nostate, body: { hypervisor_hostname: null },
    }).catch(() => undefined);
    o.onChange?.(inst.uuid);
  }
}
