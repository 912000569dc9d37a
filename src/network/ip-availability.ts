/**
 * Network IP availability (Neutron's `network-ip-availability` extension, admin only): per
 * network and per subnet, `total_ips` (the sizes of the allocation pools; the whole CIDR for a
 * subnet without pools) and `used_ips` (the addresses allocated), computed as Neutron does.
 * IPv6 totals exceed 2^53, so they are counted as bigints and written as exact JSON integers.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { NetworkContext } from './context.js';
import { parseCidr, parseIp, size } from './ipam/addr.js';
import type { Pool } from './ipam/pools.js';
import { networkDef } from './networks.js';
import { fieldsOf, type Query } from './resource/list.js';
import { callerOf } from './resource/routes.js';
import { findObjs } from './resource/store.js';
import type { Obj } from './resource/types.js';
import { subnetDef } from './subnets.js';

interface SubnetAvailability { subnet_id: string; subnet_name: string; cidr: string; ip_version: number; total_ips: bigint; used_ips: number }
interface NetworkAvailability {
  network_id: string; network_name: string; tenant_id: string; project_id: string;
  total_ips: bigint; used_ips: number; subnet_ip_availability: SubnetAvailability[];
}

const FIELDS = ['network_id', 'network_name', 'tenant_id', 'project_id', 'total_ips', 'used_ips', 'subnet_ip_availability'] as const;

/** Addresses a subnet offers: the sum of its pools' sizes, or its whole CIDR without pools. */
export function subnetTotal(subnet: Obj): bigint {
  const pools = (subnet.allocation_pools as Pool[] | undefined) ?? [];
  if (pools.length === 0) {
    const c = parseCidr(String(subnet.cidr));
    return c ? size(c) : 0n;
  }
  let total = 0n;
  for (const p of pools) {
    const a = parseIp(p.start); const b = parseIp(p.end);
    if (a && b && b.value >= a.value) total += b.value - a.value + 1n;
  }
  return total;
}

const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The availability of the networks matching Neutron's filters (network_id, network_name, project_id/tenant_id, ip_version). */
export async function ipAvailabilities(ctx: NetworkContext, query: Query): Promise<NetworkAvailability[]> {
  const ids = values(query.network_id);
  const names = values(query.network_name);
  const projects = [...values(query.project_id), ...values(query.tenant_id)];
  const versions = values(query.ip_version).map(Number);
  const where: Record<string, unknown> = {};
  if (ids.length) where.id = ids;
  if (names.length) where.name = names;
  if (projects.length) where.project_id = projects;
  const nets = (await findObjs(ctx.db, networkDef, where)).sort((a, b) => a.id.localeCompare(b.id));
  if (nets.length === 0) return [];
  const netIds = nets.map((n) => n.id);
  const subnets: Obj[] = [];
  const used = new Map<string, number>();
  // Bounded IN lists: some engines cap bound parameters per statement.
  for (let i = 0; i < netIds.length; i += 500) {
    const chunk = netIds.slice(i, i + 500);
    subnets.push(...await findObjs(ctx.db, subnetDef, { network_id: chunk }));
    const counts = await ctx.db.selectFrom('net_ip_allocation').select(['subnet_id', (eb) => eb.fn.countAll().as('n')])
      .where('network_id', 'in', chunk).groupBy('subnet_id').execute();
    for (const c of counts) used.set(String(c.subnet_id), Number(c.n));
  }
  const byNet = new Map<string, Obj[]>();
  for (const s of subnets.sort((a, b) => a.id.localeCompare(b.id))) {
    if (versions.length && !versions.includes(Number(s.ip_version))) continue;
    (byNet.get(String(s.network_id)) ?? byNet.set(String(s.network_id), []).get(String(s.network_id))!).push(s);
  }
  const out: NetworkAvailability[] = [];
  for (const n of nets) {
    const subs = byNet.get(n.id) ?? [];
    // With an ip_version filter a network shows only through a subnet of that version (Neutron's inner filter on the join).
    if (versions.length && subs.length === 0) continue;
    const subnetAvail = subs.map((s) => ({
      subnet_id: s.id, ip_version: Number(s.ip_version), cidr: String(s.cidr), subnet_name: String(s.name ?? ''),
      used_ips: used.get(s.id) ?? 0, total_ips: subnetTotal(s),
    }));
    out.push({
      network_id: n.id, network_name: String(n.name ?? ''), tenant_id: String(n.project_id), project_id: String(n.project_id),
      subnet_ip_availability: subnetAvail,
      used_ips: subnetAvail.reduce((a, s) => a + s.used_ips, 0),
      total_ips: subnetAvail.reduce((a, s) => a + s.total_ips, 0n),
    });
  }
  return out;
}

/** JSON text with bigints written as exact integers (JSON.stringify refuses bigints). */
export function toJson(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const pick = (a: NetworkAvailability, fields: readonly string[]): Record<string, unknown> => {
  const wanted = fields.filter((f) => (FIELDS as readonly string[]).includes(f));
  return wanted.length ? Object.fromEntries(wanted.map((f) => [f, a[f as keyof NetworkAvailability]])) : { ...a };
};

const sendJson = (reply: FastifyReply, body: unknown): FastifyReply => reply.type('application/json').send(toJson(body));

/** GET /v2.0/network-ip-availabilities[/{network_id}]. */
export function registerIpAvailability(app: FastifyInstance, ctx: NetworkContext): void {
  const base = '/v2.0/network-ip-availabilities';
  app.get(base, async (req, reply) => {
    const caller = callerOf(ctx, req);
    const query = req.query as Query;
    // Admin only; Neutron filters everything out of a list rather than refusing it.
    const list = caller.isAdmin ? await ipAvailabilities(ctx, query) : [];
    return sendJson(reply, { network_ip_availabilities: list.map((a) => pick(a, fieldsOf(query))) });
  });
  app.get(`${base}/:network_id`, async (req, reply) => {
    const caller = callerOf(ctx, req);
    const id = (req.params as { network_id: string }).network_id;
    const found = caller.isAdmin ? (await ipAvailabilities(ctx, { network_id: id }))[0] : undefined;
    if (!found) throw networkDef.notFound(id);
    return sendJson(reply, { network_ip_availability: pick(found, fieldsOf(req.query as Query)) });
  });
}
