/**
 * `POST /servers`: Nova's schema and checks (flavor, image, networks, key pair, security groups,
 * quota), then the instance records in BUILD; the conductor takes over after the 202.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { ComputeContext, Caller } from '../context.js';
import { badRequest, conflict, forbidden, notFound, novaFault } from '../faults.js';
import { atLeast, isLegacy } from '../api/http.js';
import { isUuidLike } from '../api/actions.js';
import { azName, booleanParam, metadata, name, nameWithSpaces, nonNegativeInteger, positiveInteger, pyRepr, toBool, validateBody, type Schema } from '../api/schema.js';
import { getFlavor } from '../flavors.js';
import { getKeypair } from '../keypairs.js';
import { userQuotas } from '../quotas.js';
import type { ImageClient, ImageRecord } from '../clients/image.js';
import { imageProperties } from '../clients/image.js';
import type { NetworkClient } from '../clients/network.js';
import type { RequestSpec } from '../scheduler/types.js';
import { insertInstance, type Instance, type InstanceBody, type RequestedNetwork } from './store.js';
import { POWER, VM } from './states.js';
import { nowIso } from '../store/db.js';
import { groupForCreate, joinGroup } from './groups.js';
import { splitZones, zonedServices } from '../availability-zones.js';
import { computeServiceOf } from '../services.js';

const description: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]*$' };
const hostnameSchema: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
const TAG: Schema = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };

/** One server id or a list of them (Nova's same_host/different_host hints). */
const SERVER_IDS: Schema = { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'array', items: { type: 'string', format: 'uuid' } }] };
/** Nova's scheduler hints: the known ones typed (build_near_host_ip is checked as an address after), any others passed on. */
const SCHEDULER_HINTS: Schema = {
  type: 'object',
  properties: {
    group: { type: 'string', format: 'uuid' }, different_host: SERVER_IDS, same_host: SERVER_IDS, query: { type: ['string', 'object'] },
    target_cell: { type: 'string', minLength: 1, maxLength: 255 }, different_cell: { type: ['string', 'array'], items: { type: 'string' } },
    build_near_host_ip: { type: 'string' }, cidr: { type: 'string', pattern: '^/[0-9a-f.:]+$' },
  },
  additionalProperties: true,
};

/** A block_device_mapping_v2 item as Nova's schema has it (its keys, their types and values). */
function bdmSchema(req: FastifyRequest): Schema {
  const str: Schema = { type: 'string', maxLength: 255 };
  return {
    type: 'object',
    properties: {
      source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] }, destination_type: { type: 'string', enum: ['local', 'volume'] },
      uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' }, boot_index: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$' },
      volume_size: nonNegativeInteger, delete_on_termination: booleanParam, device_name: str, device_type: str, disk_bus: str, guest_format: str, no_device: {},
      connection_info: { type: 'string', maxLength: 16777215 }, image_id: str, snapshot_id: str, volume_id: str,
      ...(atLeast(req, '2.32') ? { tag: TAG } : {}), ...(atLeast(req, '2.67') ? { volume_type: { type: ['string', 'null'], minLength: 0, maxLength: 255 } } : {}),
    },
    required: ['source_type'],
    additionalProperties: false,
  };
}

function createSchema(req: FastifyRequest): Schema {
  const network: Schema = {
    type: 'object',
    properties: {
      fixed_ip: { type: 'string', minLength: 1, maxLength: 64 }, port: { type: ['string', 'null'], format: 'uuid' }, uuid: { type: 'string' },
      ...(atLeast(req, '2.32') ? { tag: TAG } : {}),
    },
    additionalProperties: false,
  };
  const networks: Schema = atLeast(req, '2.37')
    ? { oneOf: [{ type: 'array', items: network }, { type: 'string', enum: ['none', 'auto'] }] }
    : { type: 'array', items: network };
  const server: Record<string, Schema> = {
    name: isLegacy(req) ? nameWithSpaces : name,
    imageRef: { type: 'string', maxLength: 255 },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' },
    metadata,
    networks,
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    accessIPv4: { type: 'string' },
    accessIPv6: { type: 'string' },
    key_name: { type: 'string', minLength: 1, maxLength: 255 },
    user_data: { type: 'string', maxLength: 65535 },
    availability_zone: azName,
    config_drive: booleanParam,
    security_groups: { type: 'array', minItems: 1, items: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false } },
    block_device_mapping_v2: { type: 'array', items: bdmSchema(req) },
    block_device_mapping: { type: 'array', items: { type: 'object' } },
    min_count: positiveInteger,
    max_count: positiveInteger,
    return_reservation_id: booleanParam,
  };
  if (atLeast(req, '2.19')) server.description = description;
  if (atLeast(req, '2.52')) server.tags = { type: 'array', items: TAG, maxItems: 50 };
  if (atLeast(req, '2.63')) server.trusted_image_certificates = { type: ['array', 'null'], minItems: 1, maxItems: 50, items: { type: 'string', minLength: 1 } };
  if (atLeast(req, '2.74')) { server.host = hostnameSchema; server.hypervisor_hostname = hostnameSchema; }
  if (atLeast(req, '2.90')) server.hostname = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-zA-Z0-9][a-zA-Z0-9-]*$' };
  return {
    type: 'object',
    properties: {
      server: { type: 'object', properties: server, required: atLeast(req, '2.37') ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'], additionalProperties: false },
      'os:scheduler_hints': SCHEDULER_HINTS,
      'OS-SCH-HNT:scheduler_hints': SCHEDULER_HINTS,
    },
    required: ['server'],
    additionalProperties: false,
  };
}

/** Nova's sanitize_hostname: what a display name becomes as a host name. */

/**
 * accessIPv4/accessIPv6 of a create, update or rebuild request: a valid address of that family
 * (Nova's 400 otherwise), IPv6 in its canonical compressed form as Nova stores it.
 */
export function accessIps(r: { accessIPv4?: unknown; accessIPv6?: unknown }): { access_ip_v4?: string; access_ip_v6?: string } {
  const out: { access_ip_v4?: string; access_ip_v6?: string } = {};
  for (const [k, family, key] of [['accessIPv4', 4, 'access_ip_v4'], ['accessIPv6', 6, 'access_ip_v6']] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (v === '') { out[key] = ''; continue; } // clears it
    if (typeof v !== 'string' || isIP(v) !== family) {
      throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(v)}. '${String(v)}' is not a 'ipv${family}'`);
    }
    // The URL serializer writes IPv6 in RFC 5952 form (embedded IPv4 as hex, longest zero run as ::).
    out[key] = family === 6 ? new URL(`http://[${v}]/`).hostname.slice(1, -1) : v;
  }
  return out;
}

export function sanitizeHostname(display: string, fallback: string): string {
  let h = display.toLowerCase().replace(/[ _]/g, '-').replace(/[^\w.-]+/g, '').replace(/^[.-]+|[.-]+$/g, '');
  h = h.slice(0, 63).replace(/[.-]+$/, '');
  return h || fallback;
}

/** The id at the end of a flavor or image reference (an id or a URL). */
const refId = (ref: string | number): string => String(ref).split('/').filter(Boolean).pop() ?? '';

/** What the caller may boot from: public, community, its own, or shared with it and accepted. */
export async function checkImageVisible(images: ImageClient, img: ImageRecord, caller: Caller): Promise<void> {
  if (caller.isAdmin || img.visibility === 'public' || img.visibility === 'community' || img.owner === caller.projectId) return;
  if (img.visibility === 'shared') {
    try {
      const m = (await images.api.call('GET', `/v2/images/${img.id}/members/${caller.projectId}`)).json as { status?: string };
      if (m.status === 'accepted') return;
    } catch { /* not a member */ }
  }
  throw badRequest(`Image ${img.id} could not be found.`);
}

export interface CreateDeps {
  readonly ctx: ComputeContext;
  readonly images: ImageClient;
  readonly network: NetworkClient;
}

export interface CreatedServers {
  readonly instances: Instance[];
  readonly spec: RequestSpec;
  readonly adminPass: string;
  readonly reservationId: string;
  readonly returnReservationId: boolean;
}

/** Validates a create request and records its instances (vm_state building, task scheduling). */
export async function createServers(req: FastifyRequest, caller: Caller, d: CreateDeps): Promise<CreatedServers> {
  const body = req.body as Record<string, any>;
  validateBody(createSchema(req), body);
  const s = body.server as Record<string, any>;
  const hints = (body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {}) as Record<string, unknown>;
  const near = hints.build_near_host_ip;
  if (near !== undefined && (typeof near !== 'string' || !isIP(near))) {
    throw badRequest(`Invalid input for field/attribute build_near_host_ip. Value: ${String(near)}. ${pyRepr(near)} is not valid under any of the given schemas`);
  }
  const ctx = d.ctx;
  ctx.authorize(caller, 'os_compute_api:servers:create', { project_id: caller.projectId });

  const minCount = Number(s.min_count ?? 1);
  const maxCount = Number(s.max_count ?? minCount);
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  const access = accessIps(s);

  // Flavor.
  const flavor = await getFlavor(ctx, refId(s.flavorRef), caller).catch(() => { throw badRequest(`Flavor ${refId(s.flavorRef)} could not be found.`); });
  if (flavor.disabled) throw badRequest('Flavor is disabled.');

  // Image (boot from volume is not supported yet: the volume service does not exist).
  if (s.block_device_mapping_v2?.some((b: Record<string, unknown>) => b.destination_type === 'volume') || s.block_device_mapping?.length) {
    throw novaFault(400, 'Booting from a volume is not supported by this cloud yet: there is no block storage service.');
  }
  const imageRef = s.imageRef ? refId(s.imageRef) : (s.block_device_mapping_v2?.find((b: Record<string, unknown>) => b.source_type === 'image' && b.boot_index === 0)?.uuid as string | undefined);
  if (!imageRef) throw badRequest('Missing imageRef attribute');
  if (!isUuidLike(imageRef)) throw badRequest('Invalid imageRef provided.');
  const img = await d.images.image(imageRef);
  if (!img) throw badRequest(`Image ${imageRef} could not be found.`);
  await checkImageVisible(d.images, img, caller);
  if (img.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
  const props = imageProperties(img);
  if (['aki', 'ari'].includes(String(img.disk_format))) throw badRequest(`Image ${imageRef} is a ${img.disk_format} image: it cannot be booted on its own.`);
  if (flavor.memory_mb < (img.min_ram ?? 0)) throw badRequest("Flavor's memory is too small for requested image.");
  if (flavor.root_gb > 0) {
    if (flavor.root_gb < (img.min_disk ?? 0)) throw badRequest("Flavor's disk is too small for requested image.");
    const need = Math.max(img.virtual_size ?? 0, img.size ?? 0);
    if (need > flavor.root_gb * 1024 ** 3) throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * 1024 ** 3} bytes, image is ${need} bytes.`);
  }

  // Key pair.
  let key: { name: string; data: string; type: string } | null = null;
  if (s.key_name) {
    const kp = await getKeypair(ctx, caller.userId, s.key_name).catch(() => { throw badRequest(`Invalid key_name provided.`); });
    key = { name: kp.name, data: kp.public_key, type: kp.type };
  }

  // User data must be base64.
  if (s.user_data !== undefined && s.user_data !== null) {
    const ud = String(s.user_data).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(ud) || ud.length % 4 !== 0) throw badRequest('User data needs to be valid base 64.');
  }

  // Networks.
  let requested: InstanceBody['requested_networks'];
  if (s.networks === undefined || s.networks === 'auto') requested = 'auto';
  else if (s.networks === 'none') requested = 'none';
  else {
    requested = [];
    const seenPorts = new Set<string>();
    for (const n of s.networks as RequestedNetwork[]) {
      if (n.port) {
        if (seenPorts.has(n.port)) throw badRequest(`Port ${n.port} is requested more than once.`);
        seenPorts.add(n.port);
        const port = await d.network.port(n.port);
        if (!port || (!caller.isAdmin && port.project_id !== caller.projectId)) throw badRequest(`Port ${n.port} could not be found.`);
        if (port.device_id) throw conflict(`Port ${n.port} is still in use.`);
        if (maxCount > 1) throw badRequest('Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.');
        requested.push({ port: n.port, ...(n.tag ? { tag: n.tag } : {}) });
      } else {
        if (!n.uuid || !isUuidLike(n.uuid)) throw badRequest(`Bad networks format: network uuid is not in proper format (${String(n.uuid)})`);
        const net = await d.network.network(n.uuid);
        if (!net || (!caller.isAdmin && net.project_id !== caller.projectId && !net.shared)) throw badRequest(`Network ${n.uuid} could not be found.`);
        if (n.fixed_ip !== undefined && !isIP(n.fixed_ip)) throw badRequest(`Invalid fixed IP address (${n.fixed_ip})`);
        if (n.fixed_ip && maxCount > 1) throw badRequest('max_count cannot be greater than 1 if an fixed_ip is specified.');
        requested.push({ uuid: n.uuid, ...(n.fixed_ip ? { fixed_ip: n.fixed_ip } : {}), ...(n.tag ? { tag: n.tag } : {}) });
      }
    }
  }
  if (requested === 'auto') {
    const nets = await d.network.bootableNetworks(caller.projectId);
    if (nets.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
  }

  // Security groups (names or ids of the project's groups).
  const groups = (s.security_groups as { name?: string }[] | undefined)?.map((g) => g.name).filter((x): x is string => !!x) ?? ['default'];
  const uniqueGroups = [...new Set(groups)];
  if (requested !== 'none' && !(Array.isArray(requested) && requested.every((r) => r.port))) {
    const { missing } = await d.network.securityGroupIds(caller.projectId, uniqueGroups.filter((g) => g !== 'default'));
    if (missing.length) throw badRequest(`Unable to find security_group with name or id '${missing[0]}'`);
  }

  // Availability zone, optionally with a forced host (admins): az:host:node.
  let az: string | null = s.availability_zone ?? null;
  let forceHost: string | null = null;
  let forceNode: string | null = null;
  if (az && az.includes(':')) {
    const [zone, host, node] = az.split(':');
    ctx.authorize(caller, 'os_compute_api:servers:create:forced_host', { project_id: caller.projectId });
    az = zone || null;
    forceHost = host || null;
    forceNode = node || null;
  }
  // The zone must be one with an enabled compute host (Nova's 400 otherwise, before anything is scheduled).
  if (az) {
    const { available } = splitZones(await zonedServices(ctx, { binary: 'nova-compute' }));
    if (!available.includes(az)) throw badRequest('The requested availability zone is not available');
  }
  let requestedDestination: { host?: string | null; node?: string | null } | undefined;
  if (s.host || s.hypervisor_hostname) {
    ctx.authorize(caller, 'os_compute_api:servers:create:requested_destination', { project_id: caller.projectId });
    // A requested host or node must exist (Nova's _validate_host_or_node).
    if (s.host && !await computeServiceOf(ctx, s.host)) throw badRequest(`Compute host ${s.host} could not be found.`);
    if (s.hypervisor_hostname) {
      let nodes = ctx.db.selectFrom('compute_node').select('id').where('hypervisor_hostname', '=', s.hypervisor_hostname);
      if (s.host) nodes = nodes.where('host', '=', s.host);
      if (!await nodes.executeTakeFirst()) throw badRequest(`Compute host node ${s.hypervisor_hostname} could not be found.`);
    }
    requestedDestination = { host: s.host ?? null, node: s.hypervisor_hostname ?? null };
  }

  // Metadata items and quota.
  const meta = (s.metadata ?? {}) as Record<string, string>;
  const q = await userQuotas(ctx, caller.projectId, caller.userId);
  const metaLimit = q.metadata_items.limit;
  if (metaLimit >= 0 && Object.keys(meta).length > metaLimit) throw forbidden(`Quota exceeded for metadata_items: Requested ${Object.keys(meta).length}, but already used 0 of ${metaLimit} metadata_items`);
  const fits = (n: number) => (['instances', 'cores', 'ram'] as const).find((r) => {
    const want = r === 'instances' ? n : r === 'cores' ? n * flavor.vcpus : n * flavor.memory_mb;
    return q[r].limit >= 0 && q[r].in_use + want > q[r].limit;
  });
  // The most servers each quota leaves room for (computed: a max_count of 1e30 must not be counted down one by one).
  const room = (['instances', 'cores', 'ram'] as const).map((r) => {
    const per = r === 'instances' ? 1 : r === 'cores' ? flavor.vcpus : flavor.memory_mb;
    return q[r].limit < 0 || per <= 0 ? Infinity : Math.floor((q[r].limit - q[r].in_use) / per);
  });
  const count = Math.min(maxCount, ...room);
  if (count < minCount) {
    const r = fits(minCount)!;
    const want = r === 'instances' ? minCount : r === 'cores' ? minCount * flavor.vcpus : minCount * flavor.memory_mb;
    throw forbidden(`Quota exceeded for ${r}: Requested ${want}, but already used ${q[r].in_use} of ${q[r].limit} ${r}`);
  }

  const group = await groupForCreate(ctx, caller, hints, count);
  const reservationId = `r-${randomBytes(6).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 8)}`;
  const now = nowIso();
  const instances: Instance[] = [];
  for (let k = 0; k < count; k++) {
    const uuid = randomUUID();
    const display = count > 1 ? `${s.name}-${k + 1}` : s.name;
    const hostname = count > 1 || !s.hostname ? sanitizeHostname(display, `server-${uuid}`) : s.hostname;
    const instBody: InstanceBody = {
      description: s.description ?? null, hostname,
      flavor: {
        flavorid: flavor.flavorid, name: flavor.name, vcpus: flavor.vcpus, memory_mb: flavor.memory_mb, root_gb: flavor.root_gb,
        ephemeral_gb: flavor.ephemeral_gb, swap: flavor.swap, extra_specs: { ...flavor.extra_specs }, description: flavor.description,
      },
      image: { id: img.id, name: img.name ?? '', disk_format: String(img.disk_format), min_disk: img.min_disk ?? 0, min_ram: img.min_ram ?? 0, properties: props },
      metadata: { ...meta }, user_data: s.user_data ?? null, key_data: key?.data ?? null, key_type: key?.type ?? null,
      config_drive: s.config_drive !== undefined && s.config_drive !== '' ? toBool(s.config_drive) || ctx.config.compute.force_config_drive : ctx.config.compute.force_config_drive,
      requested_networks: requested, ports: [], addresses: {}, security_groups: uniqueGroups,
      access_ip_v4: access.access_ip_v4 ?? '', access_ip_v6: access.access_ip_v6 ?? '', disk_config: s['OS-DCF:diskConfig'] ?? 'MANUAL', tags: [...new Set<string>(s.tags ?? [])], fault: null,
      server_group: typeof hints.group === 'string' ? hints.group : null, scheduler_hints: hints, locked_reason: null, locked_by: null, progress: 0,
      trusted_image_certificates: s.trusted_image_certificates ?? null,
    };
    const inst: Instance = {
      id: 0, uuid, project_id: caller.projectId, user_id: caller.userId, display_name: display, host: null, node: null,
      vm_state: VM.building, task_state: 'scheduling', power_state: POWER.nostate, image_ref: img.id, flavor_id: flavor.flavorid,
      availability_zone: az, reservation_id: reservationId, launch_index: k, key_name: key?.name ?? null, locked: 0,
      created_at: now, updated_at: null, launched_at: null, terminated_at: null, deleted: 0, deleted_at: null, body: instBody,
    };
    const { id: _id, ...row } = inst;
    await insertInstance(ctx.db as never, row);
    instances.push(inst);
  }
  if (instances.length === 0) throw notFound('no instance');
  const groupSpec = group ? await joinGroup(ctx.db, group, instances.map((i) => i.uuid)) : undefined;
  const spec: RequestSpec = {
    instanceUuids: instances.map((i) => i.uuid), projectId: caller.projectId, userId: caller.userId,
    flavor: { vcpus: flavor.vcpus, memoryMb: flavor.memory_mb, rootGb: flavor.root_gb, ephemeralGb: flavor.ephemeral_gb, swapMb: flavor.swap, name: flavor.name, flavorId: flavor.flavorid, extraSpecs: flavor.extra_specs },
    image: { id: img.id, properties: props }, availabilityZone: az, forceHost, forceNode,
    ...(requestedDestination ? { requestedDestination } : {}), schedulerHints: hints, requestId: caller.requestId,
    ...(groupSpec ? { group: groupSpec } : {}),
  };
  const adminPass = typeof s.adminPass === 'string' ? s.adminPass : randomBytes(9).toString('base64url').slice(0, 12);
  return { instances, spec, adminPass, reservationId, returnReservationId: s.return_reservation_id !== undefined && toBool(s.return_reservation_id) };
}
