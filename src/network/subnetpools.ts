/**
 * Subnet pools (Neutron's `subnet_allocation` and `default-subnetpools` extensions): a set of
 * prefixes from which subnets are carved by size (`prefixlen`) or by CIDR, with Neutron's
 * prefix-length bounds, per-project prefix quota, one default pool per IP version, and prefixes
 * that may only grow. Allocation is race-free across API processes: every allocation from a pool
 * first locks the pool's row, then reads what the pool has handed out.
 */
import { randomUUID } from 'node:crypto';
import { badRequest } from '../platform/http/faults.js';
import type { Caller, NetworkContext } from './context.js';
import { badAttr, netFault, notFoundOf } from './faults.js';
import { formatCidr, formatIp, parseCidr, parseIp, type Cidr, type Version } from './ipam/addr.js';
import { freeBlocks, isFree, mergeCidrs, pickSubnet, rangesOfCidrs, subtractRanges } from './ipam/cidr-set.js';
import { standardAttributes } from './resource/body.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, integer, integerOrNone, isUuid, string, type Check } from './resource/validate.js';

const MAX_INT = 2 ** 31 - 1;
const BITS: Readonly<Record<Version, number>> = { 4: 32, 6: 128 };
/** Neutron's default minimum prefix length per version (and so the default prefix length). */
const DEFAULT_MIN: Readonly<Record<Version, number>> = { 4: 8, 6: 64 };
/** Quota is counted in /32s for IPv4 and /64s for IPv6 (Neutron's quota units). */
const QUOTA_UNIT: Readonly<Record<Version, number>> = { 4: 32, 6: 64 };

/** Neutron's `not_empty_string`. */
const notEmptyString: Check<string> = (v, attr) => {
  const s = string(255)(v, attr);
  if (s.trim() === '') throw badAttr(attr, `'${s}' Blank strings are not permitted`);
  return s;
};

/** Neutron's `validate_subnet` on one prefix: an address with a length; IPv4 written canonically. */
function prefixOf(v: unknown, attr: string): Cidr {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  const c = typeof v === 'string' && !/\s/.test(v) ? parseCidr(v) : undefined;
  if (!c) throw badAttr(attr, `'${text}' is not a valid IP subnet`);
  const [addr, len] = text.split('/');
  const ip = parseIp(addr ?? '');
  if (len === undefined || (c.version === 4 && `${formatIp(4, ip!.value)}/${c.prefix}` !== text)) {
    throw badAttr(attr, `'${text}' isn't a recognized IP subnet cidr, '${formatCidr(c)}' is recommended`);
  }
  return c;
}

/** Neutron's `subnet_list`: a list without duplicates whose items are subnets (kept as given, canonical). */
const prefixList: Check<string[]> = (v, attr) => {
  if (!Array.isArray(v)) throw badAttr(attr, `'${JSON.stringify(v)}' is not a list`);
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const x of v) { const k = JSON.stringify(x); if (seen.has(k)) dups.add(String(x)); seen.add(k); }
  if (dups.size) throw badAttr(attr, `Duplicate items in the list: '${[...dups].join(', ')}'`);
  return v.map((x) => formatCidr(prefixOf(x, attr)));
};

/** Address scopes are not offered: only null is accepted (a named scope is a clear 400). */
const noAddressScope: Check<null> = (v, attr) => {
  if (v === null) return null;
  if (!isUuid(v)) throw badAttr(attr, `'${String(v)}' is not a valid UUID`);
  throw badRequest(`Invalid input for ${attr}. Reason: address scopes are not supported by this cloud.`);
};

const prefixlen = integer(0, MAX_INT);

export const subnetPoolDef: ResourceDef = {
  member: 'subnetpool', collection: 'subnetpools', table: 'net_subnetpool',
  columns: { shared: 'shared', default_for_version: 'default_for_version' },
  notFound: (id) => notFoundOf('SubnetPoolNotFound', `Subnet pool ${id} could not be found.`),
  attributes: {
    ...standardAttributes(),
    name: { post: true, put: true, required: true, check: notEmptyString },
    prefixes: { post: true, put: true, required: true, check: prefixList, filter: false },
    default_quota: { post: true, put: true, default: null, check: integerOrNone(0, MAX_INT) },
    ip_version: { post: false, put: false },
    default_prefixlen: { post: true, put: true, check: prefixlen },
    min_prefixlen: { post: true, put: true, check: prefixlen },
    max_prefixlen: { post: true, put: true, check: prefixlen },
    is_default: { post: true, put: true, default: false, check: boolean },
    shared: { post: true, put: false, default: false, check: boolean },
    address_scope_id: { post: true, put: true, default: null, check: noAddressScope },
    // The IP version while the pool is its version's default, else null: a unique column, so
    // two pools racing to become the default cannot both win.
    default_for_version: { post: false, put: false, visible: 'none' },
  },
};

const policy = (rule: string) => netFault(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);

/** Prefixes, their version and the prefix-length bounds, checked as Neutron's SubnetPoolReader does. */
interface Settled { ip_version: Version; prefixes: string[]; min_prefixlen: number; max_prefixlen: number; default_prefixlen: number }

function settle(prefixes: readonly string[], given: { min?: number; max?: number; dflt?: number }): Settled {
  if (prefixes.length === 0) throw netFault(400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
  const cidrs = prefixes.map((p) => parseCidr(p)!);
  const version = cidrs[0]!.version;
  if (cidrs.some((c) => c.version !== version)) throw netFault(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  const min = given.min ?? DEFAULT_MIN[version];
  const max = given.max ?? BITS[version];
  const dflt = given.dflt ?? min;
  const bounds = (type: string, len: number, baseType: string, base: number) =>
    netFault(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: ${type}=${len}, ${baseType}=${base}.`);
  if (min > max) throw bounds('min_prefixlen', min, 'max_prefixlen', max);
  if (max > BITS[version]) throw bounds('max_prefixlen', max, 'ip_version_max', BITS[version]);
  if (dflt < min) throw bounds('default_prefixlen', dflt, 'min_prefixlen', min);
  if (dflt > max) throw bounds('default_prefixlen', dflt, 'max_prefixlen', max);
  return { ip_version: version, prefixes: mergeCidrs(version, cidrs).map(formatCidr), min_prefixlen: min, max_prefixlen: max, default_prefixlen: dflt };
}

/** The pool's row read for update: PostgreSQL/MariaDB lock it; SQLite runs one writer at a time anyway. */
async function lockPool(ctx: NetworkContext, tx: Db, id: string): Promise<Obj | undefined> {
  if (typeof id !== 'string' || id.length > 64) return undefined;
  let q = tx.selectFrom('net_subnetpool').select('body').where('id', '=', id);
  if (ctx.engine !== 'sqlite') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? JSON.parse(String(row.body)) as Obj : undefined;
}

/**
 * The subnets allocated from a pool (CIDR and owner). Called with the pool's row locked, so every
 * earlier allocation has committed; on MariaDB a locking read is needed to see them, since a
 * plain read there returns the transaction's older snapshot.
 */
async function allocationsOf(ctx: NetworkContext, tx: Db, poolId: string): Promise<{ cidr: Cidr; projectId: string }[]> {
  let q = tx.selectFrom('net_subnet').select(['body', 'project_id']).where('subnetpool_id', '=', poolId);
  if (ctx.engine === 'mysql') q = q.forUpdate();
  return (await q.execute()).map((r) => ({ cidr: parseCidr(String((JSON.parse(String(r.body)) as Obj).cidr))!, projectId: String(r.project_id) }));
}

/** 400 when `version` already has a default pool (other than `exceptId`). */
async function ensureNoDefault(tx: Db, version: Version, exceptId?: string): Promise<void> {
  const found = (await findObjs(tx, subnetPoolDef, { default_for_version: version })).filter((p) => p.id !== exceptId);
  if (found.length) {
    throw netFault(400, 'InvalidInput', 'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.');
  }
}

const canUse = (pool: Obj, caller: Caller): boolean => caller.isAdmin || pool.project_id === caller.projectId || pool.shared === true;

async function createPool(tx: Db, attrs: Record<string, unknown>, caller: Caller): Promise<Obj> {
  // Neutron enforces these policies only for a value other than the default.
  if (!caller.isAdmin && attrs.shared === true) throw policy('create_subnetpool:shared');
  if (!caller.isAdmin && attrs.is_default === true) throw policy('create_subnetpool:is_default');
  const s = settle(attrs.prefixes as string[], { min: attrs.min_prefixlen as number | undefined, max: attrs.max_prefixlen as number | undefined, dflt: attrs.default_prefixlen as number | undefined });
  if (attrs.is_default === true) await ensureNoDefault(tx, s.ip_version);
  const now = nowStamp();
  const obj: Obj = {
    ...attrs, ...s, id: randomUUID(), default_for_version: attrs.is_default === true ? s.ip_version : null,
    tags: [], created_at: now, updated_at: now, revision_number: 0,
  };
  await insertObj(tx, subnetPoolDef, obj);
  return obj;
}

async function updatePool(ctx: NetworkContext, tx: Db, id: string, attrs: Record<string, unknown>): Promise<Obj> {
  const current = await lockPool(ctx, tx, id);
  if (!current) throw subnetPoolDef.notFound(id);
  let prefixes = current.prefixes as string[];
  if (attrs.prefixes !== undefined) {
    const next = (attrs.prefixes as string[]).map((p) => parseCidr(p)!);
    const old = prefixes.map((p) => parseCidr(p)!);
    const sameVersion = next.filter((c) => c.version === current.ip_version);
    if (subtractRanges(rangesOfCidrs(old), rangesOfCidrs(sameVersion)).length > 0) {
      throw netFault(400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.');
    }
    prefixes = attrs.prefixes as string[];
  }
  const pick = (k: string) => (attrs[k] !== undefined ? attrs[k] : current[k]) as number;
  const s = settle(prefixes, { min: pick('min_prefixlen'), max: pick('max_prefixlen'), dflt: pick('default_prefixlen') });
  const isDefault = attrs.is_default !== undefined ? attrs.is_default === true : current.is_default === true;
  if (isDefault && current.is_default !== true) await ensureNoDefault(tx, s.ip_version, id);
  return saveObj(tx, subnetPoolDef, { ...current, ...attrs, ...s, is_default: isDefault, default_for_version: isDefault ? s.ip_version : null });
}

/** Neutron renders the prefix lengths as strings. */
function decorate(objs: Obj[]): Promise<void> {
  for (const o of objs) {
    const r = o as Record<string, unknown>;
    for (const k of ['default_prefixlen', 'min_prefixlen', 'max_prefixlen']) if (typeof r[k] === 'number') r[k] = String(r[k]);
  }
  return Promise.resolve();
}

/** The subnet pools collection. */
export function subnetPoolBehaviour(ctx: NetworkContext): ResourceBehaviour {
  const owns = (obj: Obj, caller: Caller) => caller.isAdmin || obj.project_id === caller.projectId;
  return {
    def: subnetPoolDef,
    visibleTo: (obj) => obj.shared === true,
    alsoVisible: (db, _caller, where) => findObjs(db, subnetPoolDef, { ...where, shared: true }),
    decorate: (objs) => decorate(objs),
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createPool(tx, attrs, caller));
        return out;
      });
      for (const p of made) ctx.notify('subnetpool.create.end', { subnetpool: p });
      return made;
    },
    update: async (obj, attrs, caller) => {
      if (!owns(obj, caller)) throw policy('update_subnetpool');
      if (!caller.isAdmin && attrs.is_default !== undefined) throw policy('update_subnetpool:is_default');
      const saved = await transact(ctx, (tx) => updatePool(ctx, tx, obj.id, attrs));
      ctx.notify('subnetpool.update.end', { subnetpool: saved });
      return saved;
    },
    remove: async (obj, caller) => {
      if (!owns(obj, caller)) throw policy('delete_subnetpool');
      await transact(ctx, async (tx) => {
        if (!await lockPool(ctx, tx, obj.id)) throw subnetPoolDef.notFound(obj.id);
        // Neutron (Zed) answers SubnetPoolDeleteError, a 400, while subnets use the pool.
        if ((await allocationsOf(ctx, tx, obj.id)).length) throw netFault(400, 'SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.');
        await deleteObj(tx, subnetPoolDef, obj.id);
      });
      ctx.notify('subnetpool.delete.end', { subnetpool_id: obj.id });
    },
  };
}

/** What a subnet create takes from a pool: the pool, and the CIDR when the pool chose it. */
export interface PoolChoice { readonly subnetpoolId: string; readonly cidr?: string }

const subnetsBad = (msg: string) => badRequest(`Bad subnets request: ${msg}.`);

/** The pool a subnet create names: `subnetpool_id`, or the default of its version for `use_default_subnetpool`. */
async function poolIdOf(tx: Db, attrs: Record<string, unknown>, caller: Caller): Promise<string | undefined> {
  const id = (attrs.subnetpool_id as string | null | undefined) ?? undefined;
  if (attrs.use_default_subnetpool !== true) return id;
  if (id) throw subnetsBad('subnetpool_id and use_default_subnetpool cannot both be specified');
  const version = attrs.cidr !== undefined ? parseCidr(String(attrs.cidr))?.version ?? attrs.ip_version : attrs.ip_version;
  const pools = (await findObjs(tx, subnetPoolDef, { default_for_version: Number(version) })).filter((p) => canUse(p, caller));
  if (pools.length === 0) throw subnetsBad(`No default subnetpool found for IPv${String(version)}`);
  return pools[0]!.id;
}

/**
 * The subnet pool part of a subnet create, in its transaction: undefined when no pool is asked
 * for; otherwise the pool, locked, with the request checked against it (version, prefix-length
 * bounds, the project's prefix quota) and the CIDR chosen — the start of the smallest free block
 * that holds the requested (or default) prefix length — or, for a given CIDR (or gateway), that
 * CIDR checked to lie in free space of the pool.
 */
export async function subnetFromPool(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>, caller: Caller): Promise<PoolChoice | undefined> {
  const hasCidr = attrs.cidr !== undefined;
  if (hasCidr && attrs.prefixlen !== undefined) throw subnetsBad('cidr and prefixlen must not be supplied together');
  const poolId = await poolIdOf(tx, attrs, caller);
  if (!poolId) return undefined;
  if (!hasCidr && attrs.allocation_pools !== undefined) throw subnetsBad('allocation_pools allowed only for specific subnet requests');
  const pool = await lockPool(ctx, tx, poolId);
  if (!pool || !canUse(pool, caller)) throw subnetPoolDef.notFound(poolId);
  const version = pool.ip_version as Version;
  if (attrs.ip_version !== version) throw subnetsBad(`Cannot allocate IPv${String(attrs.ip_version)} subnet from IPv${version} subnet pool`);

  let want: Cidr | undefined;
  let chosen = false;
  if (hasCidr) {
    want = parseCidr(String(attrs.cidr));
    if (!want) throw badAttr('cidr', `'${String(attrs.cidr)}' is not a valid IP subnet`);
  } else if (typeof attrs.gateway_ip === 'string') {
    // A gateway without a CIDR asks for the block of the pool's (or the given) size around it.
    want = parseCidr(`${attrs.gateway_ip}/${(attrs.prefixlen as number | undefined) ?? Number(pool.default_prefixlen)}`);
    if (!want || want.version !== version) throw subnetsBad(`Gateway ${attrs.gateway_ip} does not fit the subnet pool`);
    chosen = true;
  }
  const len = want ? want.prefix : (attrs.prefixlen as number | undefined) ?? Number(pool.default_prefixlen);
  if (len > Number(pool.max_prefixlen)) {
    throw netFault(400, 'MaxPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${len}, maximum allowed prefix is ${String(pool.max_prefixlen)}.`);
  }
  if (len < Number(pool.min_prefixlen)) {
    throw netFault(400, 'MinPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${len}, minimum allowed prefix is ${String(pool.min_prefixlen)}.`);
  }

  const taken = await allocationsOf(ctx, tx, poolId);
  const quota = pool.default_quota as number | null;
  // As in Neutron, a quota of 0 (like none) does not limit.
  if (quota) {
    const units = (l: number) => 2 ** (QUOTA_UNIT[version] - l);
    const owner = String(attrs.project_id ?? caller.projectId);
    const used = taken.filter((t) => t.projectId === owner).reduce((n, t) => n + units(t.cidr.prefix), 0);
    if (used + units(len) > quota) throw netFault(409, 'SubnetPoolQuotaExceeded', 'Per-tenant subnet pool prefix quota exceeded.');
  }
  const free = freeBlocks(version, (pool.prefixes as string[]).map((p) => parseCidr(p)!), taken.map((t) => t.cidr));
  if (!want) {
    const got = pickSubnet(free, len);
    if (!got) throw netFault(409, 'SubnetAllocationError', `Failed to allocate subnet: Insufficient prefix space to allocate subnet size /${len}.`);
    return { subnetpoolId: poolId, cidr: formatCidr(got) };
  }
  if (want.version !== version || !isFree(free, want)) {
    throw netFault(400, 'SubnetAllocationError', 'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.');
  }
  return { subnetpoolId: poolId, cidr: chosen ? formatCidr(want) : undefined };
}

/**
 * Neutron's NetworkSubnetPoolAffinityError: the subnets of one IP version on a network all come
 * from the same pool, or none of them from a pool.
 */
export function checkPoolAffinity(siblings: readonly Obj[], version: number, subnetpoolId: string | undefined): void {
  for (const s of siblings) {
    if (s.ip_version !== version) continue;
    if ((s.subnetpool_id ?? undefined) !== subnetpoolId) {
      throw netFault(400, 'NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
    }
  }
}
