/**
 * IP address management for ports: fixed IPs asked for by subnet and/or address, or chosen
 * automatically (the lowest free address of the pools; SLAAC addresses from the MAC). Each
 * address is one row in `net_ip_allocation` whose primary key (subnet, address) makes a
 * double allocation impossible even between API processes: a racing loser retries.
 */
import { badRequest } from '../../platform/http/faults.js';
import { netFault } from '../faults.js';
import type { Db } from '../resource/store.js';
import { RetryTransaction } from '../resource/tx.js';
import type { Obj } from '../resource/types.js';
import { canonicalIp, formatIp, ipInCidr, parseCidr, parseIp, type Cidr } from './addr.js';
import { rangesOf, type Pool } from './pools.js';

export interface FixedIp { subnet_id: string; ip_address: string }
export interface FixedIpRequest { subnet_id?: string; ip_address?: string }

const cidrOf = (subnet: Obj): Cidr => parseCidr(String(subnet.cidr))!;
const isSlaac = (subnet: Obj): boolean => subnet.ip_version === 6 && (subnet.ipv6_address_mode === 'slaac' || subnet.ipv6_address_mode === 'dhcpv6-stateless');

/** The EUI-64 address of `mac` in a /64. */
export function eui64(subnet: Obj, mac: string): string {
  const c = cidrOf(subnet);
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0] = b[0]! ^ 0x02;
  const iid = [b[0], b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]].reduce((acc: bigint, x) => (acc << 8n) | BigInt(x!), 0n);
  return formatIp(6, c.network | iid);
}

async function taken(db: Db, subnetId: string): Promise<Set<string>> {
  return new Set((await db.selectFrom('net_ip_allocation').select('ip_address').where('subnet_id', '=', subnetId).execute()).map((r) => String(r.ip_address)));
}

/** The lowest free address in the subnet's pools, or undefined when exhausted. */
async function nextFree(db: Db, subnet: Obj): Promise<string | undefined> {
  const used = await taken(db, subnet.id);
  const v = subnet.ip_version as 4 | 6;
  for (const r of rangesOf(subnet.allocation_pools as Pool[])) {
    // Bounded: at most |used| + 1 candidates per pool before a free one appears.
    let n = 0;
    for (let x = r.lo; x <= r.hi && n <= used.size + 1; x++, n++) {
      const ip = formatIp(v, x);
      if (!used.has(ip)) return ip;
    }
  }
  return undefined;
}

async function record(db: Db, subnet: Obj, ip: string, portId: string, chosen: boolean): Promise<void> {
  const clash = await db.selectFrom('net_ip_allocation').select('port_id').where('subnet_id', '=', subnet.id).where('ip_address', '=', ip).executeTakeFirst();
  if (clash) {
    // An address we picked as free was taken by a concurrent writer meanwhile: pick again.
    if (chosen) throw new RetryTransaction(`${ip} taken concurrently`);
    throw netFault(409, 'IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnet.id}`);
  }
  await db.insertInto('net_ip_allocation').values({ subnet_id: subnet.id, ip_address: ip, network_id: String(subnet.network_id), port_id: portId }).execute();
}

/** Allocates one address on `subnet`: the one asked for, or the next free one. */
async function allocateOn(db: Db, subnet: Obj, ip: string | undefined, mac: string, portId: string, networkId: string, chosen = false): Promise<FixedIp> {
  if (ip === undefined && isSlaac(subnet)) ip = eui64(subnet, mac);
  if (ip === undefined) {
    chosen = true;
    const free = await nextFree(db, subnet);
    if (!free) throw netFault(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
    ip = free;
  }
  await record(db, subnet, ip, portId, chosen);
  return { subnet_id: subnet.id, ip_address: ip };
}

/**
 * The fixed IPs of a new (or updated) port on `networkId`, allocated. `requested` undefined
 * means "choose": one address on the first IPv4 subnet with room, one on the first stateful IPv6
 * subnet, and a SLAAC address on every SLAAC subnet — as Neutron does.
 */
export async function allocateFixedIps(db: Db, subnets: readonly Obj[], networkId: string, requested: readonly FixedIpRequest[] | undefined, mac: string, portId: string): Promise<FixedIp[]> {
  const out: FixedIp[] = [];
  if (requested === undefined) {
    let v4done = false; let v6done = false;
    for (const s of subnets) {
      if (s.ip_version === 4) {
        if (v4done) continue;
        const ip = await nextFree(db, s);
        if (!ip) continue;
        out.push(await allocateOn(db, s, ip, mac, portId, networkId, true));
        v4done = true;
      } else if (isSlaac(s)) {
        out.push(await allocateOn(db, s, undefined, mac, portId, networkId));
      } else if (!v6done) {
        const ip = await nextFree(db, s);
        if (!ip) continue;
        out.push(await allocateOn(db, s, ip, mac, portId, networkId, true));
        v6done = true;
      }
    }
    if (out.length === 0 && subnets.length > 0) throw netFault(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
    return out;
  }
  for (const r of requested) {
    let subnet: Obj | undefined;
    let ip: string | undefined;
    if (r.ip_address !== undefined) {
      ip = canonicalIp(r.ip_address);
      if (!ip) throw badRequest(`Invalid input for fixed_ips. Reason: '${r.ip_address}' is not a valid IP address.`);
    }
    if (r.subnet_id !== undefined) {
      subnet = subnets.find((s) => s.id === r.subnet_id);
      if (!subnet) throw badRequest(`Invalid input for operation: Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${r.subnet_id}.`);
      if (ip !== undefined && !ipInCidr(ip, cidrOf(subnet))) {
        throw netFault(400, 'InvalidIpForSubnet', `IP address ${ip} is not a valid IP for the specified subnet.`);
      }
    } else if (ip !== undefined) {
      subnet = subnets.find((s) => ipInCidr(ip!, cidrOf(s)));
      if (!subnet) throw netFault(400, 'InvalidIpForNetwork', `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`);
    } else {
      throw badRequest('Invalid input for fixed_ips. Reason: Exactly one of subnet_id or ip_address must be given.');
    }
    if (ip !== undefined && isSlaac(subnet) ) {
      throw netFault(400, 'InvalidInput', `Invalid input for operation: IPv6 address ${ip} can not be directly assigned to a port on subnet ${subnet.id} since the subnet is configured for automatic addresses.`);
    }
    if (ip !== undefined) {
      const p = parseIp(ip)!;
      const c = cidrOf(subnet);
      const isNetworkAddr = p.value === c.network && c.version === 4 && c.prefix < 31;
      if (isNetworkAddr) throw netFault(400, 'InvalidIpForSubnet', `IP address ${ip} is not a valid IP for the specified subnet.`);
    }
    if (out.some((f) => f.subnet_id === subnet!.id && (ip === undefined || f.ip_address === ip))) {
      if (ip !== undefined) throw badRequest(`Invalid input for operation: Duplicate IP address '${ip}'.`);
    }
    out.push(await allocateOn(db, subnet, ip, mac, portId, networkId));
  }
  return out;
}

/** Releases every address of a port (or only those not in `keep`). */
export async function releaseFixedIps(db: Db, portId: string, keep: readonly FixedIp[] = []): Promise<void> {
  const kept = new Set(keep.map((f) => `${f.subnet_id}|${f.ip_address}`));
  const rows = await db.selectFrom('net_ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', portId).execute();
  for (const r of rows) {
    if (kept.has(`${r.subnet_id}|${r.ip_address}`)) continue;
    await db.deleteFrom('net_ip_allocation').where('subnet_id', '=', r.subnet_id).where('ip_address', '=', r.ip_address).execute();
  }
}
