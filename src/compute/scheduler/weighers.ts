/**
 * The scheduler's weighers (Nova's RAMWeigher, CPUWeigher, DiskWeigher and the server group
 * soft-(anti-)affinity weighers). Each weigher's raw values are normalised over the hosts to
 * [0, 1] (all 0 when they are equal), multiplied by its multiplier and summed; the highest
 * total wins. Free resources come from placement (capacity − usage, this request's claims
 * included). `spread` weighs free resources positively (least loaded first), `stack` negatively.
 */
import { groupMembersOn, type FilterContext } from './filters.js';
import { freeOf, type HostState } from './host-state.js';

/** Multipliers of each weigher. */
export interface WeightMultipliers {
  readonly ram: number;
  readonly cpu: number;
  readonly disk: number;
  readonly softAffinity: number;
  readonly softAntiAffinity: number;
}

/**
 * Defaults: Nova's resource multipliers (±1.0). The soft group policies get 10 rather than Nova's
 * 1.0 so that they outweigh the three resource weighers together (at most 3): with Nova's value a
 * soft-affinity group is spread anyway on otherwise equal hosts, which surprises everyone.
 */
export function defaultMultipliers(mode: 'spread' | 'stack'): WeightMultipliers {
  const sign = mode === 'stack' ? -1 : 1;
  return { ram: sign, cpu: sign, disk: sign, softAffinity: 10, softAntiAffinity: 10 };
}

interface Weigher {
  readonly name: string;
  readonly multiplier: number;
  applies(c: FilterContext): boolean;
  raw(h: HostState, c: FilterContext): number;
}

function weighers(m: WeightMultipliers): Weigher[] {
  return [
    { name: 'RAMWeigher', multiplier: m.ram, applies: () => true, raw: (h) => freeOf(h, 'MEMORY_MB') },
    { name: 'CPUWeigher', multiplier: m.cpu, applies: () => true, raw: (h) => freeOf(h, 'VCPU') },
    { name: 'DiskWeigher', multiplier: m.disk, applies: () => true, raw: (h) => freeOf(h, 'DISK_GB') },
    {
      name: 'ServerGroupSoftAffinityWeigher', multiplier: m.softAffinity,
      applies: (c) => c.spec.group?.policy === 'soft-affinity', raw: (h, c) => groupMembersOn(h.host, c),
    },
    {
      name: 'ServerGroupSoftAntiAffinityWeigher', multiplier: m.softAntiAffinity,
      applies: (c) => c.spec.group?.policy === 'soft-anti-affinity', raw: (h, c) => -groupMembersOn(h.host, c),
    },
  ];
}

/** A host with its total weight. */
export interface Weighed { readonly host: HostState; readonly weight: number }

/** Whether `a` ranks before `b`: higher weight, then host and node name (so results are reproducible). */
const before = (a: Weighed, b: Weighed): boolean =>
  a.weight !== b.weight ? a.weight > b.weight : a.host.host !== b.host.host ? a.host.host < b.host.host : a.host.nodename < b.host.nodename;

/**
 * The weighed hosts, best first, produced lazily: the first few by selection (a scan each —
 * usually only the first is wanted), the rest by one sort when a caller reads that far.
 */
export class Ranking implements Iterable<Weighed> {
  readonly #all: Weighed[];
  readonly #head: Weighed[] = [];
  #tail: Weighed[] | undefined;

  constructor(all: Weighed[]) {
    this.#all = all;
  }

  get size(): number {
    return this.#all.length;
  }

  /** The i-th best host, or undefined past the end. */
  at(i: number): Weighed | undefined {
    if (i >= this.#all.length) return undefined;
    if (i < this.#head.length) return this.#head[i];
    if (i < 8) {
      while (this.#head.length <= i) {
        const taken = new Set(this.#head);
        let best: Weighed | undefined;
        for (const w of this.#all) if (!taken.has(w) && (!best || before(w, best))) best = w;
        this.#head.push(best!);
      }
      return this.#head[i];
    }
    if (!this.#tail) {
      const taken = new Set(this.#head);
      this.#tail = this.#all.filter((w) => !taken.has(w)).sort((x, y) => (before(x, y) ? -1 : before(y, x) ? 1 : 0));
    }
    return this.#tail[i - this.#head.length];
  }

  *[Symbol.iterator](): Iterator<Weighed> {
    for (let i = 0; i < this.#all.length; i++) yield this.at(i)!;
  }
}

/** Weighs the hosts: every weigher's raw values normalised to [0, 1] over the hosts, times its multiplier, summed. */
export function weighHosts(hosts: readonly HostState[], m: WeightMultipliers, c: FilterContext): Ranking {
  const totals = new Float64Array(hosts.length);
  const raw = new Float64Array(hosts.length);
  for (const w of weighers(m)) {
    if (w.multiplier === 0 || !w.applies(c)) continue;
    let min = Infinity; let max = -Infinity;
    for (let i = 0; i < hosts.length; i++) {
      const v = w.raw(hosts[i]!, c);
      raw[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max - min;
    if (range === 0) continue;
    for (let i = 0; i < hosts.length; i++) totals[i] = totals[i]! + w.multiplier * ((raw[i]! - min) / range);
  }
  return new Ranking(hosts.map((host, i) => ({ host, weight: totals[i]! })));
}
