/**
 * The conductor (Nova's nova-conductor + the build half of the compute manager's caller): after
 * the API recorded instances, it schedules them (placement claims included), makes and binds
 * their ports on the chosen host, and hands the build to that host's agent; it also tears
 * instances down (agent, ports, allocations, record). Whatever fails leaves the instance in
 * ERROR with a fault that says why — never a silent BUILD.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Placement } from '../../placement/client.js';
import type { NetworkClient } from '../clients/network.js';
import type { ServersDB } from './schema.js';
import type { ComputeAgent } from '../agent/agent.js';
import type { RequestSpec, Selection } from '../scheduler/types.js';
import { getInstance, markDeleted, updateInstance, InstanceGone, type AddressEntry, type Instance, type RequestedNetwork } from './store.js';
import { recordFault } from './faults.js';
import { POWER, VM } from './states.js';
import { finishEvent, startEvent } from './actions-log.js';
import { leaveGroups } from './groups.js';

/** What the conductor needs of the scheduler. */
export interface SchedulerApi {
  selectDestinations(spec: RequestSpec): Promise<Selection[]>;
}

/** The compute hosts' agents this conductor can reach (in-process now; the bus for remote hosts). */
export interface HostRegistry {
  agent(host: string): ComputeAgent | undefined;
}

export interface ConductorOptions {
  readonly db: Kysely<ServersDB>;
  readonly scheduler: SchedulerApi;
  readonly placement: Placement;
  readonly network: NetworkClient;
  readonly hosts: HostRegistry;
  readonly log: Logger;
  readonly onChange?: (uuid: string) => void;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Network names by id, for the address cache. */
async function networkNames(network: NetworkClient, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of ids) out.set(id, (await network.network(id))?.name ?? id);
  return out;
}

/** The instance's addresses as the API shows them (Nova's network info cache), from its ports now. */
export async function refreshAddresses(network: NetworkClient, i: Instance): Promise<Record<string, AddressEntry[]>> {
  const ports = await network.ports({ device_id: i.uuid });
  const names = await networkNames(network, [...new Set(ports.map((p) => p.network_id))]);
  const out: Record<string, AddressEntry[]> = {};
  const order = (id: string) => { const k = i.body.ports.findIndex((p) => p.id === id); return k < 0 ? 1e9 : k; };
  for (const p of [...ports].sort((a, b) => order(a.id) - order(b.id))) {
    const list = (out[names.get(p.network_id)!] ??= []);
    for (const f of p.fixed_ips) list.push({ version: f.ip_address.includes(':') ? 6 : 4, addr: f.ip_address, type: 'fixed', mac: p.mac_address, port: p.id });
    for (const fip of await network.floatingIps(p.id)) list.push({ version: 4, addr: fip.floating_ip_address, type: 'floating', mac: p.mac_address, port: p.id });
  }
  return out;
}

export class Conductor {
  constructor(readonly o: ConductorOptions) {}

  #changed(uuid: string): void { this.o.onChange?.(uuid); }

  /** Schedules and builds a request's instances (runs after the API answered 202). */
  async buildInstances(spec: RequestSpec, requestId: string): Promise<void> {
    const db = this.o.db;
    let selections: Selection[];
    const events = new Map<string, number | null>();
    for (const uuid of spec.instanceUuids) events.set(uuid, await startEvent(db, uuid, requestId, 'conductor_schedule_and_build_instances', null));
    try {
      selections = await this.o.scheduler.selectDestinations(spec);
    } catch (err) {
      this.o.log.info({ err: message(err), instances: spec.instanceUuids }, 'instances not scheduled');
      for (const uuid of spec.instanceUuids) {
        await finishEvent(db, events.get(uuid) ?? null, 'Error', message(err));
        await recordFault(db, uuid, err, { vm_state: VM.error, task_state: null }).catch(() => undefined);
        this.#changed(uuid);
      }
      return;
    }
    await Promise.all(selections.map(async (sel) => {
      const ev = events.get(sel.instanceUuid) ?? null;
      try {
        await this.#buildOn(sel, requestId);
        await finishEvent(db, ev, 'Success');
      } catch (err) {
        await finishEvent(db, ev, 'Error', message(err));
        if (err instanceof InstanceGone) { await this.o.placement.removeAllocations(sel.instanceUuid).catch(() => undefined); return; }
        this.o.log.warn({ err, instance: sel.instanceUuid, host: sel.host }, 'instance build not started');
        await recordFault(db, sel.instanceUuid, err, { vm_state: VM.error, task_state: null }).catch(() => undefined);
        this.#changed(sel.instanceUuid);
      }
    }));
  }

  async #buildOn(sel: Selection, requestId: string): Promise<void> {
    const agent = this.o.hosts.agent(sel.host);
    if (!agent) throw new Error(`Compute host ${sel.host} is not reachable from this controller.`);
    let inst = await updateInstance(this.o.db, sel.instanceUuid, {
      host: sel.host, node: sel.nodename, availability_zone: sel.availabilityZone, task_state: 'networking',
      body: { hypervisor_hostname: sel.nodename },
    }, { vm_state: [VM.building] });
    this.#changed(inst.uuid);
    const ports = await this.#allocatePorts(inst, sel.host);
    try {
      inst = await updateInstance(this.o.db, inst.uuid, { task_state: 'block_device_mapping', body: { ports } });
    } catch (err) {
      // Deleted while its ports were being made: they go too.
      await this.#releasePorts(ports);
      throw err;
    }
    inst = await updateInstance(this.o.db, inst.uuid, { body: { addresses: await refreshAddresses(this.o.network, inst) } });
    this.#changed(inst.uuid);
    await agent.build(inst.uuid, requestId);
    this.#changed(inst.uuid);
  }

  /** Nova's allocate_for_instance: a port per requested network (or the requested ports), bound to `host`. */
  async #allocatePorts(inst: Instance, host: string): Promise<{ id: string; created: boolean }[]> {
    const req = inst.body.requested_networks;
    if (req === 'none') return [];
    const wanted = req === 'auto' ? await this.#autoNetwork(inst) : req;
    const sgIds = wanted.some((w) => !w.port) && inst.body.security_groups.length
      ? (await this.o.network.securityGroupIds(inst.project_id, inst.body.security_groups)).ids : [];
    const out: { id: string; created: boolean }[] = [];
    const owner = `compute:${inst.availability_zone ?? 'nova'}`;
    try {
      for (const w of wanted) {
        if (w.port) {
          await this.o.network.updatePort(w.port, { device_id: inst.uuid, device_owner: owner, 'binding:host_id': host });
          out.push({ id: w.port, created: false });
        } else {
          const port = await this.o.network.createPort({
            network_id: w.uuid, project_id: inst.project_id, device_id: inst.uuid, device_owner: owner, 'binding:host_id': host,
            ...(sgIds.length ? { security_groups: sgIds } : {}),
            ...(w.fixed_ip ? { fixed_ips: [{ ip_address: w.fixed_ip }] } : {}),
          });
          out.push({ id: port.id, created: true });
        }
      }
    } catch (err) {
      await this.#releasePorts(out);
      throw err;
    }
    return out;
  }

  /** `auto` (or no networks before 2.37): the project's one bootable network, if any. */
  async #autoNetwork(inst: Instance): Promise<RequestedNetwork[]> {
    const nets = await this.o.network.bootableNetworks(inst.project_id);
    if (nets.length === 0) return [];
    if (nets.length > 1) throw new Error('Multiple possible networks found, use a Network ID to be more specific.');
    return [{ uuid: nets[0]!.id }];
  }

  async #releasePorts(ports: readonly { id: string; created: boolean }[]): Promise<void> {
    for (const p of ports) {
      try {
        if (p.created) await this.o.network.deletePort(p.id);
        else await this.o.network.updatePort(p.id, { device_id: '', device_owner: '', 'binding:host_id': '' });
      } catch (err) {
        this.o.log.warn({ err, port: p.id }, 'port not released');
      }
    }
  }

  /** Deletes an instance: its hypervisor side, its ports, its allocations, then its record. */
  async deleteInstance(uuid: string, requestId: string): Promise<void> {
    const inst = await getInstance(this.o.db, uuid);
    if (!inst) return;
    const ev = await startEvent(this.o.db, uuid, requestId, 'compute_terminate_instance', inst.host);
    try {
      if (inst.host) {
        const agent = this.o.hosts.agent(inst.host);
        if (agent) await agent.destroy(uuid);
        else this.o.log.warn({ instance: uuid, host: inst.host }, 'host unreachable: its hypervisor side is left to its agent\'s reconcile');
      }
      // Ports this instance made go; ports the user gave are let go. Also any port still naming it.
      const known = new Map(inst.body.ports.map((p) => [p.id, p]));
      for (const p of await this.o.network.ports({ device_id: uuid })) if (!known.has(p.id)) known.set(p.id, { id: p.id, created: p.device_owner.startsWith('compute:') && !inst.body.ports.length });
      await this.#releasePorts([...known.values()]);
      await this.o.placement.removeAllocations(uuid).catch((err) => this.o.log.warn({ err, instance: uuid }, 'allocations not removed'));
      await markDeleted(this.o.db, uuid);
      await leaveGroups(this.o.db, uuid);
      await finishEvent(this.o.db, ev, 'Success');
    } catch (err) {
      await finishEvent(this.o.db, ev, 'Error', message(err));
      this.o.log.warn({ err, instance: uuid }, 'instance delete failed');
      await recordFault(this.o.db, uuid, err, { vm_state: VM.error, task_state: null, power_state: POWER.nostate }).catch(() => undefined);
    }
    this.#changed(uuid);
  }
}
