/**
 * The scheduler (Nova's FilterScheduler on placement): for a request of N instances it
 *
 * 1. gets allocation candidates fitting one instance from placement (request.ts: flavor, extra
 *    specs, image traits, the zone's aggregates, a forced or requested node, a limit) — or its
 *    answer to the same query shape of less than a second ago, updated with this scheduler's
 *    own claims since (placement-view.ts);
 * 2. joins them with the compute nodes, services and aggregates (compute-view.ts: cached while a
 *    fingerprint query says they did not change; service states read on every request) into
 *    host states, in memory (host-state.ts);
 * 3. per instance, runs the filters (filters.ts; skipped for a forced host, as in Nova), weighs
 *    the survivors (weighers.ts) and claims the best host's candidate in placement for the
 *    instance's UUID. A claim placement refuses with 409 (another scheduler took the room
 *    first) moves on to the next host; that host is not offered to later instances of the
 *    request. Each claim is counted into the host state, so later instances of the request see
 *    it, and group policies see the hosts chosen so far;
 * 4. returns one Selection per instance with up to `scheduler_max_attempts - 1` alternates.
 *
 * A request that finds no host on a cached placement answer is run again on a fresh one, so
 * NoValidHost always reflects placement as it is.
 *
 * All or nothing: when an instance of a multi-create finds no host, the claims already made for
 * the request are removed and NoValidHost says why (which filter removed which hosts, or what
 * placement could not find).
 *
 * Schedule-and-claim retry semantics: a claim placement refuses (409) is retried on the next
 * host within the same call, as above. Reschedules: when the build then fails on the chosen host,
 * the caller (conductor) removes nothing itself and calls {@link Scheduler.claimAlternate} with
 * the instance's remaining alternates: it claims the first alternate placement still accepts —
 * the claim replaces the instance's allocations on the failed host in one step — and returns it
 * as the new Selection with the alternates after it. Alternates are not re-filtered (Nova's
 * conductor does not either). When none is left, it throws NoValidHost "Exceeded maximum number
 * of retries…", after which the caller removes the instance's allocations and puts it in ERROR.
 * A caller without alternates may instead call selectDestinations again with the failed hosts
 * in `ignoreHosts`.
 */
import { Fault } from '../../platform/http/faults.js';
import { silentLogger, type Logger } from '../../platform/log.js';
import type { Candidate, CandidateQuerySpec, Placement } from '../../placement/client.js';
import type { ComputeContext } from '../context.js';
import { NoValidHost, describeRemovals, type Removal } from './errors.js';
import { DEFAULT_FILTERS, type FilterContext, type HostFilter } from './filters.js';
import { ComputeView } from './compute-view.js';
import { buildHostStates, consume, firstFit, type HostState } from './host-state.js';
import { PlacementView, type Offer } from './placement-view.js';
import { MAX_PLACEMENT_RESULTS, describeResources, placementRequest, shortClass, sortClasses, type PlacementRequest } from './request.js';
import type { Destination, RequestSpec, Selection } from './types.js';
import { defaultMultipliers, weighHosts, type Ranking, type WeightMultipliers } from './weighers.js';

export interface SchedulerOptions {
  readonly placement: Placement;
  readonly compute: ComputeContext;
  /** spread or stack (default `compute.scheduler_weigher`). */
  readonly weigher?: 'spread' | 'stack';
  /** Hosts tried per instance: the chosen one + alternates (default `compute.scheduler_max_attempts`). */
  readonly maxAttempts?: number;
  /** Candidates asked of placement (Nova's max_placement_results, 1000). */
  readonly maxPlacementResults?: number;
  /** How long placement's answer to a query shape is reused (ms, default 1000; 0: ask every time). See placement-view.ts. */
  readonly placementCacheMs?: number;
  /** Longest reuse of compute nodes and aggregates when their fingerprint did not change (ms, default 10000). */
  readonly computeCacheMs?: number;
  readonly filters?: readonly HostFilter[];
  readonly multipliers?: Partial<WeightMultipliers>;
  readonly log?: Logger;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const is409 = (err: unknown): boolean => err instanceof Fault && err.status === 409;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One step hosts pass through: a filter, or a check of the scheduler's own. */
interface Step { readonly by: string; reject(h: HostState): string | undefined }

/** Runs the hosts through the steps in one pass: each host leaves at the first step rejecting it, which records why. */
function runSteps(hosts: readonly HostState[], steps: readonly Step[]): { kept: HostState[]; removals: Removal[] } {
  const kept: HostState[] = [];
  const counts = steps.map(() => 0);
  const reasons = steps.map(() => new Map<string, number>());
  outer: for (const h of hosts) {
    for (let k = 0; k < steps.length; k++) {
      const why = steps[k]!.reject(h);
      if (why === undefined) continue;
      counts[k]!++;
      reasons[k]!.set(why, (reasons[k]!.get(why) ?? 0) + 1);
      continue outer;
    }
    kept.push(h);
  }
  return { kept, removals: steps.map((st, k) => ({ by: st.by, count: counts[k]!, reasons: reasons[k]! })) };
}

/** Removes the hosts `reject` gives a reason for, recording why. */
function sieve(hosts: readonly HostState[], by: string, reject: (h: HostState) => string | undefined): { kept: HostState[]; removal: Removal } {
  const kept: HostState[] = [];
  const reasons = new Map<string, number>();
  let count = 0;
  for (const h of hosts) {
    const why = reject(h);
    if (why === undefined) { kept.push(h); continue; }
    count++;
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  return { kept, removal: { by, count, reasons } };
}

const destinationOf = (h: HostState, c: Candidate): Destination => ({
  host: h.host, nodename: h.nodename, computeNodeUuid: h.uuid, availabilityZone: h.zone, allocationRequest: c.allocations,
});

/** The outcome of one scheduling pass: selections, or why not and whether placement's answer was fresh. */
type Attempt = { readonly ok: true; readonly selections: Selection[] } | { readonly ok: false; readonly error: NoValidHost; readonly fresh: boolean };

export class Scheduler {
  readonly #placement: Placement;
  readonly #ctx: ComputeContext;
  readonly #log: Logger;
  readonly #filters: readonly HostFilter[];
  readonly #multipliers: WeightMultipliers;
  readonly #maxAttempts: number;
  readonly #limit: number;
  readonly #view: PlacementView;
  readonly #compute: ComputeView;
  #computeVersion = -1;

  constructor(o: SchedulerOptions) {
    this.#placement = o.placement;
    this.#ctx = o.compute;
    this.#log = o.log ?? o.compute.log ?? silentLogger();
    this.#filters = o.filters ?? DEFAULT_FILTERS;
    const mode = o.weigher ?? (o.compute.config.compute.scheduler_weigher === 'stack' ? 'stack' : 'spread');
    this.#multipliers = { ...defaultMultipliers(mode), ...o.multipliers };
    this.#maxAttempts = Math.max(1, Math.trunc(o.maxAttempts ?? o.compute.config.compute.scheduler_max_attempts));
    this.#limit = o.maxPlacementResults ?? MAX_PLACEMENT_RESULTS;
    this.#view = new PlacementView(o.placement, { maxAgeMs: o.placementCacheMs });
    this.#compute = new ComputeView(o.compute, { maxAgeMs: o.computeCacheMs });
  }

  /** Forgets cached placement answers and compute hosts (the next request reads everything afresh). */
  invalidate(): void {
    this.#view.invalidate();
    this.#compute.invalidate();
  }

  /**
   * Chooses a host for each of `count` instances (`spec.instanceUuids`) and claims its resources
   * in placement; all or nothing. Throws NoValidHost saying why when an instance fits nowhere.
   */
  async selectDestinations(spec: RequestSpec, count = spec.instanceUuids.length): Promise<Selection[]> {
    checkSpec(spec, count);
    let result = await this.#attempt(spec, count, false);
    if (!result.ok && !result.fresh) {
      // Found nothing on a cached view: room may have been freed since; ask placement again.
      this.#view.invalidate();
      result = await this.#attempt(spec, count, true);
    }
    if (result.ok) return result.selections;
    this.#log.info({ requestId: spec.requestId, instances: spec.instanceUuids, reason: result.error.message }, 'no valid host');
    throw result.error;
  }

  async #attempt(spec: RequestSpec, count: number, forceFresh: boolean): Promise<Attempt> {
    const now = Date.now();
    const db = this.#ctx.db;
    const fail = (error: NoValidHost, fresh = true): Attempt => ({ ok: false, error, fresh });

    // A forced host/node (filters skipped) or a requested destination (filters run): in_tree when one node.
    const forced = !!(spec.forceHost || spec.forceNode);
    const wantHost = spec.forceHost || spec.requestedDestination?.host || undefined;
    const wantNode = spec.forceNode || spec.requestedDestination?.node || undefined;
    const where = [wantHost && `host ${wantHost}`, wantNode && `node ${wantNode}`].filter(Boolean).join(' ');
    let inTree: string | undefined;
    if (wantHost || wantNode) {
      let q = db.selectFrom('compute_node').select(['uuid']);
      if (wantHost) q = q.where('host', '=', wantHost);
      if (wantNode) q = q.where('hypervisor_hostname', '=', wantNode);
      const nodes = await q.execute();
      if (!nodes.length) return fail(new NoValidHost(`${forced ? 'The forced' : 'The requested'} ${where} has no compute node.`));
      if (nodes.length === 1) inTree = nodes[0]!.uuid;
    }
    // Nova's map_az_to_placement_aggregate: a zone made of aggregates limits placement to them.
    let zoneAggregates: string[] | undefined;
    if (spec.availabilityZone && !forced) {
      zoneAggregates = (await db.selectFrom('compute_aggregate').innerJoin('compute_aggregate_metadata', 'compute_aggregate_metadata.aggregate_id', 'compute_aggregate.id')
        .select('compute_aggregate.uuid as uuid').where('compute_aggregate_metadata.meta_key', '=', 'availability_zone')
        .where('compute_aggregate_metadata.meta_value', '=', spec.availabilityZone).execute()).map((r) => r.uuid).sort();
    }
    const preq = placementRequest(spec, { zoneAggregates, inTree, limit: wantHost || wantNode ? undefined : this.#limit });

    // Hosts added, resized or regrouped since the cached placement answers: ask placement again.
    const snap = await this.#compute.snapshot(now);
    if (snap.version !== this.#computeVersion) {
      this.#view.invalidate();
      this.#computeVersion = snap.version;
    }
    let offer: Offer;
    try {
      offer = await this.#view.offer(preq.query, { fresh: forceFresh || !!(wantHost || wantNode), now });
    } catch (err) {
      // Placement refuses queries naming unknown traits or classes: nothing can fit them.
      if (err instanceof Fault && err.status === 400) return fail(new NoValidHost(`Placement refused the request: ${err.message}`));
      throw err;
    }
    if (!offer.count) {
      if (!offer.fresh) return fail(new NoValidHost('no candidates in the cached view'), false);
      return fail(await this.#nothingInPlacement(preq, forced ? `the forced ${where}` : wantHost || wantNode ? `the requested ${where}` : undefined));
    }

    const loaded = buildHostStates(snap, offer, this.#view);
    let hosts = loaded.states;
    const base: Removal[] = [];
    let total = hosts.length;
    if (!inTree && !wantHost && !wantNode) {
      total = loaded.totalNodes;
      if (loaded.notOffered.length) {
        const why = [`no room for ${describeResources(preq.resources)}`];
        if (preq.required.length) why.push(`without ${preq.required.join(', ')}`);
        if (preq.forbidden.length) why.push(`with ${preq.forbidden.join(', ')}`);
        if (offer.count >= this.#limit) why.push(`beyond placement's limit of ${this.#limit} candidates`);
        // Hosts outside the requested zone, which placement's member_of left out, count under the
        // AvailabilityZoneFilter (whose work that prefilter does): that is the reason a user needs.
        const byZone = new Map<string, number>();
        const byRoom = new Map<string, number>();
        for (const n of loaded.notOffered) {
          const outside = preq.zone && !n.zone.split(',').includes(preq.zone);
          const [m, r] = outside ? [byZone, `not in zone ${preq.zone}`] : [byRoom, why.join(' or ')];
          m.set(r, (m.get(r) ?? 0) + 1);
        }
        const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
        if (byZone.size) base.push({ by: 'AvailabilityZoneFilter', count: sum(byZone), reasons: byZone });
        if (byRoom.size) base.push({ by: 'placement', count: sum(byRoom), reasons: byRoom });
      }
    }
    if (wantHost || wantNode) hosts = hosts.filter((h) => (!wantHost || h.host === wantHost) && (!wantNode || h.nodename === wantNode));
    if (spec.ignoreHosts?.length) {
      const ignored = new Set(spec.ignoreHosts);
      const r = sieve(hosts, 'IgnoreHosts', (h) => (ignored.has(h.host) ? 'tried before or the source host' : undefined));
      hosts = r.kept;
      base.push(r.removal);
    }

    const claimed: { instanceUuid: string; host: HostState; candidate: Candidate; generation: number; weight: number }[] = [];
    const placedHosts: string[] = [];
    const refused = new Set<HostState>();
    let lastOrder: Ranking | undefined;
    const release = async () => {
      await this.#release(claimed.map((c) => c.instanceUuid));
      for (const c of claimed) consume(c.host, c.candidate.allocations, -1);
    };
    const undo = async (error: NoValidHost): Promise<Attempt> => {
      await release();
      return fail(error, offer.fresh);
    };
    try {
      for (let i = 0; i < count; i++) {
        const instanceUuid = spec.instanceUuids[i]!;
        const fctx: FilterContext = { spec, placedHosts, now };
        // The steps run in order; a host leaves at the first that rejects it (as with filters run one after the other).
        const steps: Step[] = [];
        if (refused.size) steps.push({ by: 'claim', reject: (h) => (refused.has(h) ? 'placement refused a claim (taken concurrently)' : undefined) });
        const fullReason = i > 0 ? 'full after the earlier instances of this request' : 'full since placement was asked';
        steps.push({ by: 'placement', reject: (h) => (firstFit(h) ? undefined : fullReason) });
        if (!forced) for (const f of this.#filters) if (f.applies(fctx)) steps.push({ by: f.name, reject: (h) => f.reject(h, fctx) });
        const { kept: current, removals: stepRemovals } = runSteps(hosts, steps);
        const removals: Removal[] = [...base, ...stepRemovals];
        if (!current.length) {
          const prefix = i > 0 ? `There are not enough hosts available: ${i} of ${count} instances placed, none left for the next. ` : '';
          return await undo(new NoValidHost(`${prefix}${describeRemovals(total, removals)}`, removals));
        }
        const order = weighHosts(current, this.#multipliers, fctx);
        lastOrder = order;
        let done = false;
        let tried = 0;
        for (const { host, weight } of order) {
          const candidate = firstFit(host);
          if (!candidate) continue;
          tried++;
          try {
            const generation = await this.#placement.claim(instanceUuid, candidate.allocations, { projectId: spec.projectId, userId: spec.userId, consumerType: 'INSTANCE' });
            consume(host, candidate.allocations);
            placedHosts.push(host.host);
            claimed.push({ instanceUuid, host, candidate, generation, weight });
            done = true;
            break;
          } catch (err) {
            if (!is409(err)) throw err;
            refused.add(host);
            this.#view.invalidate();
            this.#log.info({ instance: instanceUuid, host: host.host, err: (err as Error).message, requestId: spec.requestId }, 'placement refused the claim: trying the next host');
          }
        }
        if (!done) {
          const prefix = i > 0 ? `There are not enough hosts available: ${i} of ${count} instances placed. ` : '';
          const which = tried === 1 ? 'the one host' : `all ${tried} hosts`;
          return await undo(new NoValidHost(`${prefix}Placement refused the claim on ${which} that passed the filters: their resources were taken concurrently.`, removals));
        }
      }
    } catch (err) {
      await release();
      throw err;
    }

    const chosen = new Set(claimed.map((c) => c.host.host));
    const selections = claimed.map((c) => {
      const alternates: Destination[] = [];
      for (const { host } of lastOrder ?? []) {
        if (alternates.length >= this.#maxAttempts - 1) break;
        if (chosen.has(host.host)) continue;
        const cand = firstFit(host);
        if (cand) alternates.push(destinationOf(host, cand));
      }
      return { ...destinationOf(c.host, c.candidate), instanceUuid: c.instanceUuid, consumerGeneration: c.generation, weight: c.weight, alternates };
    });
    this.#log.debug({ requestId: spec.requestId, hosts: selections.map((s) => s.host), offered: loaded.states.length, fresh: offer.fresh }, 'instances scheduled');
    return { ok: true, selections };
  }

  /**
   * A reschedule: claims the first of `alternates` placement still accepts for `instanceUuid`
   * (replacing the instance's allocations elsewhere) and returns it with the alternates after
   * it. NoValidHost when none is left or none fits any more.
   */
  async claimAlternate(spec: Pick<RequestSpec, 'projectId' | 'userId'>, instanceUuid: string, alternates: readonly Destination[]): Promise<Selection> {
    if (!UUID_RE.test(instanceUuid)) throw new TypeError(`instanceUuid must be a UUID: ${JSON.stringify(instanceUuid)}`);
    const refusedBy: string[] = [];
    for (let i = 0; i < alternates.length; i++) {
      const alt = alternates[i]!;
      try {
        const generation = await this.#placement.claim(instanceUuid, alt.allocationRequest, { projectId: spec.projectId, userId: spec.userId, consumerType: 'INSTANCE' });
        return { ...alt, instanceUuid, consumerGeneration: generation, weight: 0, alternates: alternates.slice(i + 1) };
      } catch (err) {
        if (!is409(err)) throw err;
        refusedBy.push(alt.host);
      }
    }
    const tail = refusedBy.length ? ` Placement refused the claim on the remaining alternates (${refusedBy.join(', ')}).` : '';
    throw new NoValidHost(`Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${instanceUuid}.${tail}`);
  }

  /** Removes the allocations of instances claimed by a request that failed (best effort). */
  async #release(instanceUuids: readonly string[]): Promise<void> {
    for (const id of instanceUuids) {
      try {
        await this.#placement.removeAllocations(id);
      } catch (err) {
        this.#log.error({ err, instance: id }, 'allocations of a failed request not removed');
      }
    }
  }

  /** Hosts placement offers for `q` (distinct roots), up to the limit. */
  async #countHosts(q: CandidateQuerySpec): Promise<number> {
    const r = await this.#placement.allocationCandidates({ ...q, limit: this.#limit, withTraits: false });
    return new Set(r.candidates.map((c) => Object.keys(c.allocations).map((rp) => r.providers[rp]?.rootUuid ?? rp)[0])).size;
  }

  /**
   * NoValidHost when placement offered nothing: how many hosts exist, and which requirement no
   * host meets (room for each class, or the zone and traits when there is room elsewhere).
   */
  async #nothingInPlacement(preq: PlacementRequest, target: string | undefined): Promise<NoValidHost> {
    const what = describeResources(preq.resources);
    const conditions: string[] = [];
    if (preq.zone) conditions.push(`in zone ${preq.zone}`);
    if (preq.required.length) conditions.push(`with ${preq.required.join(', ')}`);
    if (preq.forbidden.length) conditions.push(`without ${preq.forbidden.join(', ')}`);
    const cond = conditions.length ? ` ${conditions.join(' ')}` : '';
    if (target) return new NoValidHost(`Placement found no room for ${what}${cond} on ${target}.`);
    const total = Number((await this.#ctx.db.selectFrom('compute_node').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    let text = `Placement found no host with ${what} free${cond} among ${plural(total, 'host')}`;
    if (total > 0 && Object.keys(preq.resources).length) {
      try {
        const roomOnly = await this.#countHosts({ resources: preq.resources });
        if (roomOnly > 0 && (conditions.length || preq.query.groups)) {
          text += `: ${plural(roomOnly, 'host')} ${roomOnly === 1 ? 'has' : 'have'} room, but none${cond || ' for the granular resource groups'}`;
        } else if (roomOnly === 0) {
          const counts: string[] = [];
          for (const rc of sortClasses(Object.keys(preq.resources))) counts.push(`${shortClass(rc)} ${await this.#countHosts({ resources: { [rc]: preq.resources[rc]! } })}`);
          text += ` (hosts with enough free: ${counts.join(', ')})`;
        }
      } catch (err) {
        this.#log.debug({ err }, 'no diagnosis of an empty placement answer');
      }
    }
    return new NoValidHost(`${text}.`);
  }
}

function checkSpec(spec: RequestSpec, count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new TypeError(`count must be a positive integer: ${count}`);
  if (spec.instanceUuids.length !== count) throw new TypeError(`count ${count} but ${spec.instanceUuids.length} instance UUIDs`);
  if (new Set(spec.instanceUuids).size !== count) throw new TypeError('instance UUIDs must be distinct');
  for (const u of spec.instanceUuids) if (!UUID_RE.test(u)) throw new TypeError(`instance UUID expected: ${JSON.stringify(u)}`);
  if (!spec.projectId || !spec.userId) throw new TypeError('projectId and userId are required');
}
