/**
 * The router resource as data: neutron-lib's `router` attribute map with the `ext-gw-mode`
 * (`enable_snat`), `extraroute` (`routes`) and `router_availability_zone` additions, and the
 * validators of its structured attributes. Behaviour lives in routers.ts.
 */
import { badRequest } from '../platform/http/faults.js';
import { badAttr, notFoundOf } from './faults.js';
import { canonicalIp, formatCidr, parseCidr, parseIp } from './ipam/addr.js';
import type { FixedIpRequest } from './ipam/allocate.js';
import { AVAILABILITY_ZONE } from './networks.js';
import { standardAttributes } from './resource/body.js';
import type { ResourceDef } from './resource/types.js';
import { boolean, listOf, string, uuid, type Check } from './resource/validate.js';

/** A static route of a router (extraroute). */
export interface Route { readonly destination: string; readonly nexthop: string }

/** `external_gateway_info` as a request gives it (after validation). */
export interface GatewayRequest {
  readonly network_id: string;
  readonly enable_snat?: boolean;
  readonly external_fixed_ips?: FixedIpRequest[];
}

/** `external_gateway_info` as a router shows it. */
export interface GatewayInfo {
  readonly network_id: string;
  readonly enable_snat: boolean;
  readonly external_fixed_ips: readonly { readonly subnet_id: string; readonly ip_address: string }[];
}

/** Neutron's `max_routes`: static routes one router may have. */
export const MAX_ROUTES = 30;

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

/** `[{subnet_id?, ip_address?}]` (Neutron's `type:fixed_ips`), addresses canonical. */
export const fixedIpsCheck: Check<FixedIpRequest[]> = (v, attr) => {
  if (!Array.isArray(v)) throw badAttr(attr, `Invalid data format for fixed IP: ${show(v)}`);
  return v.map((f) => {
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw badAttr(attr, `Invalid data format for fixed IP: ${show(f)}`);
    const { subnet_id, ip_address, ...rest } = f as Record<string, unknown>;
    if (Object.keys(rest).length) throw badAttr(attr, `Invalid data format for fixed IP: ${show(f)}`);
    const out: FixedIpRequest = {};
    if (subnet_id !== undefined) out.subnet_id = uuid(subnet_id, attr);
    if (ip_address !== undefined) {
      const ip = typeof ip_address === 'string' ? canonicalIp(ip_address) : undefined;
      if (!ip) throw badAttr(attr, `${show(ip_address)} is not a valid IP address`);
      out.ip_address = ip;
    }
    return out;
  });
};

/**
 * `type:dict_or_nodata` with a required `network_id`: null or `{}` mean "no gateway"; keys other
 * than the three known ones are ignored, as Neutron's validator does.
 */
export const gatewayInfoCheck: Check<GatewayRequest | null> = (v, attr) => {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw badAttr(attr, `${show(v)} is not a dictionary`);
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length === 0) return null;
  if (!Object.hasOwn(o, 'network_id')) {
    throw badAttr(attr, `Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {${Object.keys(o).map((k) => `'${k}'`).join(', ')}}`);
  }
  const out: { network_id: string; enable_snat?: boolean; external_fixed_ips?: FixedIpRequest[] } = { network_id: uuid(o.network_id, attr) };
  if (Object.hasOwn(o, 'enable_snat')) out.enable_snat = boolean(o.enable_snat, attr);
  if (Object.hasOwn(o, 'external_fixed_ips')) out.external_fixed_ips = fixedIpsCheck(o.external_fixed_ips, attr);
  return out;
};

/**
 * `type:hostroutes` for router routes: exactly `destination` (a CIDR without host bits) and
 * `nexthop` (an address of the same family), no duplicates; `null` clears (`[]`).
 */
export const routesCheck: Check<Route[]> = (v, attr) => {
  if (v === null) return [];
  if (!Array.isArray(v)) throw badAttr(attr, `${show(v)} is not a list`);
  const out: Route[] = [];
  for (const r of v) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw badAttr(attr, `${show(r)} is not a dictionary`);
    const keys = Object.keys(r).sort();
    if (keys.length !== 2 || keys[0] !== 'destination' || keys[1] !== 'nexthop') {
      throw badAttr(attr, `Validation of dictionary's keys failed. Expected keys: ['destination', 'nexthop'] Provided keys: [${keys.map((k) => `'${k}'`).join(', ')}]`);
    }
    const { destination, nexthop } = r as Record<string, unknown>;
    const loose = typeof destination === 'string' && destination.includes('/') ? parseCidr(destination) : undefined;
    if (!loose) throw badAttr(attr, `${show(destination)} is not a valid IP subnet`);
    const strict = parseCidr(destination as string, true);
    if (!strict) throw badAttr(attr, `${show(destination)} isn't a recognized IP subnet cidr, '${formatCidr(loose)}' is recommended`);
    const hop = typeof nexthop === 'string' ? canonicalIp(nexthop) : undefined;
    if (!hop) throw badAttr(attr, `${show(nexthop)} is not a valid IP address`);
    if (parseIp(hop)!.version !== strict.version) throw badAttr(attr, `nexthop ${hop} and destination ${formatCidr(strict)} are of different IP versions`);
    const route = { destination: formatCidr(strict), nexthop: hop };
    if (out.some((x) => x.destination === route.destination && x.nexthop === route.nexthop)) {
      throw badAttr(attr, `Duplicate hostroute '${JSON.stringify(route)}'`);
    }
    out.push(route);
  }
  return out;
};

/** Availability zone hints: each must name a zone this cloud has. */
const zoneHints: Check<string[]> = (v, attr) => {
  const hints = listOf(string(255), { unique: true })(v, attr);
  for (const h of hints) {
    if (h !== AVAILABILITY_ZONE) throw notFoundOf('AvailabilityZoneNotFound', `AvailabilityZone ${h} could not be found.`);
  }
  return hints;
};

/** `distributed`/`ha`: this cloud's routers are neither, so only `false` is accepted. */
const onlyFalse = (what: string): Check<boolean> => (v, attr) => {
  if (boolean(v, attr)) throw badRequest(`Invalid input for ${attr}. Reason: ${what} routers are not supported by this cloud.`);
  return false;
};

export const routerDef: ResourceDef = {
  member: 'router', collection: 'routers', table: 'net_router', columns: {},
  notFound: (id) => notFoundOf('RouterNotFound', `Router ${id} could not be found`),
  attributes: {
    ...standardAttributes(),
    admin_state_up: { post: true, put: true, default: true, check: boolean },
    status: { post: false, put: false },
    external_gateway_info: { post: true, put: true, default: null, check: gatewayInfoCheck, filter: false },
    routes: { post: false, put: true, check: routesCheck, filter: false },
    distributed: { post: true, put: true, check: onlyFalse('distributed'), visible: 'admin', adminWrite: true },
    ha: { post: true, put: true, check: onlyFalse('highly available'), visible: 'admin', adminWrite: true },
    availability_zone_hints: { post: true, put: false, default: () => [], check: zoneHints, filter: false },
    availability_zones: { post: false, put: false, filter: false },
  },
};
