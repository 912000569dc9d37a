/**
 * Provider attributes of networks: which types this host supports, VXLAN VNI allocation without
 * races (a primary key per (type, id)), flat physical networks used at most once, and the MTU
 * each network gets from the underlay's.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Config } from '../platform/config/config.js';
import { badRequest } from '../platform/http/faults.js';
import { netFault } from './faults.js';
import type { Db } from './resource/store.js';

/** VXLAN over an IPv4 underlay: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;

let vlanSupport: boolean | undefined;
/** Whether the kernel has 802.1Q VLANs (CONFIG_VLAN_8021Q). Machines of our kind do not. */
export function hostSupportsVlan(): boolean {
  if (vlanSupport === undefined) {
    try {
      vlanSupport = /^CONFIG_VLAN_8021Q=[ym]$/m.test(gunzipSync(readFileSync('/proc/config.gz')).toString('latin1'));
    } catch { vlanSupport = false; }
  }
  return vlanSupport;
}

/** VNI ranges from "min:max[,min:max]". */
export function parseRanges(text: string): [number, number][] {
  return text.split(',').map((r) => r.trim()).filter(Boolean).map((r) => {
    const [a, b] = r.split(':').map(Number);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a! < 1 || b! > 16777215 || a! > b!) throw new Error(`bad VNI range ${r}`);
    return [a!, b!] as [number, number];
  });
}

export function mtuFor(cfg: Config, type: string): number {
  const physnet = cfg.network.global_physnet_mtu;
  if (type === 'vxlan') return (cfg.network.path_mtu || physnet) - VXLAN_OVERHEAD;
  return physnet;
}

export interface Segment { type: string; physicalNetwork: string | null; segmentationId: number | null }

/** Checks requested provider attributes; null fields are filled by `allocateSegment`. */
export function checkProvider(cfg: Config, type: string, physnet: string | null, segId: number | null): Segment {
  switch (type) {
    case 'vxlan':
      if (physnet !== null) throw netFault(400, 'InvalidInput', 'Invalid input for operation: provider:physical_network specified for VXLAN network.');
      if (segId !== null && (segId < 1 || segId > 16777215)) throw netFault(400, 'InvalidInput', `Invalid input for operation: segmentation_id out of range (1 through 16777215).`);
      return { type, physicalNetwork: null, segmentationId: segId };
    case 'flat': {
      if (segId !== null) throw netFault(400, 'InvalidInput', 'Invalid input for operation: segmentation_id specified for flat network.');
      if (!physnet) throw netFault(400, 'InvalidInput', 'Invalid input for operation: physical_network required for flat provider network.');
      const allowed = cfg.network.flat_networks;
      if (!allowed.includes('*') && !allowed.includes(physnet)) {
        throw netFault(400, 'InvalidInput', `Invalid input for operation: physical_network '${physnet}' unknown for flat provider network.`);
      }
      return { type, physicalNetwork: physnet, segmentationId: null };
    }
    case 'vlan':
      if (!hostSupportsVlan()) throw badRequest('Network type vlan is not supported here: this host\'s kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q). Use flat or vxlan.');
      throw badRequest('Network type vlan is not supported by this Nephos build. Use flat or vxlan.');
    default:
      throw netFault(400, 'InvalidInput', `Invalid input for operation: network_type value '${type}' not supported.`);
  }
}

/** Takes the segment for a new network (the lowest free VNI, or the one asked for); 409 when taken. */
export async function allocateSegment(db: Db, cfg: Config, seg: Segment, networkId: string): Promise<Segment> {
  if (seg.type === 'flat') {
    const taken = await db.selectFrom('net_segment_allocation').select('network_id')
      .where('network_type', '=', `flat:${seg.physicalNetwork}`).executeTakeFirst();
    if (taken) throw netFault(409, 'FlatNetworkInUse', `Unable to create the flat network. Physical network ${seg.physicalNetwork} is in use.`);
    await db.insertInto('net_segment_allocation').values({ network_type: `flat:${seg.physicalNetwork}`, segmentation_id: 0, network_id: networkId }).execute();
    return seg;
  }
  if (seg.segmentationId !== null) {
    const taken = await db.selectFrom('net_segment_allocation').select('network_id')
      .where('network_type', '=', 'vxlan').where('segmentation_id', '=', seg.segmentationId).executeTakeFirst();
    if (taken) throw netFault(409, 'TunnelIdInUse', `Unable to create the network. The tunnel ID ${seg.segmentationId} is in use.`);
    await db.insertInto('net_segment_allocation').values({ network_type: 'vxlan', segmentation_id: seg.segmentationId, network_id: networkId }).execute();
    return seg;
  }
  const used = new Set((await db.selectFrom('net_segment_allocation').select('segmentation_id').where('network_type', '=', 'vxlan').execute()).map((r) => Number(r.segmentation_id)));
  for (const [lo, hi] of parseRanges(cfg.network.vni_ranges)) {
    for (let v = lo; v <= hi; v++) {
      if (used.has(v)) continue;
      await db.insertInto('net_segment_allocation').values({ network_type: 'vxlan', segmentation_id: v, network_id: networkId }).execute();
      return { ...seg, segmentationId: v };
    }
  }
  throw netFault(503, 'NoNetworkAvailable', 'Unable to create the network. No tenant network is available for allocation.');
}

export async function releaseSegment(db: Db, networkId: string): Promise<void> {
  await db.deleteFrom('net_segment_allocation').where('network_id', '=', networkId).execute();
}
