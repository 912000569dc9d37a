/**
 * The scheduler's host filters, run in this order on the hosts placement offered (Nova's
 * FilterScheduler with ComputeFilter, AvailabilityZoneFilter, ImagePropertiesFilter,
 * AggregateInstanceExtraSpecsFilter, ServerGroupAntiAffinityFilter, ServerGroupAffinityFilter).
 * Each returns why a host fails, so NoValidHost can say which filter removed which hosts and why.
 */
import { matchExtraSpec } from './extra-specs-ops.js';
import type { HostState } from './host-state.js';
import type { RequestSpec } from './types.js';

/** What a filter sees besides the host. */
export interface FilterContext {
  readonly spec: RequestSpec;
  /** Hosts of this request's instances placed so far (multi-create), one entry per instance. */
  readonly placedHosts: readonly string[];
  /** Now (ms), for service heartbeats. */
  readonly now: number;
}

export interface HostFilter {
  readonly name: string;
  /** Whether the request asks anything of this filter (it is skipped otherwise). */
  applies(c: FilterContext): boolean;
  /** Undefined when the host passes; else why it does not (short, shared by similar hosts). */
  reject(h: HostState, c: FilterContext): string | undefined;
}

const secondsSince = (iso: string | null, now: number): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(`${iso.slice(0, 23)}Z`);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((now - t) / 1000));
};

/** Hosts whose compute service is enabled and up. */
export const computeFilter: HostFilter = {
  name: 'ComputeFilter',
  applies: () => true,
  reject(h, c) {
    const s = h.service;
    if (!s) return 'no nova-compute service';
    if (s.disabled === 1) return s.disabled_reason ? `service disabled: ${s.disabled_reason}` : 'service disabled';
    if (s.forced_down === 1) return 'service forced down';
    if (!h.up) {
      const ago = secondsSince(s.last_seen_up ?? s.updated_at ?? s.created_at, c.now);
      return ago === undefined ? 'service down' : `service down: no heartbeat for ${ago} s`;
    }
    return undefined;
  },
};

/** Hosts in the requested zone (the default zone `nova` for hosts outside zoned aggregates). */
export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  applies: (c) => !!c.spec.availabilityZone,
  reject(h, c) {
    const az = c.spec.availabilityZone!;
    return h.zone.split(',').includes(az) ? undefined : `not in zone ${az}`;
  },
};

// ---- ImagePropertiesFilter

const ARCH_ALIASES: Readonly<Record<string, string>> = { amd64: 'x86_64', x64: 'x86_64', i386: 'i686', i486: 'i686', i586: 'i686', arm64: 'aarch64' };
const HV_ALIASES: Readonly<Record<string, string>> = { xapi: 'xen' };
const VM_MODE_ALIASES: Readonly<Record<string, string>> = { pv: 'xen', hv: 'hvm', baremetal: 'hvm' };

const canonical = (aliases: Readonly<Record<string, string>>, v: unknown): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v).toLowerCase();
  return aliases[s] ?? s;
};

/** "7.2.0" → 7002000 (Nova's convert_version_to_int). */
const versionInt = (v: string): number => v.split('.').slice(0, 3).reduce((acc, part, i) => acc + Number(part) * 1000 ** (2 - i), 0);

const VERSION_OPS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '<': (a, b) => a < b, '<=': (a, b) => a <= b, '==': (a, b) => a === b, '!=': (a, b) => a !== b, '>=': (a, b) => a >= b, '>': (a, b) => a > b,
};

/**
 * Whether a hypervisor version satisfies `img_hv_requested_version`, a comma-separated list of
 * `<op> <version>` predicates (`>= 6.0`, `>=6.0, <8`); undefined when the predicate is malformed.
 */
export function versionSatisfies(hypervisorVersion: number, predicate: string): boolean | undefined {
  for (const part of predicate.split(',')) {
    const m = /^\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+){0,2})\s*$/.exec(part);
    if (!m) return undefined;
    if (!VERSION_OPS[m[1]!]!(hypervisorVersion, versionInt(m[2]!))) return false;
  }
  return true;
}

/**
 * Hosts that can run the image's architecture, hypervisor type and VM mode, on a hypervisor
 * version satisfying img_hv_requested_version (checked, as in Nova, only with one of the three).
 */
export const imagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  applies(c) {
    const p = c.spec.image?.properties ?? {};
    return ['hw_architecture', 'architecture', 'img_hv_type', 'hypervisor_type', 'hw_vm_mode', 'vm_mode'].some((k) => p[k] !== undefined && p[k] !== null && p[k] !== '');
  },
  reject(h, c) {
    const p = c.spec.image?.properties ?? {};
    const arch = canonical(ARCH_ALIASES, p.hw_architecture ?? p.architecture);
    const hv = canonical(HV_ALIASES, p.img_hv_type ?? p.hypervisor_type);
    const mode = canonical(VM_MODE_ALIASES, p.hw_vm_mode ?? p.vm_mode);
    const wanted = [arch && `hw_architecture=${arch}`, hv && `img_hv_type=${hv}`, mode && `hw_vm_mode=${mode}`].filter(Boolean).join(', ');
    if (!h.supportedInstances.length) return `reports no supported instance types for ${wanted}`;
    const ok = h.supportedInstances.some(([a, t, m]) => (!arch || a === arch) && (!hv || t === hv) && (!mode || m === mode));
    if (!ok) return `cannot run ${wanted} (runs ${[...new Set(h.supportedInstances.map((s) => s.join('/')))].join(', ')})`;
    const req = p.img_hv_requested_version;
    if (req !== undefined && req !== null && req !== '' && h.hypervisorVersion > 0) {
      const sat = versionSatisfies(h.hypervisorVersion, String(req));
      if (sat === undefined) return `img_hv_requested_version ${JSON.stringify(String(req))} is not a version predicate`;
      if (!sat) return `hypervisor version ${h.hypervisorVersion} does not satisfy img_hv_requested_version ${String(req)}`;
    }
    return undefined;
  },
};

// ---- AggregateInstanceExtraSpecsFilter

const SCOPE = 'aggregate_instance_extra_specs';
/** Unscoped extra specs Nova itself defines: not aggregate requirements. */
const UNSCOPED_NOVA_SPECS = new Set(['group_policy', 'hide_hypervisor_id']);

/** The (key, requirement) pairs the filter checks: `aggregate_instance_extra_specs:` keys and unscoped ones. */
function aggregateRequirements(spec: RequestSpec): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, req] of Object.entries(spec.flavor.extraSpecs ?? {})) {
    const i = key.indexOf(':');
    if (i < 0) {
      if (!UNSCOPED_NOVA_SPECS.has(key)) out.push([key, req]);
    } else if (key.slice(0, i) === SCOPE) {
      out.push([key.slice(i + 1), req]);
    }
  }
  return out;
}

/** Hosts whose aggregates' metadata satisfies the flavor's aggregate extra specs. */
export const aggregateInstanceExtraSpecsFilter: HostFilter = {
  name: 'AggregateInstanceExtraSpecsFilter',
  applies: (c) => aggregateRequirements(c.spec).length > 0,
  reject(h, c) {
    for (const [key, req] of aggregateRequirements(c.spec)) {
      const values = h.aggregateMetadata.get(key);
      if (!values?.size) return `no aggregate with metadata ${key}`;
      if (![...values].some((v) => matchExtraSpec(v, req))) return `aggregate metadata ${key}=${[...values].sort().join(',')} does not match ${JSON.stringify(req)}`;
    }
    return undefined;
  },
};

// ---- server groups

/** Group members on `host`: existing members plus this request's instances placed there. */
export function groupMembersOn(host: string, c: FilterContext): number {
  let n = 0;
  for (const m of c.spec.group?.memberHosts ?? []) if (m === host) n++;
  for (const m of c.placedHosts) if (m === host) n++;
  return n;
}

/** Hard anti-affinity: fewer than max_server_per_host (default 1) members of the group on the host. */
export const serverGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  applies: (c) => c.spec.group?.policy === 'anti-affinity',
  reject(h, c) {
    const g = c.spec.group!;
    const max = g.rules?.max_server_per_host ?? 1;
    const n = groupMembersOn(h.host, c);
    if (n < max) return undefined;
    return `already runs ${n} member${n === 1 ? '' : 's'} of anti-affinity group ${g.uuid}${max === 1 ? '' : ` (max_server_per_host ${max})`}`;
  },
};

/** Hard affinity: once the group has members, only their host. */
export const serverGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  applies: (c) => c.spec.group?.policy === 'affinity',
  reject(h, c) {
    const g = c.spec.group!;
    const hosts = new Set([...g.memberHosts, ...c.placedHosts]);
    if (!hosts.size || hosts.has(h.host)) return undefined;
    return `not the host of affinity group ${g.uuid} (${[...hosts].sort().join(', ')})`;
  },
};

/** The filters in the order they run. */
export const DEFAULT_FILTERS: readonly HostFilter[] = [
  computeFilter, availabilityZoneFilter, imagePropertiesFilter, aggregateInstanceExtraSpecsFilter,
  serverGroupAntiAffinityFilter, serverGroupAffinityFilter,
];
