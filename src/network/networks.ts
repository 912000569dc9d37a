/**
 * Networks: the attribute map (core, provider, external, port security, MTU, AZ, DNS) and the
 * behaviour — VNI/flat segment allocation, shared/external visibility, delete only when no
 * port but DHCP's remains.
 */
import { randomUUID } from 'node:crypto';
import type { NetworkContext, Caller } from './context.js';
import { netFault, notFoundOf } from './faults.js';
import { standardAttributes } from './resource/body.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import { checkQuotaForItems } from './quotas.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, integer, integerOrNone, listOf, string, stringOrNone } from './resource/validate.js';
import { allocateSegment, checkProvider, mtuFor, releaseSegment } from './segments.js';
import { forbidden } from '../platform/http/faults.js';

export const AVAILABILITY_ZONE = 'nova';

export const networkDef: ResourceDef = {
  member: 'network', collection: 'networks', table: 'net_network',
  columns: { shared: 'shared', 'router:external': 'external' },
  notFound: (id) => notFoundOf('NetworkNotFound', `Network ${id} could not be found.`),
  attributes: {
    ...standardAttributes(),
    admin_state_up: { post: true, put: true, default: true, check: boolean },
    status: { post: false, put: false },
    subnets: { post: false, put: false },
    shared: { post: true, put: true, default: false, check: boolean, adminWrite: true },
    'router:external': { post: true, put: true, default: false, check: boolean, adminWrite: true },
    mtu: { post: true, put: true, check: integer(68, 65535) },
    port_security_enabled: { post: true, put: true, default: true, check: boolean },
    'provider:network_type': { post: true, put: false, check: stringOrNone(255), visible: 'admin', adminWrite: true },
    'provider:physical_network': { post: true, put: false, check: stringOrNone(64), visible: 'admin', adminWrite: true },
    'provider:segmentation_id': { post: true, put: false, check: integerOrNone(0, 16777215), visible: 'admin', adminWrite: true },
    availability_zone_hints: { post: true, put: false, default: () => [], check: listOf(string(255)), filter: false },
    availability_zones: { post: false, put: false, filter: false },
    ipv4_address_scope: { post: false, put: false },
    ipv6_address_scope: { post: false, put: false },
    l2_adjacency: { post: false, put: false },
    dns_domain: { post: true, put: true, default: '', check: string(255) },
    is_default: { post: true, put: true, default: false, check: boolean, adminWrite: true },
  },
};

/** Non-admins see their own networks plus shared and external ones. */
async function alsoVisible(db: Db, _caller: Caller, where: Record<string, unknown>): Promise<Obj[]> {
  return [...await findObjs(db, networkDef, { ...where, shared: true }), ...await findObjs(db, networkDef, { ...where, 'router:external': true })];
}
const visibleTo = (obj: Obj): boolean => obj.shared === true || obj['router:external'] === true;

/** Adds `subnets` (ids) to networks. */
async function decorate(ctx: NetworkContext, objs: Obj[]): Promise<void> {
  if (objs.length === 0) return;
  const ids = objs.map((o) => o.id);
  const rows: { id: string; network_id: string }[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    rows.push(...await ctx.db.selectFrom('net_subnet').select(['id', 'network_id']).where('network_id', 'in', ids.slice(i, i + 500)).orderBy('id').execute() as never[]);
  }
  const by = new Map<string, string[]>();
  for (const r of rows) (by.get(r.network_id) ?? by.set(r.network_id, []).get(r.network_id)!).push(r.id);
  for (const o of objs) (o as Record<string, unknown>).subnets = by.get(o.id) ?? [];
}

async function createOne(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>): Promise<Obj> {
  const id = randomUUID();
  const cfg = ctx.config;
  const requestedType = attrs['provider:network_type'] as string | null | undefined;
  const type = requestedType ?? (attrs['provider:physical_network'] ? 'flat' : cfg.network.tenant_network_type);
  const seg = await allocateSegment(tx, cfg, checkProvider(cfg, type, (attrs['provider:physical_network'] as string | null | undefined) ?? null,
    (attrs['provider:segmentation_id'] as number | null | undefined) ?? null), id);
  const maxMtu = mtuFor(cfg, seg.type);
  const mtu = (attrs.mtu as number | undefined) ?? maxMtu;
  if (mtu > maxMtu) throw netFault(400, 'InvalidInput', `Invalid input for operation: Requested MTU is too big, maximum is ${maxMtu}.`);
  const now = nowStamp();
  const obj: Obj = {
    ...attrs, id, status: 'ACTIVE', subnets: [], mtu,
    'provider:network_type': seg.type, 'provider:physical_network': seg.physicalNetwork, 'provider:segmentation_id': seg.segmentationId,
    availability_zones: [AVAILABILITY_ZONE], ipv4_address_scope: null, ipv6_address_scope: null, l2_adjacency: true,
    tags: [], created_at: now, updated_at: now, revision_number: 1,
  };
  await insertObj(tx, networkDef, obj);
  return obj;
}

export function networkBehaviour(ctx: NetworkContext, hooks: { beforeDelete: (tx: Db, net: Obj) => Promise<void> }): ResourceBehaviour {
  return {
    def: networkDef, alsoVisible, visibleTo,
    decorate: (objs) => decorate(ctx, objs),
    create: async (items) => {
      const made = await transact(ctx, async (tx) => {
        await checkQuotaForItems(ctx, tx, items, 'network');
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createOne(ctx, tx, attrs));
        return out;
      });
      for (const n of made) { ctx.notify('network.create.end', { network: n }); ctx.changed('network', n.id); }
      return made;
    },
    update: async (obj, attrs, caller) => {
      if (!caller.isAdmin && obj.project_id !== caller.projectId) throw forbidden(`You are not authorized to update network ${obj.id}`);
      if (attrs.mtu !== undefined) {
        const maxMtu = mtuFor(ctx.config, String(obj['provider:network_type']));
        if ((attrs.mtu as number) > maxMtu) throw netFault(400, 'InvalidInput', `Invalid input for operation: Requested MTU is too big, maximum is ${maxMtu}.`);
      }
      if (attrs.shared === false && obj.shared === true) {
        // Neutron refuses to unshare a network other projects have ports on.
        const others = await ctx.db.selectFrom('net_port').select('id').where('network_id', '=', obj.id)
          .where('project_id', '!=', String(obj.project_id)).where('device_owner', 'not like', 'network:%').limit(1).execute();
        if (others.length) throw netFault(409, 'InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${obj.id}. Multiple tenants are using it.`);
      }
      const next = await saveObj(ctx.db, networkDef, { ...obj, ...attrs });
      ctx.notify('network.update.end', { network: next });
      ctx.changed('network', obj.id);
      return next;
    },
    remove: async (obj, caller) => {
      if (!caller.isAdmin && obj.project_id !== caller.projectId) throw forbidden(`You are not authorized to delete network ${obj.id}`);
      await transact(ctx, async (tx) => {
        const busy = await tx.selectFrom('net_port').select('id').where('network_id', '=', obj.id)
          .where((eb) => eb.or([eb('device_owner', 'is', null), eb('device_owner', 'not in', ['network:dhcp'])])).limit(1).execute();
        if (busy.length) {
          throw netFault(409, 'NetworkInUse', `Unable to complete operation on network ${obj.id}. There are one or more ports still in use on the network.`);
        }
        await hooks.beforeDelete(tx, obj);
        await releaseSegment(tx, obj.id);
        await deleteObj(tx, networkDef, obj.id);
      });
      ctx.notify('network.delete.end', { network_id: obj.id });
      ctx.changed('network', obj.id);
    },
  };
}
