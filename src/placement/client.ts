/**
 * The placement API as typed calls, for the scheduler and the compute agents: in the same
 * process (`InProcessPlacement`, no HTTP, no JSON) or remotely (`HttpPlacement`, microversion
 * 1.39 over HTTP). Both implement `Placement`, and both fail with platform `Fault`s whose
 * `status` and `kind` (placement's error code, e.g. `placement.concurrent_update`) say why.
 */
import { Fault } from '../platform/http/faults.js';
import type { PlacementContext } from './context.js';
import { badRequest, codes } from './faults.js';
import { consumerAllocations, deleteAllocations, writeAllocations } from './allocations.js';
import { setProviderAggregates } from './aggregates.js';
import { findCandidates } from './candidates/search.js';
import { newGroup, type CandidateQuery, type RequestGroup } from './candidates/request.js';
import { setInventories, type Inventory } from './inventories.js';
import { createProvider, deleteProvider, getProvider, MAX_INT, toProvider, updateProvider } from './providers.js';
import { ensureResourceClass } from './resource-classes.js';
import { isUuidLike, normalizeUuid } from './schema.js';
import { ensureTrait, providerTraits, setProviderTraits } from './traits.js';
import { providerUsages } from './usages.js';
import { transact } from './tx.js';

/** A provider as the typed API returns it. */
export interface ProviderInfo {
  readonly uuid: string;
  readonly name: string;
  readonly generation: number;
  readonly parentUuid: string | null;
  readonly rootUuid: string;
}

/** One inventory record; omitted fields take placement's defaults. */
export interface InventorySpec {
  readonly total: number;
  readonly reserved?: number;
  readonly min_unit?: number;
  readonly max_unit?: number;
  readonly step_size?: number;
  readonly allocation_ratio?: number;
}

/** Resource class → amount. */
export type ResourceAmounts = Readonly<Record<string, number>>;

/** A request group: what one provider (granular groups) or one tree (the main group) must offer. */
export interface CandidateGroupSpec {
  readonly resources: ResourceAmounts;
  /** Traits every one of which must be present. */
  readonly required?: readonly string[];
  /** Traits none of which may be present. */
  readonly forbidden?: readonly string[];
  /** Sets of traits of which at least one (per set) must be present. */
  readonly anyOf?: readonly (readonly string[])[];
  /** Sets of aggregates of which the provider (or its root) must be in one (per set). */
  readonly memberOf?: readonly (readonly string[])[];
  readonly forbiddenAggregates?: readonly string[];
  /** Only the tree of this provider. */
  readonly inTree?: string;
}

/** An allocation candidates query: the main (unsuffixed) group plus optional granular groups. */
export interface CandidateQuerySpec extends Partial<CandidateGroupSpec> {
  /** Granular groups by suffix (e.g. `_NET1`, `1`). */
  readonly groups?: Readonly<Record<string, CandidateGroupSpec>>;
  readonly limit?: number;
  readonly groupPolicy?: 'none' | 'isolate';
  readonly rootRequired?: readonly string[];
  readonly rootForbidden?: readonly string[];
  readonly sameSubtree?: readonly (readonly string[])[];
  /** Whether provider summaries list traits (default true; false saves work on large clouds). */
  readonly withTraits?: boolean;
}

/** One way to satisfy the query: provider → class → amount, ready to `claim`. */
export interface Candidate {
  readonly allocations: Record<string, Record<string, number>>;
  /** Which providers satisfied which group ('' is the main group). */
  readonly mappings: Record<string, string[]>;
}

export interface ProviderSummaryInfo {
  readonly resources: Record<string, { capacity: number; used: number }>;
  readonly traits: string[];
  readonly parentUuid: string | null;
  readonly rootUuid: string;
}

export interface Candidates {
  readonly candidates: Candidate[];
  readonly providers: Record<string, ProviderSummaryInfo>;
}

export interface ClaimOptions {
  readonly projectId: string;
  readonly userId: string;
  /** The consumer generation the caller read (null: no allocations yet); undefined skips the check. */
  readonly consumerGeneration?: number | null;
  readonly consumerType?: string;
}

export interface ConsumerAllocationsInfo {
  readonly allocations: Record<string, Record<string, number>>;
  /** Absent when the consumer has no allocations. */
  readonly consumerGeneration?: number;
  readonly projectId?: string;
  readonly userId?: string;
  readonly consumerType?: string;
}

/** What the scheduler and compute agents need from placement. */
export interface Placement {
  /** Creates the provider, or renames it if it exists under another name; never re-parents. */
  ensureProvider(p: { readonly uuid: string; readonly name: string; readonly parentUuid?: string | null }): Promise<ProviderInfo>;
  getProvider(uuid: string): Promise<ProviderInfo | undefined>;
  deleteProvider(uuid: string): Promise<void>;
  /** Replaces the provider's inventory; returns its new generation. */
  setInventory(uuid: string, inventories: Readonly<Record<string, InventorySpec>>, opts?: { readonly generation?: number }): Promise<number>;
  /** The provider's traits and the generation they belong to. */
  getTraits(uuid: string): Promise<{ readonly traits: string[]; readonly generation: number }>;
  /** Replaces the provider's traits (CUSTOM_* ones are created as needed); returns its new generation. */
  setTraits(uuid: string, traits: readonly string[], opts?: { readonly generation?: number }): Promise<number>;
  setAggregates(uuid: string, aggregates: readonly string[]): Promise<number>;
  ensureResourceClass(name: string): Promise<void>;
  allocationCandidates(q: CandidateQuerySpec): Promise<Candidates>;
  /**
   * Replaces the consumer's allocations with `allocations` if every provider still has room
   * (atomic, race-free); returns the consumer's new generation. 409 when it no longer fits.
   */
  claim(consumer: string, allocations: Readonly<Record<string, ResourceAmounts>>, opts: ClaimOptions): Promise<number>;
  getAllocations(consumer: string): Promise<ConsumerAllocationsInfo>;
  /** Removes the consumer's allocations; false when it had none. */
  removeAllocations(consumer: string): Promise<boolean>;
  providerUsages(uuid: string): Promise<Record<string, number>>;
}

const info = (p: { uuid: string; name: string; generation: number; parent_provider_uuid: string | null; root_provider_uuid: string }): ProviderInfo => ({
  uuid: p.uuid, name: p.name, generation: p.generation, parentUuid: p.parent_provider_uuid, rootUuid: p.root_provider_uuid,
});

function uuidArg(v: string, what: string): string {
  if (!isUuidLike(v)) throw badRequest(`${what} ${JSON.stringify(v)} is not a uuid`);
  return normalizeUuid(v);
}

function amountsArg(r: ResourceAmounts, allowEmpty = false): Map<string, number> {
  const out = new Map<string, number>();
  for (const [rc, a] of Object.entries(r)) {
    if (!/^[A-Z0-9_]+$/.test(rc)) throw badRequest(`Invalid resource class ${JSON.stringify(rc)}`);
    if (!Number.isInteger(a) || a < 1) throw badRequest(`Requested resource ${rc} requires an integer amount >= 1. Got: ${a}.`);
    out.set(rc, a);
  }
  if (!out.size && !allowEmpty) throw badRequest('At least one resource class must be requested.');
  return out;
}

function inventoryArg(rc: string, s: InventorySpec): Inventory {
  const inv: Inventory = {
    total: s.total, reserved: s.reserved ?? 0, min_unit: s.min_unit ?? 1, max_unit: s.max_unit ?? MAX_INT, step_size: s.step_size ?? 1, allocation_ratio: s.allocation_ratio ?? 1.0,
  };
  const ints = [inv.total, inv.reserved, inv.min_unit, inv.max_unit, inv.step_size];
  if (!ints.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_INT) || inv.total < 1 || inv.min_unit < 1 || inv.max_unit < 1 || inv.step_size < 1
    || !(Number.isFinite(inv.allocation_ratio) && inv.allocation_ratio <= 3.40282e+38)) {
    throw badRequest(`Bad inventory ${rc}: ${JSON.stringify(s)}`);
  }
  return inv;
}

/** The query model of a typed query (validated as the HTTP layer would). */
export function toCandidateQuery(q: CandidateQuerySpec): CandidateQuery {
  const groups = new Map<string, RequestGroup>();
  const add = (suffix: string, s: Partial<CandidateGroupSpec>) => {
    const g = newGroup(suffix);
    g.resources = amountsArg(s.resources ?? {}, true);
    g.requiredTraits = [...(s.required ?? []).map((t) => new Set([t])), ...(s.anyOf ?? []).map((a) => new Set(a))];
    g.forbiddenTraits = new Set(s.forbidden ?? []);
    g.memberOf = (s.memberOf ?? []).map((a) => new Set(a.map((u) => uuidArg(u, 'aggregate'))));
    g.forbiddenAggs = new Set((s.forbiddenAggregates ?? []).map((u) => uuidArg(u, 'aggregate')));
    if (s.inTree !== undefined) g.inTree = uuidArg(s.inTree, 'provider');
    groups.set(suffix, g);
  };
  if (q.resources && Object.keys(q.resources).length) add('', q);
  for (const [suffix, s] of Object.entries(q.groups ?? {})) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(suffix)) throw badRequest(`Invalid request group suffix ${JSON.stringify(suffix)}`);
    add(suffix, s);
  }
  if (![...groups.values()].some((g) => g.resources.size)) throw badRequest('There must be at least one resources or resources[$S] parameter.', codes.QUERYPARAM_MISSING_VALUE);
  for (const g of groups.values()) {
    if (!g.resources.size && !(q.sameSubtree ?? []).some((s) => s.includes(g.suffix))) throw badRequest(`Resourceless group ${g.suffix} must be in sameSubtree`, codes.QUERYPARAM_BAD_VALUE);
  }
  if (!q.groupPolicy && [...groups.values()].filter((g) => g.useSameProvider).length > 1) {
    throw badRequest('The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.');
  }
  if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 1)) throw badRequest(`Invalid limit ${q.limit}`);
  return {
    groups, limit: q.limit, groupPolicy: q.groupPolicy,
    rootRequired: q.rootRequired ? new Set(q.rootRequired) : undefined, rootForbidden: q.rootForbidden ? new Set(q.rootForbidden) : undefined,
    sameSubtrees: (q.sameSubtree ?? []).map((s) => new Set(s)),
  };
}

/** Placement in this process: direct calls on its database, no HTTP. */
export class InProcessPlacement implements Placement {
  constructor(private readonly ctx: PlacementContext) {}

  async ensureProvider(p: { uuid: string; name: string; parentUuid?: string | null }): Promise<ProviderInfo> {
    const uuid = uuidArg(p.uuid, 'provider');
    const parent = p.parentUuid ? uuidArg(p.parentUuid, 'parent provider') : null;
    for (let attempt = 0; ; attempt++) {
      const existing = await getProvider(this.ctx.db, uuid);
      if (existing) {
        if (existing.name === p.name && (existing.parent_uuid !== null || parent === null)) return info(toProvider(existing));
        const parentChange = existing.parent_uuid === null && parent !== null ? parent : undefined;
        return info(await updateProvider(this.ctx, existing, { name: p.name, parentUuid: parentChange }, false));
      }
      try {
        return info(await createProvider(this.ctx, { uuid, name: p.name, parentUuid: parent }));
      } catch (err) {
        // Another creator won the race: use what it made.
        if (attempt < 2 && err instanceof Fault && err.kind === codes.DUPLICATE_NAME && await getProvider(this.ctx.db, uuid)) continue;
        throw err;
      }
    }
  }

  async getProvider(uuid: string): Promise<ProviderInfo | undefined> {
    const p = await getProvider(this.ctx.db, uuid);
    return p ? info(toProvider(p)) : undefined;
  }

  async deleteProvider(uuid: string): Promise<void> { await deleteProvider(this.ctx, uuid); }

  async setInventory(uuid: string, inventories: Readonly<Record<string, InventorySpec>>, opts: { generation?: number } = {}): Promise<number> {
    const invs = new Map(Object.entries(inventories).map(([rc, s]) => [rc, inventoryArg(rc, s)]));
    return setInventories(this.ctx, uuid, invs, { generation: opts.generation, minor: 39 });
  }

  async getTraits(uuid: string): Promise<{ traits: string[]; generation: number }> {
    return transact(this.ctx, async (tx) => {
      const p = await getProvider(tx, uuid);
      if (!p) throw new Fault(404, `No resource provider with uuid ${uuid} found`, {}, codes.DEFAULT);
      return { traits: await providerTraits(tx, uuid), generation: Number(p.generation) };
    });
  }

  async setTraits(uuid: string, traits: readonly string[], opts: { generation?: number } = {}): Promise<number> {
    for (const t of traits) if (/^CUSTOM_[A-Z0-9_]+$/.test(t) && t.length <= 255) await ensureTrait(this.ctx, t);
    return setProviderTraits(this.ctx, uuid, traits, opts.generation);
  }

  async setAggregates(uuid: string, aggregates: readonly string[]): Promise<number> {
    return setProviderAggregates(this.ctx, uuid, aggregates.map((a) => uuidArg(a, 'aggregate')));
  }

  async ensureResourceClass(name: string): Promise<void> {
    if (!/^CUSTOM_[A-Z0-9_]+$/.test(name) || name.length > 255) {
      if ((await this.ctx.db.selectFrom('placement_resource_class').select('name').where('name', '=', name).executeTakeFirst())) return;
      throw badRequest(`Invalid custom resource class ${JSON.stringify(name)}`);
    }
    await ensureResourceClass(this.ctx, name);
  }

  async allocationCandidates(q: CandidateQuerySpec): Promise<Candidates> {
    const res = await findCandidates(this.ctx.db, toCandidateQuery(q), { nestedAware: true, allResourcesInSummary: true, traitsInSummary: q.withTraits !== false });
    return {
      candidates: res.requests.map((r) => ({
        allocations: Object.fromEntries([...r.allocations].map(([rp, m]) => [rp, Object.fromEntries(m)])),
        mappings: Object.fromEntries([...r.mappings].map(([s, ps]) => [s, [...ps].sort()])),
      })),
      providers: Object.fromEntries(res.summaries.map((s) => [s.uuid, {
        resources: Object.fromEntries(s.resources), traits: s.traits, parentUuid: s.parentUuid, rootUuid: s.rootUuid,
      }])),
    };
  }

  async claim(consumer: string, allocations: Readonly<Record<string, ResourceAmounts>>, opts: ClaimOptions): Promise<number> {
    const id = uuidArg(consumer, 'consumer');
    const map = new Map(Object.entries(allocations).map(([rp, r]) => [uuidArg(rp, 'provider'), amountsArg(r)]));
    if (!map.size) throw badRequest('A claim needs at least one provider (use removeAllocations to release).');
    if (!opts.projectId || !opts.userId) throw badRequest('A claim needs projectId and userId.');
    const gens = await writeAllocations(this.ctx, [{
      consumer: id, allocations: map, projectId: opts.projectId, userId: opts.userId,
      consumerGeneration: opts.consumerGeneration, consumerType: opts.consumerType,
    }], { checkGeneration: opts.consumerGeneration !== undefined });
    return gens.get(id) ?? 0;
  }

  async getAllocations(consumer: string): Promise<ConsumerAllocationsInfo> {
    const r = await consumerAllocations(this.ctx.db, consumer);
    return {
      allocations: Object.fromEntries([...r.allocations].map(([rp, a]) => [rp, a.resources])),
      consumerGeneration: r.consumer ? Number(r.consumer.generation) : undefined,
      projectId: r.consumer?.project_id, userId: r.consumer?.user_id, consumerType: r.consumer ? r.consumer.consumer_type ?? 'unknown' : undefined,
    };
  }

  removeAllocations(consumer: string): Promise<boolean> { return deleteAllocations(this.ctx, consumer); }

  providerUsages(uuid: string): Promise<Record<string, number>> { return providerUsages(this.ctx.db, uuid); }
}

/** How HttpPlacement reaches placement. */
export interface HttpPlacementOptions {
  /** The catalog's placement URL (http://host:8778). */
  readonly url: string;
  /** A valid token with the admin or service role (e.g. a ServiceTokenSource's). */
  readonly token: () => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** Placement over HTTP at microversion 1.39, for agents in other processes. */
export class HttpPlacement implements Placement {
  readonly #base: string;
  readonly #fetch: typeof fetch;

  constructor(private readonly opts: HttpPlacementOptions) {
    this.#base = opts.url.replace(/\/+$/, '');
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  async #call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = { 'x-auth-token': await this.opts.token(), 'openstack-api-version': 'placement 1.39', accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.#fetch(`${this.#base}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30000),
    });
    const text = await res.text();
    let json: any;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    if (res.status >= 400) {
      const e = json?.errors?.[0];
      throw new Fault(res.status, String(e?.detail ?? json?.error?.message ?? text ?? res.statusText), {}, e?.code);
    }
    return { status: res.status, json };
  }

  async ensureProvider(p: { uuid: string; name: string; parentUuid?: string | null }): Promise<ProviderInfo> {
    const existing = await this.getProvider(p.uuid);
    if (existing) {
      if (existing.name === p.name && (existing.parentUuid !== null || !p.parentUuid)) return existing;
      const body: Record<string, unknown> = { name: p.name };
      if (existing.parentUuid === null && p.parentUuid) body.parent_provider_uuid = p.parentUuid;
      return info((await this.#call('PUT', `/resource_providers/${encodeURIComponent(p.uuid)}`, body)).json);
    }
    try {
      return info((await this.#call('POST', '/resource_providers', { uuid: p.uuid, name: p.name, parent_provider_uuid: p.parentUuid ?? null })).json);
    } catch (err) {
      const raced = err instanceof Fault && err.status === 409 ? await this.getProvider(p.uuid) : undefined;
      if (raced) return raced;
      throw err;
    }
  }

  async getProvider(uuid: string): Promise<ProviderInfo | undefined> {
    try {
      return info((await this.#call('GET', `/resource_providers/${encodeURIComponent(uuid)}`)).json);
    } catch (err) {
      if (err instanceof Fault && err.status === 404) return undefined;
      throw err;
    }
  }

  async deleteProvider(uuid: string): Promise<void> { await this.#call('DELETE', `/resource_providers/${encodeURIComponent(uuid)}`); }

  async #withGeneration(uuid: string, given: number | undefined, write: (generation: number) => Promise<number>): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const generation = given ?? (await this.getProvider(uuid))?.generation;
      if (generation === undefined) throw new Fault(404, `No resource provider with uuid ${uuid} found`, {}, codes.DEFAULT);
      try {
        return await write(generation);
      } catch (err) {
        if (given === undefined && attempt < 4 && err instanceof Fault && err.kind === codes.CONCURRENT_UPDATE) continue;
        throw err;
      }
    }
  }

  setInventory(uuid: string, inventories: Readonly<Record<string, InventorySpec>>, opts: { generation?: number } = {}): Promise<number> {
    return this.#withGeneration(uuid, opts.generation, async (generation) =>
      Number((await this.#call('PUT', `/resource_providers/${encodeURIComponent(uuid)}/inventories`, { resource_provider_generation: generation, inventories })).json.resource_provider_generation));
  }

  async getTraits(uuid: string): Promise<{ traits: string[]; generation: number }> {
    const r = (await this.#call('GET', `/resource_providers/${encodeURIComponent(uuid)}/traits`)).json;
    return { traits: r.traits, generation: Number(r.resource_provider_generation) };
  }

  async setTraits(uuid: string, traits: readonly string[], opts: { generation?: number } = {}): Promise<number> {
    for (const t of traits) if (t.startsWith('CUSTOM_')) await this.#call('PUT', `/traits/${encodeURIComponent(t)}`);
    return this.#withGeneration(uuid, opts.generation, async (generation) =>
      Number((await this.#call('PUT', `/resource_providers/${encodeURIComponent(uuid)}/traits`, { resource_provider_generation: generation, traits })).json.resource_provider_generation));
  }

  setAggregates(uuid: string, aggregates: readonly string[]): Promise<number> {
    return this.#withGeneration(uuid, undefined, async (generation) =>
      Number((await this.#call('PUT', `/resource_providers/${encodeURIComponent(uuid)}/aggregates`, { resource_provider_generation: generation, aggregates })).json.resource_provider_generation));
  }

  async ensureResourceClass(name: string): Promise<void> { await this.#call('PUT', `/resource_classes/${encodeURIComponent(name)}`); }

  async allocationCandidates(q: CandidateQuerySpec): Promise<Candidates> {
    const params = new URLSearchParams();
    const group = (suffix: string, g: Partial<CandidateGroupSpec>) => {
      if (g.resources && Object.keys(g.resources).length) params.append(`resources${suffix}`, Object.entries(g.resources).map(([rc, a]) => `${rc}:${a}`).join(','));
      const traits = [...(g.required ?? []), ...(g.forbidden ?? []).map((t) => `!${t}`)];
      if (traits.length) params.append(`required${suffix}`, traits.join(','));
      for (const any of g.anyOf ?? []) params.append(`required${suffix}`, `in:${any.join(',')}`);
      for (const m of g.memberOf ?? []) params.append(`member_of${suffix}`, m.length === 1 ? m[0]! : `in:${m.join(',')}`);
      if (g.forbiddenAggregates?.length) params.append(`member_of${suffix}`, `!in:${g.forbiddenAggregates.join(',')}`);
      if (g.inTree) params.append(`in_tree${suffix}`, g.inTree);
    };
    group('', q);
    for (const [suffix, g] of Object.entries(q.groups ?? {})) group(suffix, g);
    if (q.limit !== undefined) params.append('limit', String(q.limit));
    if (q.groupPolicy) params.append('group_policy', q.groupPolicy);
    const root = [...(q.rootRequired ?? []), ...(q.rootForbidden ?? []).map((t) => `!${t}`)];
    if (root.length) params.append('root_required', root.join(','));
    for (const s of q.sameSubtree ?? []) params.append('same_subtree', s.join(','));
    const { json } = await this.#call('GET', `/allocation_candidates?${params}`);
    return {
      candidates: (json.allocation_requests as any[]).map((r) => ({
        allocations: Object.fromEntries(Object.entries(r.allocations as Record<string, { resources: Record<string, number> }>).map(([rp, a]) => [rp, a.resources])),
        mappings: r.mappings ?? {},
      })),
      providers: Object.fromEntries(Object.entries(json.provider_summaries as Record<string, any>).map(([uuid, s]) => [uuid, {
        resources: s.resources, traits: s.traits ?? [], parentUuid: s.parent_provider_uuid ?? null, rootUuid: s.root_provider_uuid ?? uuid,
      }])),
    };
  }

  async claim(consumer: string, allocations: Readonly<Record<string, ResourceAmounts>>, opts: ClaimOptions): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      let generation = opts.consumerGeneration;
      if (generation === undefined) generation = (await this.getAllocations(consumer)).consumerGeneration ?? null;
      try {
        await this.#call('PUT', `/allocations/${encodeURIComponent(consumer)}`, {
          allocations: Object.fromEntries(Object.entries(allocations).map(([rp, resources]) => [rp, { resources }])),
          project_id: opts.projectId, user_id: opts.userId, consumer_generation: generation, consumer_type: opts.consumerType ?? 'INSTANCE',
        });
        return (await this.getAllocations(consumer)).consumerGeneration ?? 0;
      } catch (err) {
        if (opts.consumerGeneration === undefined && attempt < 2 && err instanceof Fault && err.kind === codes.CONCURRENT_UPDATE && /consumer generation/.test(err.message)) continue;
        throw err;
      }
    }
  }

  async getAllocations(consumer: string): Promise<ConsumerAllocationsInfo> {
    const { json } = await this.#call('GET', `/allocations/${encodeURIComponent(consumer)}`);
    return {
      allocations: Object.fromEntries(Object.entries(json.allocations as Record<string, { resources: Record<string, number> }>).map(([rp, a]) => [rp, a.resources])),
      consumerGeneration: json.consumer_generation, projectId: json.project_id, userId: json.user_id, consumerType: json.consumer_type,
    };
  }

  async removeAllocations(consumer: string): Promise<boolean> {
    try {
      await this.#call('DELETE', `/allocations/${encodeURIComponent(consumer)}`);
      return true;
    } catch (err) {
      if (err instanceof Fault && err.status === 404) return false;
      throw err;
    }
  }

  async providerUsages(uuid: string): Promise<Record<string, number>> {
    return (await this.#call('GET', `/resource_providers/${encodeURIComponent(uuid)}/usages`)).json.usages;
  }
}
