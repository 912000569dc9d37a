/**
 * The checks every server action makes before it starts, as Nova's compute API decorators do
 * (check_instance_lock, check_instance_state, check_instance_host), and the compare-and-swap that
 * claims the instance for the action: the task state is set only if the instance is still in a
 * state the action accepts, so two conflicting requests never both proceed (the loser gets 409).
 */
import type { Kysely } from 'kysely';
import type { Fault } from '../../platform/http/faults.js';
import { conflict, notFound } from '../faults.js';
import type { Caller } from '../context.js';
import type { ComputeAgent } from '../agent/agent.js';
import type { ServersDB } from './schema.js';
import { updateInstance, InstanceGone, InstanceStateConflict, type Instance, type InstancePatch } from './store.js';
import type { ServersApiDeps } from './api.js';

/** Nova's InstanceInvalidState as the API words it: the vm_state when that is wrong, else the task_state. */
export function invalidState(action: string, i: { uuid: string; vm_state: string; task_state: string | null }, vmStates?: readonly string[]): Fault {
  const attr = vmStates && !vmStates.includes(i.vm_state) ? `vm_state ${i.vm_state}` : `task_state ${i.task_state ?? 'None'}`;
  return conflict(`Cannot '${action}' instance ${i.uuid} while it is in ${attr}`);
}

/** Nova's check_instance_lock: a locked instance takes actions from admins only. */
export function checkLock(caller: Caller, inst: Instance): void {
  if (inst.locked && !caller.isAdmin) throw conflict(`Instance ${inst.uuid} is locked`);
}

export interface StateRule {
  /** vm_states the action accepts. */
  readonly vmStates: readonly string[];
  /** task_states it accepts (default: none running). */
  readonly taskStates?: readonly (string | null)[];
  /** Whether the instance must have been launched once (Nova's must_have_launched; default true). */
  readonly launched?: boolean;
}

/** Nova's check_instance_state: 409 unless the instance is in one of the accepted states. */
export function checkState(action: string, inst: Instance, rule: StateRule): void {
  const tasks = rule.taskStates ?? [null];
  if (!rule.vmStates.includes(inst.vm_state) || !tasks.includes(inst.task_state)) throw invalidState(action, inst, rule.vmStates);
  if ((rule.launched ?? true) && !inst.launched_at) throw conflict(`Cannot '${action}' instance ${inst.uuid} while it is in launched_at None`);
}

/** The agent of the instance's host (Nova's check_instance_host), or 409. */
export function agentOf(d: ServersApiDeps, inst: Instance): ComputeAgent {
  const agent = inst.host ? d.conductor.o.hosts.agent(inst.host) : undefined;
  if (!agent) throw conflict(`Instance ${inst.uuid} has no reachable compute host.`);
  return agent;
}

/**
 * Claims the instance for `action`: writes `patch` (its task state) only if the instance is still
 * in one of the rule's states; otherwise the 409 Nova answers when it lost that race.
 */
export async function beginTask(db: Kysely<ServersDB>, action: string, inst: Instance, rule: StateRule, patch: InstancePatch): Promise<Instance> {
  try {
    return await updateInstance(db, inst.uuid, patch, { vm_state: rule.vmStates, task_state: rule.taskStates ?? [null] });
  } catch (err) {
    if (err instanceof InstanceStateConflict) throw invalidState(action, { uuid: inst.uuid, ...err.actual }, rule.vmStates);
    if (err instanceof InstanceGone) throw notFound(`Instance ${inst.uuid} could not be found.`);
    throw err;
  }
}

/** The caller's request id (actions and their events are keyed by it). */
export const requestIdOf = (caller: Caller): string => caller.requestId ?? '';
