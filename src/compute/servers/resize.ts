/**
 * `resize`, `confirmResize`, `revertResize` on the instance's own host (Nova's
 * allow_resize_to_same_host; the all-in-one has one host). Resize: quota for the growth, the new
 * flavor claimed in placement on the same provider (the consumer's allocations replaced; a
 * flavor that does not fit there is a fault and the instance stays as it was), the driver's
 * resize (graceful stop, disks grown, started again when it ran), then VERIFY_RESIZE with the
 * old flavor kept. Confirm: ACTIVE (or SHUTOFF). Revert: the old flavor's vCPUs and memory and
 * its allocations back — but disks never shrink: a root or ephemeral disk grown by the resize
 * keeps its size (the guest's data on it stays; Nova would restore the old disk files instead).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { badRequest, forbidden } from '../faults.js';
import { validateBody } from '../api/schema.js';
import type { Caller } from '../context.js';
import { getFlavor } from '../flavors.js';
import { checkDeltas, QuotaExceeded, type QuotaSet } from '../quotas.js';
import type { Placement } from '../../placement/client.js';
import { requestGroups } from '../scheduler/request.js';
import type { FlavorSpec } from '../driver/types.js';
import type { ComputeAgent } from '../agent/agent.js';
import type { ServersDB } from './schema.js';
import { updateInstance, type Instance, type InstanceFlavor } from './store.js';
import { VM } from './states.js';
import { recordFault } from './faults.js';
import { finishEvent, startAction, startEvent } from './actions-log.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, beginTask, checkLock, checkState, requestIdOf, type StateRule } from './action-guard.js';
import { checkFlavorFitsImage } from './rebuild.js';
import { recordResize, setMigrationStatus } from './migration-store.js';

const RESIZE_RULE: StateRule = { vmStates: [VM.active, VM.stopped] };
const RESIZED_RULE: StateRule = { vmStates: [VM.resized] };

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The driver's sizes of a flavor. */
const flavorSpec = (f: InstanceFlavor): FlavorSpec => ({ vcpus: f.vcpus, memoryMb: f.memory_mb, rootGb: f.root_gb, ephemeralGb: f.ephemeral_gb, swapMb: f.swap });

/** Nova's TooManyInstances wording for a quota a resize would exceed. */
function quotaMessage(e: QuotaExceeded): string {
  const list = (m: Readonly<Partial<QuotaSet>>) => e.overs.map((r) => m[r] ?? 0).join(', ');
  return `Quota exceeded for ${e.overs.join(', ')}: Requested ${list(e.requested)}, but already used ${list(e.used)} of ${list(e.allowed)} ${e.overs.join(', ')}`;
}

/** Checks the quota for growing from `from` to `to` (only growth counts, as Nova's upsize_quota_delta). */
async function checkUpsize(d: ServersApiDeps, inst: Instance, from: InstanceFlavor, to: InstanceFlavor): Promise<void> {
  const deltas: Partial<QuotaSet> = {};
  if (to.vcpus > from.vcpus) deltas.cores = to.vcpus - from.vcpus;
  if (to.memory_mb > from.memory_mb) deltas.ram = to.memory_mb - from.memory_mb;
  if (!Object.keys(deltas).length) return;
  try {
    await checkDeltas(d.ctx, inst.project_id, inst.user_id, deltas);
  } catch (err) {
    if (err instanceof QuotaExceeded) throw forbidden(quotaMessage(err));
    throw err;
  }
}

/**
 * Replaces the instance's allocations with `flavor`'s resources on the provider that holds them
 * now (same-host resize). Placement refuses (409) when the provider has no room for the difference.
 */
export async function claimFlavor(placement: Placement, inst: Instance, flavor: InstanceFlavor): Promise<void> {
  const current = await placement.getAllocations(inst.uuid);
  const providers = Object.entries(current.allocations);
  const host = providers.find(([, r]) => 'VCPU' in r || 'MEMORY_MB' in r || 'PCPU' in r)?.[0] ?? providers[0]?.[0];
  if (!host) throw new Error(`Instance ${inst.uuid} holds no allocations in placement to resize.`);
  const main = requestGroups({
    flavor: { vcpus: flavor.vcpus, memoryMb: flavor.memory_mb, rootGb: flavor.root_gb, ephemeralGb: flavor.ephemeral_gb, swapMb: flavor.swap, extraSpecs: flavor.extra_specs },
  }).get('')!;
  await placement.claim(inst.uuid, { [host]: Object.fromEntries(main.resources) }, {
    projectId: inst.project_id, userId: inst.user_id, consumerGeneration: current.consumerGeneration ?? null, consumerType: 'INSTANCE',
  });
}

/** The conductor's step: the claim of `flavor`, or a fault leaving the instance as `restore` says. */
async function claimOrFault(db: Kysely<ServersDB>, placement: Placement, inst: Instance, flavor: InstanceFlavor, rid: string, restore: Parameters<typeof recordFault>[3]): Promise<boolean> {
  const ev = await startEvent(db, inst.uuid, rid, 'conductor_migrate_server', null);
  try {
    await claimFlavor(placement, inst, flavor);
    await finishEvent(db, ev, 'Success');
    return true;
  } catch (err) {
    const why = new Error(`No valid host was found. Host ${inst.host} has no room for flavor ${flavor.name}: ${message(err)}`);
    await finishEvent(db, ev, 'Error', why.message);
    await recordFault(db, inst.uuid, why, restore).catch(() => undefined);
    return false;
  }
}

export async function resizeAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({
    type: 'object',
    properties: {
      resize: {
        type: 'object',
        properties: { flavorRef: { type: ['string', 'integer'], minLength: 1 }, 'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] } },
        required: ['flavorRef'], additionalProperties: false,
      },
    },
    required: ['resize'], additionalProperties: false,
  }, req.body);
  const { flavorRef, 'OS-DCF:diskConfig': diskConfig } = (req.body as { resize: { flavorRef: string | number; 'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL' } }).resize;
  const ref = String(flavorRef);
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:servers:resize');
  checkLock(caller, inst);
  checkState('resize', inst, RESIZE_RULE);
  const agent = agentOf(d, inst);
  const flavorId = ref.split('/').filter(Boolean).pop() ?? '';
  const f = await getFlavor(d.ctx, flavorId, caller).catch(() => { throw badRequest(`Flavor ${flavorId} could not be found.`); });
  const from = inst.body.flavor;
  if (f.flavorid === from.flavorid) throw badRequest('When resizing, instances must change flavor!');
  if (f.disabled) throw badRequest(`Flavor ${flavorId} could not be found.`);
  if (f.root_gb === 0 && from.root_gb !== 0) throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.');
  const to: InstanceFlavor = {
    flavorid: f.flavorid, name: f.name, vcpus: f.vcpus, memory_mb: f.memory_mb, root_gb: f.root_gb, ephemeral_gb: f.ephemeral_gb, swap: f.swap,
    extra_specs: { ...f.extra_specs }, description: f.description,
  };
  checkFlavorFitsImage(to, { ...inst.body.image, size: null, virtual_size: null });
  await checkUpsize(d, inst, from, to);
  const db = serversDb(d.ctx);
  await beginTask(db, 'resize', inst, RESIZE_RULE, { task_state: 'resize_prep', body: { progress: 0, ...(diskConfig ? { disk_config: diskConfig } : {}) } });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'resize', projectId: inst.project_id, userId: caller.userId });
  await recordResize(db, inst, from, to, caller);
  d.background('resize', () => resizeOnHost(d, agent, inst, to, rid));
  reply.status(202);
  return reply.send();
}

/** The claim, then the driver's resize; a failure of the driver gives the old allocations back. */
async function resizeOnHost(d: ServersApiDeps, agent: ComputeAgent, inst: Instance, to: InstanceFlavor, rid: string): Promise<void> {
  const { db, placement, log } = d.conductor.o;
  const from = inst.body.flavor;
  if (!await claimOrFault(db, placement, inst, to, rid, { vm_state: inst.vm_state, task_state: null })) { await setMigrationStatus(db, inst.uuid, 'error'); return; }
  const ok = await agent.act(inst.uuid, rid, 'compute_resize_instance', async () => {
    await updateInstance(db, inst.uuid, { task_state: 'resize_migrating' }, { task_state: ['resize_prep'] });
    await agent.driver.resize(inst.uuid, flavorSpec(to));
    await updateInstance(db, inst.uuid, { task_state: 'resize_migrated' });
    await updateInstance(db, inst.uuid, { task_state: 'resize_finish' });
    await setMigrationStatus(db, inst.uuid, 'finished');
    return { vm_state: VM.resized, flavor_id: to.flavorid, body: { flavor: to, old_flavor: from, progress: 100 } };
  }, { task_state: null }, { vm_state: inst.vm_state, task_state: null });
  if (!ok) await setMigrationStatus(db, inst.uuid, 'error');
  if (!ok) await claimFlavor(placement, inst, from).catch((err: unknown) => log.error({ err, instance: inst.uuid }, 'allocations of a failed resize not restored'));
}

export async function confirmResizeAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({ type: 'object', properties: { confirmResize: {} }, required: ['confirmResize'], additionalProperties: false }, req.body);
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:servers:confirm_resize');
  checkLock(caller, inst);
  checkState('confirmResize', inst, RESIZED_RULE);
  if (!inst.body.old_flavor) throw badRequest('Instance has not been resized.');
  const agent = agentOf(d, inst);
  const db = serversDb(d.ctx);
  await beginTask(db, 'confirmResize', inst, RESIZED_RULE, { task_state: 'resize_confirming' });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'confirmResize', projectId: inst.project_id, userId: caller.userId });
  await setMigrationStatus(db, inst.uuid, 'confirming');
  // Same host: the driver drops the disks it kept for a revert; the instance takes its state from its power.
  d.background('confirmResize', async () => {
    const ok = await agent.act(inst.uuid, rid, 'compute_confirm_resize', async () => {
      await agent.driver.finishResize(inst.uuid, false);
      await setMigrationStatus(db, inst.uuid, 'confirmed');
      return { vm_state: (await agent.driver.state(inst.uuid)) === 'shutdown' ? VM.stopped : VM.active, body: { old_flavor: null } };
    }, { task_state: null }, { task_state: null });
    if (!ok) await setMigrationStatus(db, inst.uuid, 'error');
  });
  reply.status(204);
  return reply.send();
}

export async function revertResizeAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({ type: 'object', properties: { revertResize: {} }, required: ['revertResize'], additionalProperties: false }, req.body);
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:servers:revert_resize');
  checkLock(caller, inst);
  checkState('revertResize', inst, RESIZED_RULE);
  const old = inst.body.old_flavor;
  if (!old) throw badRequest('Instance has not been resized.');
  const agent = agentOf(d, inst);
  await checkUpsize(d, inst, inst.body.flavor, old);
  const db = serversDb(d.ctx);
  await beginTask(db, 'revertResize', inst, RESIZED_RULE, { task_state: 'resize_reverting' });
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'revertResize', projectId: inst.project_id, userId: caller.userId });
  await setMigrationStatus(db, inst.uuid, 'reverting');
  d.background('revertResize', () => revertOnHost(d, agent, inst, old, rid));
  reply.status(202);
  return reply.send();
}

/**
 * The old flavor claimed again, then the instance as it was before the resize: the driver puts
 * the disks it kept back (as Nova does: what the guest wrote since is lost). A resize made before
 * drivers kept them (none pending) gets the old vCPUs and memory with the disks at their grown size.
 */
async function revertOnHost(d: ServersApiDeps, agent: ComputeAgent, inst: Instance, old: InstanceFlavor, rid: string): Promise<void> {
  const { db, placement, log } = d.conductor.o;
  const cur = inst.body.flavor;
  if (!await claimOrFault(db, placement, inst, old, rid, { task_state: null })) { await setMigrationStatus(db, inst.uuid, 'error'); return; }
  const ok = await agent.act(inst.uuid, rid, 'compute_revert_resize', async () => {
    if (!await agent.driver.finishResize(inst.uuid, true)) {
      const sizes: FlavorSpec = {
        vcpus: old.vcpus, memoryMb: old.memory_mb, rootGb: Math.max(old.root_gb, cur.root_gb), ephemeralGb: Math.max(old.ephemeral_gb, cur.ephemeral_gb), swapMb: old.swap,
      };
      log.info({ instance: inst.uuid, rootGb: sizes.rootGb, ephemeralGb: sizes.ephemeralGb }, 'resize reverted without kept disks: they keep the size the resize gave them');
      await agent.driver.resize(inst.uuid, sizes);
      await agent.driver.finishResize(inst.uuid, false);
    }
    const power = await agent.driver.state(inst.uuid);
    await setMigrationStatus(db, inst.uuid, 'reverted');
    return { vm_state: power === 'shutdown' ? VM.stopped : VM.active, flavor_id: old.flavorid, body: { flavor: old, old_flavor: null, progress: 100 } };
  }, { task_state: null }, { vm_state: VM.resized, task_state: null });
  if (!ok) await setMigrationStatus(db, inst.uuid, 'error');
  if (!ok) await claimFlavor(placement, inst, cur).catch((err: unknown) => log.error({ err, instance: inst.uuid }, 'allocations of a failed revert not restored'));
}
