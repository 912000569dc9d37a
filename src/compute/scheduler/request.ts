/**
 * From a RequestSpec to a placement allocation-candidates query, as Nova's
 * `resources_from_request_spec` and its placement prefilters build it: the flavor's VCPU,
 * MEMORY_MB and DISK_GB (root + ephemeral + swap rounded up to GiB; no root for boot from
 * volume), overridden by `resources[N]:` extra specs, required and forbidden traits from
 * `trait[N]:` extra specs and the image, the zone's aggregates as member_of, the forced or
 * requested node as in_tree, and a limit.
 */
import type { CandidateGroupSpec, CandidateQuerySpec } from '../../placement/client.js';
import { badRequest } from '../faults.js';
import type { Flavor } from '../flavors.js';
import type { FlavorRequest, ImageRequest, RequestSpec } from './types.js';

/** A stored flavor (with its extra specs) as the scheduler reads it. */
export function flavorRequestOf(f: Flavor): FlavorRequest {
  return {
    vcpus: f.vcpus, memoryMb: f.memory_mb, rootGb: f.root_gb, ephemeralGb: f.ephemeral_gb, swapMb: f.swap,
    name: f.name, flavorId: f.flavorid, extraSpecs: f.extra_specs,
  };
}

/** Nova's `[scheduler] max_placement_results`: candidates asked of placement per request. */
export const MAX_PLACEMENT_RESULTS = 1000;

/** One request group before it becomes part of the query. */
interface Group { resources: Map<string, number>; required: Set<string>; forbidden: Set<string> }

const newGroup = (): Group => ({ resources: new Map(), required: new Set(), forbidden: new Set() });

/** The disk (GiB) placement is asked for: root (unless boot from volume) + ephemeral + swap in whole GiB. */
export function diskGbOf(f: FlavorRequest, bootFromVolume = false): number {
  return (bootFromVolume ? 0 : f.rootGb) + (f.ephemeralGb ?? 0) + Math.ceil((f.swapMb ?? 0) / 1024);
}

const RESOURCE_KEY = /^resources([a-zA-Z0-9_-]{0,64}):([A-Z0-9_]+)$/;
const TRAIT_KEY = /^trait([a-zA-Z0-9_-]{0,64}):([A-Z0-9_]+)$/;

/** Image properties that require traits: `trait:<T>=required` keys and a `traits_required` list. */
export function imageRequiredTraits(image: ImageRequest | undefined): string[] {
  const props = image?.properties ?? {};
  const out = new Set<string>();
  for (const [k, v] of Object.entries(props)) {
    const m = /^trait:([A-Z0-9_]+)$/.exec(k);
    if (m && String(v).toLowerCase() === 'required') out.add(m[1]!);
  }
  const listed = props.traits_required;
  if (Array.isArray(listed)) for (const t of listed) if (typeof t === 'string' && t) out.add(t);
  return [...out].sort();
}

/** The query's groups: '' (the flavor's own resources) and any granular groups of the extra specs. */
export function requestGroups(spec: Pick<RequestSpec, 'flavor' | 'image' | 'bootFromVolume'>): Map<string, Group> {
  const f = spec.flavor;
  const groups = new Map<string, Group>([['', newGroup()]]);
  const group = (suffix: string) => {
    let g = groups.get(suffix);
    if (!g) { g = newGroup(); groups.set(suffix, g); }
    return g;
  };
  const main = group('');
  const specs = f.extraSpecs ?? {};
  const dedicated = specs['hw:cpu_policy'] === 'dedicated';
  main.resources.set(dedicated ? 'PCPU' : 'VCPU', f.vcpus);
  main.resources.set('MEMORY_MB', f.memoryMb);
  main.resources.set('DISK_GB', diskGbOf(f, spec.bootFromVolume));
  for (const [key, value] of Object.entries(specs)) {
    const r = RESOURCE_KEY.exec(key);
    if (r) {
      const amount = Number(value);
      if (!Number.isInteger(amount) || amount < 0) throw badRequest(`Invalid flavor extra spec ${key}=${value}: the amount must be a non-negative integer`);
      group(r[1]!).resources.set(r[2]!, amount);
      continue;
    }
    const t = TRAIT_KEY.exec(key);
    if (t) {
      if (value === 'required') group(t[1]!).required.add(t[2]!);
      else if (value === 'forbidden') group(t[1]!).forbidden.add(t[2]!);
      else throw badRequest(`Invalid flavor extra spec ${key}=${value}: a trait is required or forbidden`);
    }
  }
  for (const t of imageRequiredTraits(spec.image)) main.required.add(t);
  // An amount of 0 removes the class (e.g. resources:DISK_GB=0 for diskless flavors).
  for (const g of groups.values()) for (const [rc, n] of [...g.resources]) if (n === 0) g.resources.delete(rc);
  return groups;
}

/** What the query asks (also used to word NoValidHost). */
export interface PlacementRequest {
  readonly query: CandidateQuerySpec;
  /** The unsuffixed group's resources, required and forbidden traits. */
  readonly resources: Readonly<Record<string, number>>;
  readonly required: readonly string[];
  readonly forbidden: readonly string[];
  /** The zone whose aggregates the query is limited to (member_of), if any. */
  readonly zone?: string;
  readonly zoneAggregates?: readonly string[];
}

/**
 * The allocation-candidates query of a request. `zoneAggregates` are the aggregates of the
 * requested zone (Nova's map_az_to_placement_aggregate; none: no member_of), `inTree` the
 * forced or requested compute node.
 */
export function placementRequest(spec: RequestSpec, o: { zoneAggregates?: readonly string[]; inTree?: string; limit?: number } = {}): PlacementRequest {
  const groups = requestGroups(spec);
  const main = groups.get('')!;
  const memberOf = o.zoneAggregates?.length ? [o.zoneAggregates] : undefined;
  const granular: Record<string, CandidateGroupSpec> = {};
  for (const [suffix, g] of groups) {
    if (suffix === '') continue;
    if (!g.resources.size) continue; // traits without resources in a granular group say nothing placement can check
    granular[suffix] = {
      resources: Object.fromEntries(g.resources), required: [...g.required], forbidden: [...g.forbidden],
      ...(memberOf ? { memberOf } : {}), ...(o.inTree ? { inTree: o.inTree } : {}),
    };
  }
  const groupPolicy = spec.flavor.extraSpecs?.group_policy;
  const query: CandidateQuerySpec = {
    resources: Object.fromEntries(main.resources),
    required: [...main.required],
    forbidden: [...main.forbidden],
    ...(memberOf ? { memberOf } : {}),
    ...(o.inTree ? { inTree: o.inTree } : {}),
    ...(Object.keys(granular).length ? { groups: granular } : {}),
    ...(groupPolicy === 'none' || groupPolicy === 'isolate' ? { groupPolicy } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    withTraits: false,
  };
  return {
    query, resources: query.resources ?? {}, required: [...main.required].sort(), forbidden: [...main.forbidden].sort(),
    zone: memberOf ? spec.availabilityZone ?? undefined : undefined, zoneAggregates: o.zoneAggregates,
  };
}

const UNITS: Readonly<Record<string, (n: number) => string>> = {
  MEMORY_MB: (n) => `${n} MB RAM`,
  VCPU: (n) => `${n} VCPU`,
  PCPU: (n) => `${n} dedicated CPU (PCPU)`,
  DISK_GB: (n) => `${n} GB disk`,
};
const ORDER = ['MEMORY_MB', 'VCPU', 'PCPU', 'DISK_GB'];

/** Resource classes in the order messages name them: RAM, VCPU, PCPU, disk, then the others by name. */
export function sortClasses(classes: readonly string[]): string[] {
  return [...classes].sort((a, b) => {
    const ia = ORDER.indexOf(a); const ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : 1);
  });
}

/** `4096 MB RAM, 2 VCPU, 1 GB disk` (then other classes by name). */
export function describeResources(resources: Readonly<Record<string, number>>): string {
  const keys = sortClasses(Object.keys(resources));
  return keys.map((rc) => (UNITS[rc] ?? ((n: number) => `${n} ${rc}`))(resources[rc]!)).join(', ');
}

/** A short name of a class for counts: RAM, VCPU, disk, or the class. */
export const shortClass = (rc: string): string => ({ MEMORY_MB: 'RAM', DISK_GB: 'disk' } as Record<string, string>)[rc] ?? rc;

/**
 * Splits Nova's `availability_zone` server attribute: `az`, `az:host`, `az:host:node` or
 * `az::node` (forcing a host or node is admin-only; the API checks the policy). An empty zone
 * part means the default zone. More than two colons is a 400, as in Nova.
 */
export function parseAvailabilityZone(value: string | null | undefined): { zone: string | null; host: string | null; node: string | null } {
  if (!value) return { zone: null, host: null, node: null };
  const colons = value.split(':').length - 1;
  if (colons === 0) return { zone: value, host: null, node: null };
  if (colons === 1) {
    const [zone, host] = value.split(':') as [string, string];
    return { zone: zone || null, host: host || null, node: null };
  }
  if (colons === 2) {
    if (value.includes('::')) {
      const [zone, node] = value.split('::') as [string, string];
      return { zone: zone || null, host: null, node: node || null };
    }
    const [zone, host, node] = value.split(':') as [string, string, string];
    return { zone: zone || null, host: host || null, node: node || null };
  }
  throw badRequest('Unable to parse availability_zone');
}
