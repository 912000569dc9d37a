/**
 * A server as the compute API shows it, per microversion (Nova's views/servers.py): the brief
 * form of `GET /servers` and the detailed one of show / `GET /servers/detail`.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { atLeast, selfLinks, linkBase } from '../api/http.js';
import type { Caller } from '../context.js';
import { statusOf } from './states.js';
import type { Instance } from './store.js';

/** Nova's hostId: sha224 of project id + host, so users can tell co-located servers apart without learning hosts. */
export function hostId(projectId: string, host: string | null): string {
  return host ? createHash('sha224').update(projectId + host).digest('hex') : '';
}

/** Nova shows times without fractions and with a Z. */
export const apiTime = (t: string | null): string | null => (t ? `${t.slice(0, 19)}Z` : null);

export function briefServer(req: FastifyRequest, i: Instance): Record<string, unknown> {
  return { id: i.uuid, name: i.display_name, links: selfLinks(req, 'servers', i.uuid) };
}

export interface ViewOptions {
  readonly caller: Caller;
  /** Whether the caller sees extended attributes (policy os-extended-server-attributes). */
  readonly extended: boolean;
  /** host_status (2.16) when the caller may see it: UP, DOWN, MAINTENANCE, UNKNOWN or ''. */
  readonly hostStatus?: (host: string | null) => string;
  /** Server groups the server is in (2.71). */
  readonly serverGroups?: readonly string[];
}

export function detailServer(req: FastifyRequest, i: Instance, o: ViewOptions): Record<string, unknown> {
  const b = i.body;
  const status = statusOf(i.vm_state, i.task_state);
  const { origin, project } = linkBase(req);
  const bookmark = (coll: string, id: string) => [{ rel: 'bookmark', href: `${origin}/${[project, coll, id].filter(Boolean).join('/')}` }];
  const flavor = atLeast(req, '2.47')
    ? {
      vcpus: b.flavor.vcpus, ram: b.flavor.memory_mb, disk: b.flavor.root_gb, ephemeral: b.flavor.ephemeral_gb, swap: b.flavor.swap,
      original_name: b.flavor.name, extra_specs: { ...b.flavor.extra_specs },
    }
    : { id: b.flavor.flavorid, links: bookmark('flavors', b.flavor.flavorid) };
  const addresses: Record<string, unknown[]> = {};
  for (const [net, list] of Object.entries(b.addresses ?? {})) {
    addresses[net] = list.map((a) => ({ version: a.version, addr: a.addr, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac }));
  }
  const out: Record<string, unknown> = {
    id: i.uuid, name: i.display_name, status, tenant_id: i.project_id, user_id: i.user_id, metadata: { ...b.metadata },
    hostId: hostId(i.project_id, i.host),
    image: i.image_ref ? { id: i.image_ref, links: bookmark('images', i.image_ref) } : '',
    flavor, created: apiTime(i.created_at), updated: apiTime(i.updated_at ?? i.created_at),
    addresses, accessIPv4: b.access_ip_v4, accessIPv6: b.access_ip_v6, links: selfLinks(req, 'servers', i.uuid),
    'OS-DCF:diskConfig': b.disk_config ?? 'MANUAL',
    'OS-EXT-AZ:availability_zone': i.availability_zone ?? '',
    config_drive: b.config_drive ? 'True' : '',
    key_name: i.key_name,
    'OS-SRV-USG:launched_at': i.launched_at ? i.launched_at.replace('Z', '') : null,
    'OS-SRV-USG:terminated_at': i.terminated_at ? i.terminated_at.replace('Z', '') : null,
    'OS-EXT-STS:task_state': i.task_state,
    'OS-EXT-STS:vm_state': i.vm_state,
    'OS-EXT-STS:power_state': i.power_state,
    'os-extended-volumes:volumes_attached': [],
  };
  if (status === 'BUILD' || status === 'ACTIVE') out.progress = b.progress ?? 0;
  if (b.security_groups.length && i.vm_state !== 'deleted') out.security_groups = b.security_groups.map((name) => ({ name }));
  if (o.extended) {
    out['OS-EXT-SRV-ATTR:host'] = i.host;
    out['OS-EXT-SRV-ATTR:instance_name'] = `instance-${i.id.toString(16).padStart(8, '0')}`;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = b.hypervisor_hostname ?? i.node;
    if (atLeast(req, '2.3')) {
      out['OS-EXT-SRV-ATTR:reservation_id'] = i.reservation_id;
      out['OS-EXT-SRV-ATTR:launch_index'] = i.launch_index;
      out['OS-EXT-SRV-ATTR:hostname'] = b.hostname;
      out['OS-EXT-SRV-ATTR:kernel_id'] = b.image.properties.kernel_id ?? '';
      out['OS-EXT-SRV-ATTR:ramdisk_id'] = b.image.properties.ramdisk_id ?? '';
      out['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
      out['OS-EXT-SRV-ATTR:user_data'] = b.user_data;
    }
  }
  if ((status === 'ERROR' || status === 'DELETED') && b.fault) {
    const f: Record<string, unknown> = { code: b.fault.code, created: apiTime(b.fault.created), message: b.fault.message };
    if (o.caller.isAdmin || b.fault.code !== 500) f.details = b.fault.details;
    out.fault = f;
  }
  if (atLeast(req, '2.9')) out.locked = i.locked === 1;
  if (atLeast(req, '2.16') && o.hostStatus) out.host_status = o.hostStatus(i.host);
  if (atLeast(req, '2.19')) out.description = b.description;
  if (atLeast(req, '2.26')) out.tags = [...b.tags];
  if (atLeast(req, '2.63')) out.trusted_image_certificates = b.trusted_image_certificates ?? null;
  if (atLeast(req, '2.71')) out.server_groups = [...(o.serverGroups ?? (b.server_group ? [b.server_group] : []))];
  if (atLeast(req, '2.73')) out.locked_reason = b.locked_reason;
  return out;
}

/** Keys of the update and rebuild responses before 2.75 (the whole server from 2.75 on). */
function changedKeys(req: FastifyRequest): Set<string> {
  const keys = ['id', 'name', 'status', 'tenant_id', 'user_id', 'metadata', 'hostId', 'image', 'flavor', 'created', 'updated', 'addresses',
    'accessIPv4', 'accessIPv6', 'links', 'OS-DCF:diskConfig', 'progress', 'fault'];
  for (const [v, k] of [['2.9', 'locked'], ['2.19', 'description'], ['2.26', 'tags'], ['2.54', 'key_name'], ['2.63', 'trusted_image_certificates'],
    ['2.71', 'server_groups'], ['2.73', 'locked_reason']] as const) if (atLeast(req, v)) keys.push(k);
  return new Set(keys);
}

/**
 * The server as `PUT /servers/{id}` and the rebuild action answer (Nova's show view without the
 * extended addresses): before 2.75 only the base keys; from 2.75 everything but the admin's
 * `OS-EXT-SRV-ATTR:user_data`.
 */
export function changedServer(req: FastifyRequest, i: Instance, o: ViewOptions): Record<string, unknown> {
  const all = detailServer(req, i, o);
  all.progress = i.body.progress ?? 0;
  const base = atLeast(req, '2.75') ? null : changedKeys(req);
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(all).filter(([k]) => (base ? base.has(k) : k !== 'OS-EXT-SRV-ATTR:user_data')));
  const addresses: Record<string, { version: number; addr: string }[]> = {};
  for (const [net, list] of Object.entries(i.body.addresses ?? {})) addresses[net] = list.map((a) => ({ version: a.version, addr: a.addr }));
  out.addresses = addresses;
  return out;
}
