/**
 * The EC2-compatible tree (`/<version>/meta-data/…`, `/<version>/user-data`) with the keys each
 * dated version has, and Nova's way of printing it: a directory lists its entries sorted, one a
 * line, subdirectories with a trailing `/`, except a directory with a `_name` (public-keys/0), which
 * lists as that name (`0=mykey`).
 */
import { shownHostname, userDataBytes, type DocumentOptions } from './document-options.js';
import type { InstanceMetadata } from './model.js';
import { ec2AtLeast } from './versions.js';

/** A node of the tree: a directory, a leaf, or a list (printed one item a line). */
export type Ec2Node = Ec2Dir | string | number | null | Buffer | readonly string[];
export interface Ec2Dir { readonly [key: string]: Ec2Node }

/** `i-%08x` and its kin. */
export const ec2Id = (prefix: string, id: number): string => `${prefix}-${id.toString(16).padStart(8, '0')}`;

// Nova's mapping for an instance without a root device name.
const DEFAULT_MAPPINGS = { ami: 'sda1', ephemeral0: 'sda2', root: '/dev/sda1', swap: 'sda3' };

const stripDev = (name: string): string => name.replace(/^\/dev\//, '');

/** The `block-device-mapping/` directory (ami, root, ephemeralN, swap, ebsN). */
export function blockDeviceMapping(md: InstanceMetadata): Record<string, string> {
  if (md.rootDeviceName === null) return { ...DEFAULT_MAPPINGS };
  const m: Record<string, string> = { ami: stripDev(md.rootDeviceName), root: md.rootDeviceName };
  if (md.defaultEphemeralDevice) m.ephemeral0 = md.defaultEphemeralDevice;
  if (md.defaultSwapDevice) m.swap = md.defaultSwapDevice;
  const bdms = md.blockDevices ?? [];
  const ebs = bdms.filter((b) => b.destinationType === 'volume').map((b) => b.deviceName)
    .sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0));
  ebs.forEach((name, i) => { if (name !== null) m[`ebs${i}`] = name; });
  const blanks = bdms.filter((b) => b.destinationType !== 'volume' && b.sourceType === 'blank');
  const swap = blanks.filter((b) => b.guestFormat === 'swap');
  if (swap.length && swap[swap.length - 1]!.deviceName) m.swap = swap[swap.length - 1]!.deviceName!;
  blanks.filter((b) => b.guestFormat !== 'swap').forEach((b, i) => { if (b.deviceName) m[`ephemeral${i}`] = b.deviceName; });
  return m;
}

/** First IPv4 fixed IP and first floating IP over all ports. */
function ipInfo(md: InstanceMetadata): { fixed: string | undefined; floating: string | undefined } {
  const fixed = md.ports.flatMap((p) => p.fixedIps).filter((f) => f.subnet.ipVersion === 4).map((f) => f.ipAddress);
  const floating = md.ports.flatMap((p) => p.fixedIps.flatMap((f) => f.floatingIps));
  return { fixed: fixed[0], floating: floating[0] };
}

/**
 * The tree under `/<version>` for a dated EC2 version: `meta-data/` and, when the instance has
 * user data, `user-data`.
 */
export function ec2Tree(md: InstanceMetadata, version: string, o: DocumentOptions = {}): Ec2Dir {
  const hostname = shownHostname(md, o);
  const ip = ipInfo(md);
  const meta: Record<string, Ec2Node> = {
    'ami-id': md.ec2Ids.image === null ? null : ec2Id('ami', md.ec2Ids.image),
    'ami-launch-index': md.launchIndex,
    'ami-manifest-path': 'FIXME',
    'instance-id': ec2Id('i', md.ec2Ids.instance),
    hostname,
    'local-ipv4': ip.fixed ?? o.address ?? null,
    'reservation-id': md.reservationId,
    'security-groups': [...md.securityGroups],
  };
  const key = md.keyPairs[0];
  if (key) meta['public-keys'] = { 0: { _name: `0=${key.name}`, 'openssh-key': key.data } };
  if (ec2AtLeast(version, '2007-01-19')) {
    meta['local-hostname'] = hostname;
    meta['public-hostname'] = hostname;
    meta['public-ipv4'] = ip.floating ?? '';
  }
  if (ec2AtLeast(version, '2007-08-29')) meta['instance-type'] = md.flavorName;
  if (ec2AtLeast(version, '2007-12-15')) {
    meta['block-device-mapping'] = blockDeviceMapping(md);
    if (md.ec2Ids.kernel !== null) meta['kernel-id'] = ec2Id('aki', md.ec2Ids.kernel);
    if (md.ec2Ids.ramdisk !== null) meta['ramdisk-id'] = ec2Id('ari', md.ec2Ids.ramdisk);
  }
  if (ec2AtLeast(version, '2008-02-01')) meta.placement = { 'availability-zone': md.availabilityZone };
  if (ec2AtLeast(version, '2008-09-01')) meta['instance-action'] = 'none';
  const tree: Record<string, Ec2Node> = { 'meta-data': meta };
  const ud = userDataBytes(md);
  if (ud !== null) tree['user-data'] = ud;
  return tree;
}

export const isDir = (n: Ec2Node): n is Ec2Dir => n !== null && typeof n === 'object' && !Array.isArray(n) && !Buffer.isBuffer(n);

/** The node at `tokens` below `root`, or undefined when there is none (a leaf has no children). */
export function findInTree(root: Ec2Node, tokens: readonly string[]): Ec2Node | undefined {
  let node: Ec2Node = root;
  for (const t of tokens) {
    if (!isDir(node) || t === '_name' || !Object.prototype.hasOwnProperty.call(node, t)) return undefined;
    node = node[t]!;
  }
  return node;
}

/** How Nova prints a node: a directory as its listing, a list one item a line, null as `None`. */
export function printNode(node: Ec2Node): string | Buffer {
  if (Buffer.isBuffer(node)) return node;
  if (Array.isArray(node)) return node.join('\n');
  if (isDir(node)) {
    return Object.keys(node).filter((k) => k !== '_name').sort().map((k) => {
      const child = node[k]!;
      if (!isDir(child)) return k;
      return typeof child._name === 'string' ? child._name : `${k}/`;
    }).join('\n');
  }
  if (node === null) return 'None';
  return String(node);
}

/** A directory without its `_name` entries (the config drive's meta-data.json). */
export function withoutNames(node: Ec2Node): unknown {
  if (Buffer.isBuffer(node) || Array.isArray(node) || !isDir(node)) return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== '_name').map(([k, v]) => [k, withoutNames(v)]));
}
