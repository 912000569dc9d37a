/**
 * Host states: what the filters and weighers know of each candidate host for one request — the
 * compute node, its service and aggregates (compute-view.ts) joined with placement's candidates
 * and the capacity and usage of the host's providers (placement-view.ts). Built in memory, never
 * with a query per host.
 */
import type { Candidate } from '../../placement/client.js';
import type { ServiceRow } from '../store/schema.js';
import type { ComputeSnapshot, NodeInfo, SupportedInstance } from './compute-view.js';
import type { ClassUsage, Offer, PlacementView } from './placement-view.js';

export type { ClassUsage, SupportedInstance };

export interface HostState {
  readonly host: string;
  readonly nodename: string;
  /** The compute node's UUID = its placement root provider. */
  readonly uuid: string;
  /** The host's nova-compute service (undefined: none registered). */
  readonly service?: ServiceRow;
  /** Whether the service is up (heartbeat within service_down_time, not forced down). */
  readonly up: boolean;
  readonly zone: string;
  readonly aggregates: NodeInfo['aggregates'];
  /** Metadata of the host's aggregates: key → every value (comma-separated values split). */
  readonly aggregateMetadata: NodeInfo['aggregateMetadata'];
  readonly hypervisorType: string;
  readonly hypervisorVersion: number;
  readonly supportedInstances: readonly SupportedInstance[];
  /** provider → class → capacity and usage, for the providers of the host's tree. */
  readonly usage: ReadonlyMap<string, ReadonlyMap<string, ClassUsage>>;
  /** The root provider's (the compute node's) VCPU, MEMORY_MB and DISK_GB records, for the weighers. */
  readonly root: { readonly vcpu?: ClassUsage; readonly ram?: ClassUsage; readonly disk?: ClassUsage };
  /** Placement's allocation candidates anchored on this host, in placement's order. */
  readonly candidates: readonly Candidate[];
  /** Each candidate with the usage records it draws on (to check fits without lookups). */
  readonly plans: readonly Plan[];
}

/** A candidate and, per provider and class it allocates, the usage record and the amount. */
export interface Plan {
  readonly candidate: Candidate;
  readonly parts: readonly (readonly [ClassUsage | undefined, number])[];
}

const planOf = (usage: ReadonlyMap<string, ReadonlyMap<string, ClassUsage>>, c: Candidate): Plan => ({
  candidate: c,
  parts: Object.entries(c.allocations).flatMap(([rp, res]) => Object.entries(res).map(([rc, amount]) => [usage.get(rp)?.get(rc), amount] as const)),
});

const planFits = (p: Plan): boolean => {
  for (const [u, amount] of p.parts) if (!u || u.used + amount > u.capacity) return false;
  return true;
};

/** The host's first candidate that fits its current usage (this scheduler's later claims included). */
export function firstFit(h: HostState): Candidate | undefined {
  for (const p of h.plans) if (planFits(p)) return p.candidate;
  return undefined;
}

/** Free amount of `rc` on the host's root provider (capacity − usage), or 0 when it has none. */
export function freeOf(h: HostState, rc: string): number {
  const u = rc === 'VCPU' ? h.root.vcpu : rc === 'MEMORY_MB' ? h.root.ram : rc === 'DISK_GB' ? h.root.disk : h.usage.get(h.uuid)?.get(rc);
  return u ? u.capacity - u.used : 0;
}

/** Counts a claim into the host's usage, so later decisions see it (`sign` -1: a released claim). */
export function consume(h: HostState, allocations: Readonly<Record<string, Readonly<Record<string, number>>>>, sign: 1 | -1 = 1): void {
  for (const [rp, res] of Object.entries(allocations)) {
    const m = h.usage.get(rp);
    for (const [rc, amount] of Object.entries(res)) {
      const u = m?.get(rc);
      if (u) u.used += sign * amount;
    }
  }
}

/** Host states of one request, and the compute nodes placement offered nothing on. */
export interface HostStates {
  readonly states: HostState[];
  /** Every compute node known (placement may have offered fewer). */
  readonly totalNodes: number;
  readonly notOffered: readonly { readonly host: string; readonly zone: string }[];
}

/**
 * Joins placement's offer with the compute snapshot (candidates on providers that are no compute
 * node are dropped). Host states only hold references to the shared usage records, so the result
 * stays valid while neither the snapshot nor the offer changes: it is reused then.
 */
export function buildHostStates(snap: ComputeSnapshot, offer: Offer, view: PlacementView): HostStates {
  const memo = built.get(snap);
  if (memo && memo.byRoot === offer.byRoot) return memo.states;
  const result = build(snap, offer, view);
  built.set(snap, { byRoot: offer.byRoot, states: result });
  return result;
}

const built = new WeakMap<ComputeSnapshot, { byRoot: Offer['byRoot']; states: HostStates }>();

function build(snap: ComputeSnapshot, offer: Offer, view: PlacementView): HostStates {
  const states: HostState[] = [];
  const notOffered: { host: string; zone: string }[] = [];
  for (const n of snap.nodes.values()) {
    const candidates = offer.byRoot.get(n.uuid);
    if (!candidates) { notOffered.push({ host: n.host, zone: n.zone }); continue; }
    const s = snap.services.get(n.host);
    const usage = view.usageOf(n.uuid);
    const own = usage.get(n.uuid);
    states.push({
      host: n.host, nodename: n.nodename, uuid: n.uuid, service: s?.row, up: s?.up ?? false, zone: n.zone,
      aggregates: n.aggregates, aggregateMetadata: n.aggregateMetadata, hypervisorType: n.hypervisorType, hypervisorVersion: n.hypervisorVersion,
      supportedInstances: n.supportedInstances, usage, root: { vcpu: own?.get('VCPU'), ram: own?.get('MEMORY_MB'), disk: own?.get('DISK_GB') }, candidates, plans: candidates.map((c) => planOf(usage, c)),
    });
  }
  return { states, totalNodes: snap.nodes.size, notOffered };
}
