/**
 * The placement side of the host states: allocation candidates and the capacity and usage of
 * their providers, as placement answered the last query of each shape (flavor, traits, zone…),
 * kept for `maxAgeMs` (default 1 s) and updated in memory by this scheduler's own claims.
 *
 * Placement stays the authority: a claim is checked there atomically, so a stale view costs at
 * worst a refused claim (409), after which the scheduler tries the next host and the view is
 * refreshed; a request that finds no host on a cached view is retried on a fresh one, so
 * NoValidHost is only ever reported from a fresh answer. With several schedulers (processes)
 * each sees the others' claims within `maxAgeMs` — Nova's scheduler keeps host states in memory
 * the same way, between reports of the compute nodes. `maxAgeMs: 0` asks placement every time.
 */
import type { Candidate, Candidates, CandidateQuerySpec, Placement } from '../../placement/client.js';

/** Capacity and usage of one class on one provider (usage grows with this scheduler's claims). */
export interface ClassUsage { capacity: number; used: number }

/** The candidates of one query, by the root provider (compute node) they are anchored on. */
export interface Offer {
  readonly byRoot: ReadonlyMap<string, readonly Candidate[]>;
  /** How many candidates placement returned (to tell when its limit was hit). */
  readonly count: number;
  /** Whether placement was asked for this request (false: a cached answer). */
  readonly fresh: boolean;
}

interface Shape { readonly at: number; readonly offer: Omit<Offer, 'fresh'> }

const MAX_SHAPES = 64;

export class PlacementView {
  readonly #placement: Placement;
  readonly #maxAgeMs: number;
  readonly #usage = new Map<string, Map<string, ClassUsage>>();
  readonly #tree = new Map<string, Set<string>>();
  readonly #shapes = new Map<string, Shape>();

  constructor(placement: Placement, o: { maxAgeMs?: number } = {}) {
    this.#placement = placement;
    this.#maxAgeMs = o.maxAgeMs ?? 1000;
  }

  /** Forgets every cached answer (after a refused claim: the view was stale). */
  invalidate(): void {
    this.#shapes.clear();
  }

  /** Candidates for `q`: cached when younger than maxAgeMs (unless `fresh`), else asked of placement. */
  async offer(q: CandidateQuerySpec, o: { fresh?: boolean; now?: number } = {}): Promise<Offer> {
    const now = o.now ?? Date.now();
    const key = JSON.stringify(q);
    const cached = this.#shapes.get(key);
    if (!o.fresh && cached && now - cached.at < this.#maxAgeMs) return { ...cached.offer, fresh: false };
    const found = await this.#placement.allocationCandidates(q);
    const offer = this.#absorb(found);
    if (this.#maxAgeMs > 0) {
      this.#shapes.delete(key);
      this.#shapes.set(key, { at: now, offer });
      for (const [k, s] of this.#shapes) if (now - s.at >= this.#maxAgeMs || this.#shapes.size > MAX_SHAPES) this.#shapes.delete(k);
    }
    return { ...offer, fresh: true };
  }

  /** Usage of the providers of the tree rooted at `root`. */
  usageOf(root: string): Map<string, Map<string, ClassUsage>> {
    const out = new Map<string, Map<string, ClassUsage>>();
    for (const rp of this.#tree.get(root) ?? [root]) {
      const m = this.#usage.get(rp);
      if (m) out.set(rp, m);
    }
    return out;
  }

  /** Records what placement said, updating the shared usage in place (host states hold references to it). */
  #absorb(found: Candidates): Omit<Offer, 'fresh'> {
    for (const [rp, p] of Object.entries(found.providers)) {
      let m = this.#usage.get(rp);
      if (!m) { m = new Map(); this.#usage.set(rp, m); }
      for (const [rc, r] of Object.entries(p.resources)) {
        const u = m.get(rc);
        if (u) { u.capacity = r.capacity; u.used = r.used; } else m.set(rc, { capacity: r.capacity, used: r.used });
      }
      let t = this.#tree.get(p.rootUuid);
      if (!t) { t = new Set(); this.#tree.set(p.rootUuid, t); }
      t.add(rp);
    }
    const byRoot = new Map<string, Candidate[]>();
    for (const c of found.candidates) {
      let root: string | undefined;
      for (const rp of Object.keys(c.allocations)) { root = found.providers[rp]?.rootUuid ?? rp; break; }
      if (!root) continue;
      const l = byRoot.get(root);
      if (l) l.push(c); else byRoot.set(root, [c]);
    }
    return { byRoot, count: found.candidates.length };
  }
}
