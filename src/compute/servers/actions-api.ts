/**
 * `POST /servers/{id}/action`: the power and lifecycle actions (Nova's os-start/os-stop, reboot,
 * pause, suspend, lock, console output, and createImage, rebuild, resize/confirm/revert,
 * shelve/offload/unshelve, rescue/unrescue in their own modules). Each checks the instance's
 * state (409 otherwise), sets its task state, records an instance action, answers, and lets the
 * host's agent do it. Also registers `/servers/{id}/os-interface` (interfaces.ts).
 */
import { createBackupAction } from './backup.js';
import { ADMIN_ACTIONS } from './admin-actions.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, conflict, novaFault } from '../faults.js';
import { atLeast, params, type ComputeRoutes } from '../api/http.js';
import { actionOf } from '../api/actions.js';
import { pyRepr, validateBody, type Schema } from '../api/schema.js';
import type { Caller } from '../context.js';
import { updateInstance, type Instance, type InstancePatch } from './store.js';
import { startAction } from './actions-log.js';
import { VM } from './states.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import type { ComputeAgent } from '../agent/agent.js';
import { agentOf, beginTask, checkLock, checkState } from './action-guard.js';
import { createImageAction } from './snapshot.js';
import { rebuildAction } from './rebuild.js';
import { confirmResizeAction, resizeAction, revertResizeAction } from './resize.js';
import { shelveAction, shelveOffloadAction, unshelveAction } from './shelve.js';
import { rescueAction, unrescueAction } from './rescue.js';
import { registerInterfaces } from './interfaces.js';
import { PROXY_ACTIONS } from '../proxies/server-actions.js';

/** An action with its own module: validates, checks, starts the work, and answers. */
type ActionHandler = (d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string) => Promise<unknown>;

const LIFECYCLE: Readonly<Record<string, ActionHandler>> = {
  createImage: createImageAction, rebuild: rebuildAction, resize: resizeAction, confirmResize: confirmResizeAction, revertResize: revertResizeAction,
  shelve: shelveAction, shelveOffload: shelveOffloadAction, unshelve: unshelveAction, rescue: rescueAction, unrescue: unrescueAction,
  createBackup: createBackupAction, ...ADMIN_ACTIONS,
  ...PROXY_ACTIONS,
};

/**
 * Nova's actions this cloud does not offer, with the reason: Nova's 501 (the virt driver lacks the
 * feature) instead of "no such action", so a client learns why.
 */
const NO_CONSOLES = 'graphical and serial consoles are not offered (no console proxy); the console log is (os-getConsoleOutput)';
const NOT_OFFERED: Readonly<Record<string, string>> = {
  changePassword: 'setting the admin password needs a guest agent, which Nephos guests do not run',
  'os-getVNCConsole': NO_CONSOLES,
  'os-getSPICEConsole': NO_CONSOLES,
  'os-getRDPConsole': NO_CONSOLES,
  'os-getSerialConsole': NO_CONSOLES,
  evacuate: 'evacuation is not offered: instance disks are local to their host',
  trigger_crash_dump: 'crash dumps (NMI) are not offered',
  injectNetworkInfo: 'network info injection is not offered: guests take their network from DHCP and the metadata service',
  resetNetwork: 'network reset is not offered: guests take their network from DHCP and the metadata service',
  addFixedIp: 'adding a fixed IP by network is not offered: attach a port (os-interface) instead',
  removeFixedIp: 'removing a fixed IP is not offered: detach the port (os-interface) instead',
};

const ACTIONS = ['os-start', 'os-stop', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock', 'os-getConsoleOutput', ...Object.keys(LIFECYCLE),
  ...Object.keys(NOT_OFFERED)];

/** What an agent-run action is: allowed states, its task state, the driver work, and the states after. */
interface AgentAction {
  readonly rule: string;
  readonly action: string;
  readonly event: string;
  readonly vmStates: readonly string[];
  readonly task: string;
  readonly work: (agent: ComputeAgent, inst: Instance, body: any) => Promise<void>;
  readonly done: InstancePatch;
}

const act = (a: AgentAction) => a;

export function registerServerActions(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const db = serversDb(ctx);

  const agentActions: Record<string, AgentAction> = {
    'os-start': act({
      rule: 'os_compute_api:servers:start', action: 'start', event: 'compute_start_instance', vmStates: [VM.stopped], task: 'powering-on',
      work: (a, i) => a.driver.powerOn(i.uuid), done: { vm_state: VM.active, task_state: null },
    }),
    'os-stop': act({
      rule: 'os_compute_api:servers:stop', action: 'stop', event: 'compute_stop_instance', vmStates: [VM.active, VM.error, VM.rescued], task: 'powering-off',
      work: (a, i) => a.driver.powerOff(i.uuid), done: { vm_state: VM.stopped, task_state: null },
    }),
    reboot: act({
      rule: 'os_compute_api:servers:reboot', action: 'reboot', event: 'compute_reboot_instance', vmStates: [VM.active, VM.stopped, VM.paused, VM.suspended, VM.error], task: 'rebooting',
      work: (a, i, b) => (i.vm_state === VM.active && b.type !== 'HARD' ? a.driver.reboot(i.uuid, 'soft') : a.driver.reboot(i.uuid, 'hard')),
      done: { vm_state: VM.active, task_state: null },
    }),
    pause: act({
      rule: 'os_compute_api:os-pause-server:pause', action: 'pause', event: 'compute_pause_instance', vmStates: [VM.active], task: 'pausing',
      work: (a, i) => a.driver.pause(i.uuid), done: { vm_state: VM.paused, task_state: null },
    }),
    unpause: act({
      rule: 'os_compute_api:os-pause-server:unpause', action: 'unpause', event: 'compute_unpause_instance', vmStates: [VM.paused], task: 'unpausing',
      work: (a, i) => a.driver.unpause(i.uuid), done: { vm_state: VM.active, task_state: null },
    }),
    suspend: act({
      rule: 'os_compute_api:os-suspend-server:suspend', action: 'suspend', event: 'compute_suspend_instance', vmStates: [VM.active], task: 'suspending',
      work: (a, i) => a.driver.suspend(i.uuid), done: { vm_state: VM.suspended, task_state: null },
    }),
    resume: act({
      rule: 'os_compute_api:os-suspend-server:resume', action: 'resume', event: 'compute_resume_instance', vmStates: [VM.suspended], task: 'resuming',
      work: (a, i) => a.driver.resume(i.uuid), done: { vm_state: VM.active, task_state: null },
    }),
  };

  const rebootSchema: Schema = {
    type: 'object',
    properties: { reboot: { type: 'object', properties: { type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } }, required: ['type'], additionalProperties: false } },
    required: ['reboot'], additionalProperties: false,
  };

  const runOnAgent = async (caller: Caller, inst: Instance, a: AgentAction, body: any) => {
    checkLock(caller, inst);
    checkState(a.action, inst, { vmStates: a.vmStates });
    const agent = agentOf(d, inst);
    const task = a.action === 'reboot' && String(body?.type).toUpperCase() === 'HARD' ? 'rebooting_hard' : a.task;
    await beginTask(db, a.action, inst, { vmStates: a.vmStates }, { task_state: task });
    const requestId = caller.requestId ?? '';
    await startAction(db, { uuid: inst.uuid, requestId, action: a.action, projectId: inst.project_id, userId: caller.userId });
    d.background(a.action, async () => { await agent.act(inst.uuid, requestId, a.event, (i) => a.work(agent, i, body), a.done, { vm_state: inst.vm_state, task_state: null }); });
  };

  routes.post('/servers/:server_id/action', async (req, reply) => {
    const caller = routes.caller(req);
    const name = actionOf(req.body, ACTIONS);
    const body = (req.body as Record<string, any>)[name];
    const id = params<{ server_id: string }>(req).server_id;
    if (name === 'reboot') validateBody(rebootSchema, req.body);
    const lifecycle = LIFECYCLE[name];
    if (lifecycle) return lifecycle(d, req, reply, caller, id);
    const notOffered = NOT_OFFERED[name];
    if (notOffered !== undefined) {
      await visibleInstance(ctx, caller, id, 'os_compute_api:servers:show'); // an unknown server is still a 404
      throw novaFault(501, `Action ${name} is not supported: ${notOffered}.`);
    }
    const agentAction = agentActions[name];
    if (agentAction) {
      const inst = await visibleInstance(ctx, caller, id, agentAction.rule);
      await runOnAgent(caller, inst, agentAction, body);
      reply.status(202);
      return reply.send();
    }
    switch (name) {
      case 'lock': {
        if (atLeast(req, '2.73')) {
          // Nova's schema from 2.73: null, or an object with at most a reason.
          validateBody({
            type: 'object',
            properties: { lock: { type: ['object', 'null'], properties: { locked_reason: { type: 'string', maxLength: 255 } }, additionalProperties: false } },
            required: ['lock'], additionalProperties: false,
          }, req.body);
        } else if (body !== null && typeof body === 'object' && body.locked_reason !== undefined) {
          throw badRequest(`Invalid input for field/attribute lock. Value: ${pyRepr(body)}. Additional properties are not allowed ('locked_reason' was unexpected)`);
        }
        const inst = await visibleInstance(ctx, caller, id, 'os_compute_api:os-lock-server:lock');
        await updateInstance(db, inst.uuid, { locked: 1, body: { locked_by: caller.isAdmin && inst.project_id !== caller.projectId ? 'admin' : 'owner', locked_reason: body?.locked_reason ?? null } });
        await startAction(db, { uuid: inst.uuid, requestId: caller.requestId ?? '', action: 'lock', projectId: inst.project_id, userId: caller.userId });
        reply.status(202);
        return reply.send();
      }
      case 'unlock': {
        const inst = await visibleInstance(ctx, caller, id, 'os_compute_api:os-lock-server:unlock');
        if (inst.locked && inst.body.locked_by === 'admin' && !caller.isAdmin) ctx.authorize(caller, 'os_compute_api:os-lock-server:unlock:unlock_override', { project_id: inst.project_id });
        await updateInstance(db, inst.uuid, { locked: 0, body: { locked_by: null, locked_reason: null } });
        await startAction(db, { uuid: inst.uuid, requestId: caller.requestId ?? '', action: 'unlock', projectId: inst.project_id, userId: caller.userId });
        reply.status(202);
        return reply.send();
      }
      case 'os-getConsoleOutput': {
        validateBody({
          type: 'object',
          properties: { 'os-getConsoleOutput': { type: 'object', properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$', minimum: -1 } }, additionalProperties: false } },
          required: ['os-getConsoleOutput'], additionalProperties: false,
        }, req.body);
        const inst = await visibleInstance(ctx, caller, id, 'os_compute_api:os-console-output');
        const agent = inst.host ? d.conductor.o.hosts.agent(inst.host) : undefined;
        if (!agent || inst.vm_state === VM.building) throw conflict(`Instance ${inst.uuid} has no console yet.`);
        const len = body?.length === undefined || body?.length === null ? undefined : Number(body.length);
        const text = await agent.driver.consoleOutput(inst.uuid, len === undefined || len < 0 ? undefined : len).catch(() => { throw conflict(`Console log of instance ${inst.uuid} is not available.`); });
        return { output: len === 0 ? '' : text };
      }
    }
    throw badRequest(`There is no such action: ${name}`);
  });

  registerInterfaces(routes, d);
}
