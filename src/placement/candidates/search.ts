/**
 * Finding allocation candidates. A handful of set-oriented queries load what the request needs
 * (inventories and usage of the requested classes, the traits and aggregates it filters on, the
 * trees and sharing providers in play); the combination work then happens in memory:
 *
 * 1. each request group yields allocation requests: a granular group one per provider that fits
 *    it alone; the unsuffixed group, when trees or sharing providers exist, every combination of
 *    providers of one tree (plus sharing providers of its aggregates) that fits it together;
 * 2. per anchor tree, one request of each group is combined (group_policy, same_subtree), the
 *    amounts summed per provider and checked against capacity again;
 * 3. the result is limited and summarised (capacity, usage, traits, tree of each provider).
 */
import { sql, type SqlBool } from 'kysely';
import type { Db } from '../context.js';
import { badRequest } from '../faults.js';
import { MAX_INT, capacityCondition } from '../providers.js';
import { MISC_SHARES_VIA_AGGREGATE } from '../standard.js';
import { traitOrder } from '../traits.js';
import { unknownNames } from '../names.js';
import type { CandidateQuery, RequestGroup } from './request.js';

/** One allocation request: provider → class → amount, and which providers satisfied which group. */
export interface AllocationRequest {
  readonly allocations: Map<string, Map<string, number>>;
  readonly mappings: Map<string, Set<string>>;
}

/** What the response tells about each provider of the candidates' trees. */
export interface ProviderSummary {
  readonly uuid: string;
  readonly parentUuid: string | null;
  readonly rootUuid: string;
  readonly resources: Map<string, { capacity: number; used: number }>;
  readonly traits: string[];
}

export interface CandidateResult {
  readonly requests: AllocationRequest[];
  readonly summaries: ProviderSummary[];
}

/** How the result is shaped, by microversion (or by an in-process caller). */
export interface SearchOptions {
  /** 1.29+: one request may use several providers of a tree. */
  readonly nestedAware: boolean;
  /** 1.27+: summaries list every class a provider has, not only the requested ones. */
  readonly allResourcesInSummary: boolean;
  /** Whether summaries carry traits (1.17+; an in-process caller may skip the cost). */
  readonly traitsInSummary: boolean;
  /** Stop after this many candidates when no `limit` was asked (protects the server). */
  readonly maxCandidates?: number;
}

/** The most candidates one request builds when it gave no `limit`. */
export const DEFAULT_MAX_CANDIDATES = 10000;

interface Inv { readonly capacity: number; readonly room: number; readonly used: number; readonly min: number; readonly max: number; readonly step: number }

/** An allocation request of one group, before merging. */
interface GroupRequest { readonly anchor: string; readonly allocations: Map<string, Map<string, number>>; readonly providers: Set<string> }

const CHUNK = 500;
const chunks = <T>(xs: readonly T[]): T[][] => { const out: T[][] = []; for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK)); return out; };

/** Providers in every set of `memberOf` (membership of any aggregate of a set). */
async function providersInAggregates(db: Db, sets: readonly ReadonlySet<string>[]): Promise<Set<string>> {
  let out: Set<string> | undefined;
  for (const s of sets) {
    const rows = await db.selectFrom('placement_provider_aggregate').select('provider_uuid').distinct().where('aggregate_uuid', 'in', [...s]).execute();
    const here = new Set(rows.map((r) => r.provider_uuid));
    out = out ? new Set([...out].filter((u) => here.has(u))) : here;
    if (!out.size) break;
  }
  return out ?? new Set();
}

/** Finds the allocation candidates of `q`. Unknown classes or traits are a 400, as in placement. */
export async function findCandidates(db: Db, q: CandidateQuery, opts: SearchOptions): Promise<CandidateResult> {
  const empty: CandidateResult = { requests: [], summaries: [] };
  const groups = [...q.groups.values()];
  const requestedClasses = [...new Set(groups.flatMap((g) => [...g.resources.keys()]))];
  const unknownClass = (await unknownNames(db, 'placement_resource_class', requestedClasses))[0];
  if (unknownClass) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${unknownClass}.`);
  const mentionedTraits = new Set<string>([...(q.rootRequired ?? []), ...(q.rootForbidden ?? [])]);
  for (const g of groups) { for (const s of g.requiredTraits) for (const t of s) mentionedTraits.add(t); for (const t of g.forbiddenTraits) mentionedTraits.add(t); }
  const unknownTraits = await unknownNames(db, 'placement_trait', mentionedTraits);
  if (unknownTraits.length) throw badRequest(`No such trait(s): ${unknownTraits.join(', ')}.`);
  for (const g of groups) for (const a of g.resources.values()) if (a > MAX_INT) return empty;

  const hasTrees = !!(await db.selectFrom('placement_provider').select('uuid').where('parent_uuid', 'is not', null).limit(1).executeTakeFirst());
  const sharing = new Set((await db.selectFrom('placement_provider_trait').select('provider_uuid').where('trait', '=', MISC_SHARES_VIA_AGGREGATE).execute()).map((r) => r.provider_uuid));
  if (groups.length === 1 && groups[0]!.resources.size && !hasTrees && !sharing.size) {
    return flatCandidates(db, groups[0]!, q, opts, requestedClasses);
  }

  // root_required: the roots allowed to anchor a candidate.
  let anchors: Set<string> | undefined;
  if (q.rootRequired?.size || q.rootForbidden?.size) {
    let rq = db.selectFrom('placement_provider as p').select('p.uuid').where('p.parent_uuid', 'is', null);
    for (const t of q.rootRequired ?? []) rq = rq.where('p.uuid', 'in', db.selectFrom('placement_provider_trait').select('provider_uuid').where('trait', '=', t));
    if (q.rootForbidden?.size) rq = rq.where('p.uuid', 'not in', db.selectFrom('placement_provider_trait').select('provider_uuid').where('trait', 'in', [...q.rootForbidden]));
    anchors = new Set((await rq.execute()).map((r) => r.uuid));
    if (!anchors.size) return empty;
  }
  const anchorOk = (root: string) => !anchors || anchors.has(root);

  // Inventory and usage of the requested classes, everywhere.
  const inv = new Map<string, Map<string, Inv>>();
  const rootOf = new Map<string, string>();
  const parentOf = new Map<string, string | null>();
  if (requestedClasses.length) {
    const rows = await db.selectFrom('placement_inventory as i').innerJoin('placement_provider as p', 'p.uuid', 'i.provider_uuid')
      .select(['i.provider_uuid', 'p.root_uuid', 'p.parent_uuid', 'i.resource_class', 'i.total', 'i.reserved', 'i.min_unit', 'i.max_unit', 'i.step_size', 'i.allocation_ratio', 'i.used'])
      .where('i.resource_class', 'in', requestedClasses).execute();
    for (const r of rows) {
      rootOf.set(r.provider_uuid, r.root_uuid);
      parentOf.set(r.provider_uuid, r.parent_uuid);
      let m = inv.get(r.provider_uuid);
      if (!m) { m = new Map(); inv.set(r.provider_uuid, m); }
      const total = Number(r.total); const reserved = Number(r.reserved); const ratio = Number(r.allocation_ratio);
      m.set(r.resource_class, {
        capacity: Math.trunc((total - reserved) * ratio), room: (total - reserved) * ratio, used: Number(r.used),
        min: Number(r.min_unit), max: Number(r.max_unit), step: Number(r.step_size),
      });
    }
  }
  const fits = (rp: string, rc: string, amount: number): boolean => {
    const i = inv.get(rp)?.get(rc);
    return !!i && i.used + amount <= i.room && i.min <= amount && i.max >= amount && amount % i.step === 0;
  };

  // Traits that the request filters on, per provider.
  const traitsOf = new Map<string, Set<string>>();
  const filterTraits = [...mentionedTraits];
  if (filterTraits.length) {
    for (const r of await db.selectFrom('placement_provider_trait').select(['provider_uuid', 'trait']).where('trait', 'in', filterTraits).execute()) {
      let s = traitsOf.get(r.provider_uuid);
      if (!s) { s = new Set(); traitsOf.set(r.provider_uuid, s); }
      s.add(r.trait);
    }
  }
  const noTraits = new Set<string>();
  const tr = (rp: string) => traitsOf.get(rp) ?? noTraits;
  const traitsHold = (have: ReadonlySet<string>, g: RequestGroup) => g.requiredTraits.every((any) => [...any].some((t) => have.has(t)));

  // Sharing providers → the roots of the trees they share with (their aggregates' members).
  const shareAnchors = new Map<string, Set<string>>();
  if (sharing.size) {
    const rows = await sql<{ sharing: string; anchor: string }>`
      SELECT DISTINCT s.provider_uuid AS sharing, p.root_uuid AS anchor
      FROM placement_provider_aggregate s
      JOIN placement_provider_aggregate o ON o.aggregate_uuid = s.aggregate_uuid
      JOIN placement_provider p ON p.uuid = o.provider_uuid
      WHERE s.provider_uuid IN (SELECT provider_uuid FROM placement_provider_trait WHERE trait = ${MISC_SHARES_VIA_AGGREGATE})`.execute(db);
    for (const r of rows.rows) {
      let s = shareAnchors.get(r.sharing);
      if (!s) { s = new Set(); shareAnchors.set(r.sharing, s); }
      s.add(r.anchor);
    }
  }

  // Providers without inventory of a requested class (resourceless groups) need their tree too.
  const needAllProviders = groups.some((g) => g.resources.size === 0) || (q.sameSubtrees?.length ?? 0) > 0;
  if (needAllProviders) {
    for (const r of await db.selectFrom('placement_provider').select(['uuid', 'parent_uuid', 'root_uuid']).execute()) {
      rootOf.set(r.uuid, r.root_uuid);
      parentOf.set(r.uuid, r.parent_uuid);
    }
  }

  const perGroup = new Map<string, GroupRequest[]>();
  for (const g of groups) {
    let treeRoot: string | undefined;
    if (g.inTree !== undefined) {
      const t = await db.selectFrom('placement_provider').select('root_uuid').where('uuid', '=', g.inTree).executeTakeFirst();
      if (!t) return empty;
      treeRoot = t.root_uuid;
    }
    const inAggs = g.memberOf.length ? await providersInAggregates(db, g.memberOf) : undefined;
    if (inAggs && !inAggs.size) return empty;
    const badAggs = g.forbiddenAggs.size ? await providersInAggregates(db, [g.forbiddenAggs]) : new Set<string>();
    const reqs = g.useSameProvider || (!hasTrees && !sharing.size)
      ? singleProviderRequests(g, { inv, rootOf, fits, tr, traitsHold, anchorOk, treeRoot, inAggs, badAggs, sharing, shareAnchors })
      : treeRequests(g, { inv, rootOf, fits, tr, traitsHold, anchorOk, treeRoot, inAggs, badAggs, sharing, shareAnchors });
    if (!reqs.length) return empty;
    perGroup.set(g.suffix, reqs);
  }

  // Before 1.29 some combinations are dropped afterwards, so the limit applies only then.
  const cap = opts.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  const stopAt = !opts.nestedAware && hasTrees ? cap : Math.min(q.limit ?? cap, MAX_INT);
  let requests = merge(q, perGroup, groups, inv, parentOf, stopAt);
  if (!opts.nestedAware && hasTrees) {
    // Before 1.29 a request may not use two providers of one tree.
    requests = requests.filter((r) => {
      const roots = [...r.allocations.keys()].map((p) => rootOf.get(p) ?? p);
      return new Set(roots).size === roots.length;
    });
  }
  if (q.limit !== undefined && requests.length > q.limit) requests = requests.slice(0, q.limit);
  if (!requests.length) return empty;
  const used = new Set(requests.flatMap((r) => [...r.allocations.keys()]));
  const trees = new Set([...used].map((p) => rootOf.get(p) ?? p));
  const summaries = await summarise(db, trees, opts.nestedAware || !hasTrees ? undefined : used, opts.allResourcesInSummary ? undefined : requestedClasses, opts.traitsInSummary);
  return { requests, summaries };
}

/**
 * The common case, in one query: a single request group on a cloud without trees or sharing
 * providers, where each candidate is one provider that fits the whole group. Filtering, limit
 * and order happen in SQL, so a scheduler asking for a few candidates among thousands of hosts
 * reads a few rows.
 */
async function flatCandidates(db: Db, g: RequestGroup, q: CandidateQuery, opts: SearchOptions, requestedClasses: readonly string[]): Promise<CandidateResult> {
  const classes = [...g.resources];
  const joins = classes.map(([rc, amount], i) => {
    const a = `i${i}`;
    return sql`JOIN placement_inventory ${sql.raw(a)} ON ${sql.ref(`${a}.provider_uuid`)} = p.uuid AND ${sql.ref(`${a}.resource_class`)} = ${rc} AND ${capacityCondition(a, amount)}`;
  });
  const traitIn = (ts: Iterable<string>) => sql`SELECT provider_uuid FROM placement_provider_trait WHERE trait IN (${sql.join([...ts])})`;
  const aggIn = (as: Iterable<string>) => sql`SELECT provider_uuid FROM placement_provider_aggregate WHERE aggregate_uuid IN (${sql.join([...as])})`;
  const conds: ReturnType<typeof sql<SqlBool>>[] = [];
  const required = [...g.requiredTraits, ...[...(q.rootRequired ?? [])].map((t) => new Set([t]))];
  for (const any of required) conds.push(sql<SqlBool>`p.uuid IN (${traitIn(any)})`);
  const forbidden = new Set([...g.forbiddenTraits, ...(q.rootForbidden ?? [])]);
  if (forbidden.size) conds.push(sql<SqlBool>`p.uuid NOT IN (${traitIn(forbidden)})`);
  for (const any of g.memberOf) conds.push(sql<SqlBool>`p.uuid IN (${aggIn(any)})`);
  if (g.forbiddenAggs.size) conds.push(sql<SqlBool>`p.uuid NOT IN (${aggIn(g.forbiddenAggs)})`);
  if (g.inTree !== undefined) conds.push(sql<SqlBool>`p.root_uuid = (SELECT root_uuid FROM placement_provider WHERE uuid = ${g.inTree})`);
  const where = conds.length ? sql`WHERE ${sql.join(conds, sql` AND `)}` : sql``;
  const limit = Math.min(q.limit ?? opts.maxCandidates ?? DEFAULT_MAX_CANDIDATES, MAX_INT);
  // No ORDER BY: with a small limit the engine stops after the first fitting providers.
  const rows = await sql<{ uuid: string }>`SELECT p.uuid FROM placement_provider p ${sql.join(joins, sql` `)} ${where} LIMIT ${limit}`.execute(db);
  if (!rows.rows.length) return { requests: [], summaries: [] };
  const requests = rows.rows.map((r) => ({ allocations: new Map([[r.uuid, new Map(classes)]]), mappings: new Map([[g.suffix, new Set([r.uuid])]]) }));
  const summaries = await summarise(db, new Set(rows.rows.map((r) => r.uuid)), undefined, opts.allResourcesInSummary ? undefined : requestedClasses, opts.traitsInSummary, true);
  return { requests, summaries };
}

interface Lookups {
  readonly inv: Map<string, Map<string, Inv>>;
  readonly rootOf: Map<string, string>;
  readonly fits: (rp: string, rc: string, amount: number) => boolean;
  readonly tr: (rp: string) => ReadonlySet<string>;
  readonly traitsHold: (have: ReadonlySet<string>, g: RequestGroup) => boolean;
  readonly anchorOk: (root: string) => boolean;
  readonly treeRoot?: string;
  readonly inAggs?: Set<string>;
  readonly badAggs: Set<string>;
  readonly sharing: Set<string>;
  readonly shareAnchors: Map<string, Set<string>>;
}

/** A group satisfied by one provider: each provider that fits it alone (and each tree a sharing one serves). */
function singleProviderRequests(g: RequestGroup, l: Lookups): GroupRequest[] {
  const classes = [...g.resources];
  const candidates = classes.length ? [...l.inv.keys()] : [...l.rootOf.keys()];
  const out: GroupRequest[] = [];
  for (const rp of candidates) {
    if (!classes.every(([rc, amount]) => l.fits(rp, rc, amount))) continue;
    const root = l.rootOf.get(rp) ?? rp;
    if (l.treeRoot !== undefined && root !== l.treeRoot) continue;
    const traits = l.tr(rp);
    if (!l.traitsHold(traits, g) || [...g.forbiddenTraits].some((t) => traits.has(t))) continue;
    if (l.inAggs && !l.inAggs.has(rp)) continue;
    if (l.badAggs.has(rp)) continue;
    // A resourceless group (same_subtree) names its provider in the mappings only.
    const allocations = classes.length ? new Map([[rp, new Map(classes)]]) : new Map<string, Map<string, number>>();
    if (l.anchorOk(root)) out.push({ anchor: root, allocations, providers: new Set([rp]) });
    if (l.sharing.has(rp)) {
      for (const a of l.shareAnchors.get(rp) ?? []) if (a !== root && l.anchorOk(a)) out.push({ anchor: a, allocations, providers: new Set([rp]) });
    }
  }
  return out;
}

/**
 * The unsuffixed group when trees or sharing providers exist: per anchor tree, every choice of
 * one provider per class among the tree's providers (and the sharing providers serving it) whose
 * providers together carry the required traits and none carries a forbidden one.
 */
function treeRequests(g: RequestGroup, l: Lookups): GroupRequest[] {
  const classes = [...g.resources];
  // anchor → class → providers
  let options: Map<string, Map<string, Set<string>>> | undefined;
  for (const [rc, amount] of classes) {
    const here = new Map<string, Set<string>>();
    const add = (rp: string, anchor: string) => {
      if (!l.anchorOk(anchor)) return;
      if (l.inAggs && !l.inAggs.has(rp) && !l.inAggs.has(anchor)) return;
      if (l.badAggs.has(rp) || l.badAggs.has(anchor)) return;
      let s = here.get(anchor);
      if (!s) { s = new Set(); here.set(anchor, s); }
      s.add(rp);
    };
    for (const rp of l.inv.keys()) {
      if (!l.fits(rp, rc, amount)) continue;
      const root = l.rootOf.get(rp) ?? rp;
      if (l.treeRoot !== undefined && root !== l.treeRoot) continue;
      add(rp, root);
      if (l.treeRoot === undefined && l.sharing.has(rp) && (!l.inAggs || l.inAggs.has(rp))) for (const a of l.shareAnchors.get(rp) ?? []) add(rp, a);
    }
    if (!options) {
      options = new Map([...here].map(([a, s]) => [a, new Map([[rc, s]])]));
    } else {
      for (const [a, m] of options) {
        const s = here.get(a);
        if (s) m.set(rc, s); else options.delete(a);
      }
    }
    if (!options.size) return [];
  }
  const out: GroupRequest[] = [];
  for (const [anchor, byClass] of options ?? []) {
    const lists = classes.map(([rc]) => [...byClass.get(rc)!]);
    const pick: string[] = [];
    const walk = (i: number) => {
      if (i === lists.length) {
        const providers = new Set(pick);
        const traits = new Set<string>();
        for (const p of providers) {
          const t = l.tr(p);
          if ([...g.forbiddenTraits].some((f) => t.has(f))) return;
          for (const x of t) traits.add(x);
        }
        if (!l.traitsHold(traits, g)) return;
        const allocations = new Map<string, Map<string, number>>();
        classes.forEach(([rc, amount], k) => {
          const p = pick[k]!;
          let m = allocations.get(p);
          if (!m) { m = new Map(); allocations.set(p, m); }
          m.set(rc, amount);
        });
        out.push({ anchor, allocations, providers });
        return;
      }
      for (const p of lists[i]!) { pick.push(p); walk(i + 1); pick.pop(); }
    };
    walk(0);
  }
  return out;
}

const requestKey = (r: AllocationRequest): string => JSON.stringify([
  [...r.allocations].map(([p, m]) => [p, [...m].sort()]).sort(),
  [...r.mappings].map(([s, ps]) => [s, [...ps].sort()]).sort(),
]);

/** Whether one of `rps` is an ancestor (or itself) of all the others. */
function sameSubtree(rps: ReadonlySet<string>, parentOf: ReadonlyMap<string, string | null>): boolean {
  if (rps.size <= 1) return true;
  const ancestors = (rp: string) => {
    const out = new Set<string>([rp]);
    for (let p = parentOf.get(rp) ?? null, n = 0; p && n < 1000; p = parentOf.get(p) ?? null, n++) out.add(p);
    return out;
  };
  let common: Set<string> | undefined;
  for (const rp of rps) {
    const a = ancestors(rp);
    common = common ? new Set([...common].filter((x) => a.has(x))) : a;
  }
  return [...rps].some((rp) => common!.has(rp));
}

/** Combines one request of each group per anchor tree, keeping the combinations that still fit. */
function merge(q: CandidateQuery, perGroup: Map<string, GroupRequest[]>, groups: readonly RequestGroup[], inv: Map<string, Map<string, Inv>>,
  parentOf: ReadonlyMap<string, string | null>, max: number): AllocationRequest[] {
  const suffixes = groups.map((g) => g.suffix);
  const granular = groups.filter((g) => g.useSameProvider).map((g) => g.suffix);
  const byAnchor = new Map<string, Map<string, GroupRequest[]>>();
  for (const s of suffixes) {
    for (const r of perGroup.get(s) ?? []) {
      let m = byAnchor.get(r.anchor);
      if (!m) { m = new Map(); byAnchor.set(r.anchor, m); }
      let l = m.get(s);
      if (!l) { l = []; m.set(s, l); }
      l.push(r);
    }
  }
  const out: AllocationRequest[] = [];
  const seen = new Set<string>();
  const picks: GroupRequest[] = [];
  let stop = false;
  const emit = () => {
    if (q.groupPolicy === 'isolate' && granular.length > 1) {
      const distinct = new Set(granular.map((s) => [...picks[suffixes.indexOf(s)]!.providers][0]));
      if (distinct.size !== granular.length) return;
    }
    for (const st of q.sameSubtrees ?? []) {
      const rps = new Set<string>();
      st.forEach((s) => { const i = suffixes.indexOf(s); if (i >= 0) for (const p of picks[i]!.providers) rps.add(p); });
      if (!sameSubtree(rps, parentOf)) return;
    }
    const allocations = new Map<string, Map<string, number>>();
    const mappings = new Map<string, Set<string>>();
    picks.forEach((r, i) => {
      for (const [rp, res] of r.allocations) {
        let m = allocations.get(rp);
        if (!m) { m = new Map(); allocations.set(rp, m); }
        for (const [rc, a] of res) m.set(rc, (m.get(rc) ?? 0) + a);
      }
      const s = suffixes[i]!;
      mappings.set(s, new Set([...(mappings.get(s) ?? []), ...r.providers]));
    });
    if (picks.length > 1) {
      for (const [rp, res] of allocations) {
        for (const [rc, a] of res) {
          const i = inv.get(rp)?.get(rc);
          if (!i || i.used + a > i.capacity || a > i.max) return;
        }
      }
    }
    const req = { allocations, mappings };
    const k = requestKey(req);
    if (seen.has(k)) return;
    seen.add(k);
    out.push(req);
    if (out.length >= max) stop = true;
  };
  for (const lists of byAnchor.values()) {
    if (lists.size !== suffixes.length) continue;
    const walk = (i: number) => {
      if (stop) return;
      if (i === suffixes.length) { emit(); return; }
      for (const r of lists.get(suffixes[i]!)!) { picks.push(r); walk(i + 1); picks.pop(); if (stop) return; }
    };
    walk(0);
    if (stop) break;
  }
  return out;
}

/**
 * Summaries of every provider in `trees` (only `onlyProviders` before 1.29): capacity and usage
 * of its classes (only `classes` before 1.27), traits, parent and root.
 */
async function summarise(db: Db, trees: ReadonlySet<string>, onlyProviders: ReadonlySet<string> | undefined, classes: readonly string[] | undefined, withTraits: boolean, flat = false): Promise<ProviderSummary[]> {
  // Past a few hundred providers one unfiltered read beats long IN lists (statement preparation dominates).
  const many = (n: number) => n > 200;
  const rootList = [...trees];
  let providers: { uuid: string; parent_uuid: string | null; root_uuid: string }[];
  if (flat) providers = rootList.map((uuid) => ({ uuid, parent_uuid: null, root_uuid: uuid }));
  else if (many(rootList.length)) providers = (await db.selectFrom('placement_provider').select(['uuid', 'parent_uuid', 'root_uuid']).execute()).filter((p) => trees.has(p.root_uuid));
  else {
    providers = [];
    for (const c of chunks(rootList)) providers.push(...await db.selectFrom('placement_provider').select(['uuid', 'parent_uuid', 'root_uuid']).where('root_uuid', 'in', c).execute());
  }
  const kept = providers.filter((p) => !onlyProviders || onlyProviders.has(p.uuid)).sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  const ids = kept.map((p) => p.uuid);
  const idSet = new Set(ids);
  const resources = new Map<string, Map<string, { capacity: number; used: number }>>();
  const traits = new Map<string, string[]>();
  const addInventory = (i: { provider_uuid: string; resource_class: string; total: number; reserved: number; allocation_ratio: number; used: number }) => {
    if (!idSet.has(i.provider_uuid)) return;
    let m = resources.get(i.provider_uuid);
    if (!m) { m = new Map(); resources.set(i.provider_uuid, m); }
    m.set(i.resource_class, { capacity: Math.trunc((Number(i.total) - Number(i.reserved)) * Number(i.allocation_ratio)), used: Number(i.used) });
  };
  const addTrait = (t: { provider_uuid: string; trait: string }) => {
    if (!idSet.has(t.provider_uuid)) return;
    let l = traits.get(t.provider_uuid);
    if (!l) { l = []; traits.set(t.provider_uuid, l); }
    l.push(t.trait);
  };
  const wantClasses = classes ? (classes.length ? [...classes] : ['\u0000']) : undefined;
  const invQuery = () => {
    const q = db.selectFrom('placement_inventory').select(['provider_uuid', 'resource_class', 'total', 'reserved', 'allocation_ratio', 'used']);
    return wantClasses ? q.where('resource_class', 'in', wantClasses) : q;
  };
  if (many(ids.length)) {
    for (const i of await invQuery().execute()) addInventory(i);
    if (withTraits) for (const t of await db.selectFrom('placement_provider_trait').select(['provider_uuid', 'trait']).execute()) addTrait(t);
  } else {
    for (const c of chunks(ids)) {
      for (const i of await invQuery().where('provider_uuid', 'in', c).execute()) addInventory(i);
      if (withTraits) for (const t of await db.selectFrom('placement_provider_trait').select(['provider_uuid', 'trait']).where('provider_uuid', 'in', c).execute()) addTrait(t);
    }
  }
  return kept.map((p) => ({ uuid: p.uuid, parentUuid: p.parent_uuid, rootUuid: p.root_uuid, resources: resources.get(p.uuid) ?? new Map(), traits: (traits.get(p.uuid) ?? []).sort(traitOrder) }));
}
