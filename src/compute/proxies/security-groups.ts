/**
 * Nova's security group proxy APIs (deprecated; 404 from microversion 2.36): `/os-security-groups`
 * (list — `all_tenants` for an admin, `limit`/`offset` — create, show, update, delete),
 * `/os-security-group-rules` (create, delete) and, at every microversion, a server's groups
 * `/servers/{id}/os-security-groups`. Everything passes through to the network service with the
 * caller's token, in Nova's shapes: a group shows only its ingress rules, each with either
 * `ip_range` (its CIDR, 0.0.0.0/0 when open) or `group` (the remote group's name and project);
 * rules take `ip_protocol` tcp/udp/icmp with `from_port`/`to_port` (-1 for any ICMP type/code),
 * Nova's own checks run first (port ranges, protocols, CIDRs, an identical rule), and the network
 * service's refusals map as Nova maps them (a group in use or the `default` group: 400).
 */
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { params, type ComputeRoutes } from '../api/http.js';
import { isUuidLike } from '../api/actions.js';
import { multiParams, nonNegativeInteger, queryLists, validateBody, validateQuery, type Schema } from '../api/schema.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import type { NetSecurityGroup, NetSecurityGroupRule, NetworkClient } from '../clients/network.js';
import type { ServersApiDeps } from '../servers/api.js';
import { callerNetwork, capVersion, netCall, queryHas, queryLast } from './common.js';
import { visibleInstance } from '../servers/lookup.js';

export const sgRule = (op: string): string => `os_compute_api:os-security-groups:${op}`;

/** A remote group as a rule shows it. */
export interface GroupRef { readonly name: string; readonly tenant_id: string }

/** A network service rule as Nova's security group API reads it. */
interface NovaRule {
  readonly id: string;
  readonly parent_group_id: string;
  readonly protocol: string | null;
  readonly from_port: number | null;
  readonly to_port: number | null;
  readonly group_id: string | null;
  readonly cidr: string;
}

function novaRule(r: NetSecurityGroupRule): NovaRule {
  let from = r.port_range_min ?? null;
  let to = r.port_range_max ?? null;
  // A protocol without ports is every port (tcp/udp 1-65535) or every type and code (-1).
  if (r.protocol && from === null && to === null) {
    const ports = ['TCP', 'UDP'].includes(String(r.protocol).toUpperCase());
    from = ports ? 1 : -1;
    to = ports ? 65535 : -1;
  }
  return {
    id: r.id, parent_group_id: r.security_group_id, protocol: r.protocol ?? null, from_port: from, to_port: to,
    group_id: r.remote_group_id ?? null, cidr: r.remote_ip_prefix ?? '0.0.0.0/0',
  };
}

const ingressRules = (g: NetSecurityGroup): NovaRule[] => (g.security_group_rules ?? []).filter((r) => r.direction === 'ingress').map(novaRule);

function ruleView(r: NovaRule, group: GroupRef | undefined): Record<string, unknown> {
  return {
    id: r.id, parent_group_id: r.parent_group_id, ip_protocol: r.protocol, from_port: r.from_port, to_port: r.to_port,
    group: group ? { name: group.name, tenant_id: group.tenant_id } : {},
    ip_range: group ? {} : { cidr: r.cidr },
  };
}

const groupRef = (g: NetSecurityGroup): GroupRef => ({ name: g.name, tenant_id: g.tenant_id ?? g.project_id });

/**
 * The remote groups the groups' rules name, as the caller sees them: the groups themselves, then
 * the others read from the network service (a group the caller cannot see is absent — its rules
 * are left out, as Nova does).
 */
export async function remoteGroups(net: NetworkClient, groups: readonly NetSecurityGroup[]): Promise<Map<string, GroupRef>> {
  const known = new Map(groups.map((g) => [g.id, groupRef(g)]));
  const missing = [...new Set(groups.flatMap((g) => ingressRules(g).map((r) => r.group_id)).filter((id): id is string => !!id && !known.has(id)))];
  for (let k = 0; k < missing.length; k += 100) {
    for (const g of await net.securityGroups({ id: missing.slice(k, k + 100) })) known.set(g.id, groupRef(g));
  }
  return known;
}

/** A group in Nova's shape. */
export function groupView(g: NetSecurityGroup, remotes: ReadonlyMap<string, GroupRef>): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  for (const r of ingressRules(g)) {
    if (!r.group_id) { rules.push(ruleView(r, undefined)); continue; }
    const remote = remotes.get(r.group_id);
    if (remote) rules.push(ruleView(r, remote));
  }
  return { id: g.id, description: g.description ?? '', name: g.name, tenant_id: g.tenant_id ?? g.project_id, rules };
}

/** Nova's order of group lists: by project, then name. */
export const byTenantAndName = (a: Record<string, unknown>, b: Record<string, unknown>): number => {
  const ka = [String(a.tenant_id), String(a.name)];
  const kb = [String(b.tenant_id), String(b.name)];
  return ka[0]! < kb[0]! ? -1 : ka[0]! > kb[0]! ? 1 : ka[1]! < kb[1]! ? -1 : ka[1]! > kb[1]! ? 1 : 0;
};

/** Nova's validate_id: group and rule ids are UUIDs. */
function checkId(id: string): string {
  if (!isUuidLike(id)) throw badRequest('Security group id should be uuid');
  return id;
}

/** A group the caller may see, or Nova's 404 with the network service's message. */
async function getGroup(net: NetworkClient, id: string): Promise<NetSecurityGroup> {
  const g = await netCall(() => net.securityGroup(id));
  if (!g) throw notFound(`Security group ${id} does not exist`);
  return g;
}

const GROUP_BODY: Schema = {
  type: 'object',
  properties: {
    security_group: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 0, maxLength: 255 }, description: { type: 'string', minLength: 0, maxLength: 255 } },
      required: ['name', 'description'],
    },
  },
  required: ['security_group'],
};

const RULE_BODY: Schema = {
  type: 'object',
  properties: {
    security_group_rule: {
      type: 'object',
      properties: { group_id: { type: ['string', 'null'], format: 'uuid' }, parent_group_id: { type: 'string', format: 'uuid' } },
      required: ['parent_group_id'],
    },
  },
  required: ['security_group_rule'],
};

const INDEX_QUERY: Schema = {
  type: 'object',
  properties: { limit: multiParams(nonNegativeInteger), offset: multiParams(nonNegativeInteger), all_tenants: multiParams({ type: 'string' }) },
};

/** Python's int() of a port value as Nova's rule checks apply it; undefined when it is not one. */
function portInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/** Nova's parse_cidr: empty is 0.0.0.0/0; otherwise an address/prefix (URL-unquoted). */
function parseCidr(cidr: unknown): string {
  if (cidr === undefined || cidr === null || cidr === '' || cidr === 0 || cidr === false) return '0.0.0.0/0';
  let s: string;
  try { s = decodeURIComponent(String(cidr)); } catch { throw badRequest(`${String(cidr)} is not a valid IP network.`); }
  const [addr, prefix, ...rest] = s.split('/');
  const version = isIP(addr ?? '');
  const max = version === 6 ? 128 : 32;
  if (typeof cidr !== 'string' || rest.length || !version || prefix === undefined || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
    throw badRequest(`${s} is not a valid IP network.`);
  }
  return s;
}

/** A rule to create, as Nova's _new_ingress_rule builds it. */
interface NewRule { group_id?: string; cidr?: string; protocol?: string; from_port?: number; to_port?: number }

/** Nova's _new_ingress_rule: the rule, null when a CIDR rule lacks protocol or ports; 400 for bad values. */
function newIngressRule(ipProtocol: unknown, fromPort: unknown, toPort: unknown, target: { groupId?: string; cidr?: string }): NewRule | null {
  const out: NewRule = {};
  let from = fromPort ?? null;
  let to = toPort ?? null;
  if (target.groupId) {
    out.group_id = target.groupId;
    // A source group without ports opens every port (or every ICMP type and code).
    const proto = ipProtocol ? String(ipProtocol).toUpperCase() : '';
    if (from === null && to === null) {
      if (proto === 'ICMP') { from = -1; to = -1; } else if (proto === 'TCP' || proto === 'UDP') { from = 1; to = 65535; }
    }
  } else if (target.cidr) {
    out.cidr = target.cidr;
  }
  if (ipProtocol && from !== null && to !== null) {
    const protocol = String(ipProtocol);
    const upper = protocol.toUpperCase();
    const f = portInt(from);
    const t = portInt(to);
    if (f === undefined || t === undefined) {
      throw badRequest(`Invalid input received: ${upper === 'ICMP' ? 'Type and Code must be integers for ICMP protocol type' : 'To and From ports must be integers'}`);
    }
    if (!['TCP', 'UDP', 'ICMP'].includes(upper)) throw badRequest(`Invalid IP protocol ${protocol}.`);
    if (upper !== 'ICMP' && f > t) throw badRequest(`Invalid port range ${f}:${t}. Former value cannot be greater than the later`);
    if (upper !== 'ICMP' && (f < 1 || t > 65535)) throw badRequest(`Invalid port range ${f}:${t}. Valid ${upper} ports should be between 1-65535`);
    if (upper === 'ICMP' && (f < -1 || f > 255 || t < -1 || t > 255)) throw badRequest(`Invalid port range ${f}:${t}. For ICMP, the type:code must be valid`);
    out.protocol = protocol;
    out.from_port = f;
    out.to_port = t;
  } else if (target.cidr) {
    return null;
  }
  return out;
}

/** The id of a rule of `group` identical to `rule` (Nova's _rule_exists), if any. */
function existingRule(group: NetSecurityGroup, rule: NewRule): string | undefined {
  const lower = (p: string | null | undefined) => (p ? p.toLowerCase() : null);
  return ingressRules(group).find((r) => (r.group_id ?? null) === (rule.group_id ?? null)
    && (rule.group_id ? true : r.cidr === rule.cidr)
    && r.from_port === (rule.from_port ?? null) && r.to_port === (rule.to_port ?? null)
    && lower(r.protocol) === lower(rule.protocol))?.id;
}

export function registerSecurityGroups(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const id = (req: FastifyRequest) => params<{ id: string }>(req).id;
  const accepted = (reply: FastifyReply) => { reply.status(202); return reply.send(); };

  routes.get('/os-security-groups', async (req) => {
    capVersion(req);
    validateQuery(INDEX_QUERY, queryLists(req.query));
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('get'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    // Nova lists every project's groups for an admin who names all_tenants (any value), else the caller's project's.
    const all = caller.isAdmin && queryHas(req, 'all_tenants');
    const groups = await netCall(() => net.securityGroups(all ? {} : { project_id: caller.projectId }));
    const offset = Number(queryLast(req, 'offset') ?? 0);
    const limit = Math.min(ctx.maxLimit, Number(queryLast(req, 'limit') ?? 0) || ctx.maxLimit);
    const page = groups.slice(offset, offset + limit);
    const remotes = await netCall(() => remoteGroups(net, page));
    return { security_groups: page.map((g) => groupView(g, remotes)).sort(byTenantAndName) };
  });

  routes.post('/os-security-groups', async (req) => {
    capVersion(req);
    validateBody(GROUP_BODY, req.body);
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('create'), { project_id: caller.projectId });
    const { name, description } = (req.body as { security_group: { name: string; description: string } }).security_group;
    const net = callerNetwork(d.network, req);
    const made = await netCall(() => net.createSecurityGroup({ name, description }), (r) => {
      if (r.status === 400 || r.status === 401) return badRequest(r.message);
      if (r.status === 409) return forbidden(r.message);
      return undefined;
    });
    return { security_group: groupView(made, await netCall(() => remoteGroups(net, [made]))) };
  });

  routes.get('/os-security-groups/:id', async (req) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('show'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const g = await getGroup(net, checkId(id(req)));
    return { security_group: groupView(g, await netCall(() => remoteGroups(net, [g]))) };
  });

  routes.put('/os-security-groups/:id', async (req) => {
    capVersion(req);
    validateBody(GROUP_BODY, req.body);
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('update'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const g = await getGroup(net, checkId(id(req)));
    const { name, description } = (req.body as { security_group: { name: string; description: string } }).security_group;
    const next = await netCall(() => net.updateSecurityGroup(g.id, { name, description }), (r) => {
      if (r.status === 404) return notFound(r.message);
      // Renaming `default` and other refusals of the change itself are the caller's error.
      if (r.status === 400 || r.status === 401 || r.status === 409) return badRequest(r.message);
      return undefined;
    });
    return { security_group: groupView(next, await netCall(() => remoteGroups(net, [next]))) };
  });

  routes.delete('/os-security-groups/:id', async (req, reply) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('delete'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const g = await getGroup(net, checkId(id(req)));
    // In use by a port, or the project's `default` group: the network service's 409 is Nova's 400.
    await netCall(() => net.deleteSecurityGroup(g.id), (r) => (r.status === 409 ? badRequest(r.message) : undefined));
    return accepted(reply);
  });

  routes.post('/os-security-group-rules', async (req) => {
    capVersion(req);
    validateBody(RULE_BODY, req.body);
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('rule:create'), { project_id: caller.projectId });
    const body = (req.body as { security_group_rule: Record<string, unknown> }).security_group_rule;
    const groupId = (body.group_id ?? null) as string | null;
    const net = callerNetwork(d.network, req);
    const parent = await getGroup(net, body.parent_group_id as string);
    const source = groupId !== null ? await getGroup(net, groupId) : undefined;
    const rule = groupId !== null
      ? newIngressRule(body.ip_protocol, body.from_port, body.to_port, { groupId })
      : newIngressRule(body.ip_protocol, body.from_port, body.to_port, { cidr: parseCidr(body.cidr) });
    if (rule === null) throw badRequest('Not enough parameters to build a valid rule.');
    if (rule.cidr !== undefined) {
      const [net0, prefix] = rule.cidr.split('/');
      if (net0 !== '0.0.0.0' && net0 !== '::' && Number(prefix) === 0) throw badRequest(`Bad prefix for network in cidr ${rule.cidr}`);
    }
    if (existingRule(parent, rule)) throw badRequest(`This rule already exists in group ${parent.id}`);
    const made = await netCall(() => net.createSecurityGroupRule({
      direction: 'ingress', security_group_id: parent.id, protocol: rule.protocol?.toLowerCase() ?? null,
      ethertype: rule.cidr?.includes(':') ? 'IPv6' : 'IPv4', remote_ip_prefix: rule.cidr ?? null, remote_group_id: rule.group_id ?? null,
      ...(rule.from_port !== undefined && rule.from_port !== -1 ? { port_range_min: rule.from_port } : {}),
      ...(rule.to_port !== undefined && rule.to_port !== -1 ? { port_range_max: rule.to_port } : {}),
    }), (r) => {
      if (r.status === 404) return notFound(r.message);
      if (r.status === 409) return forbidden(r.message);
      if (r.status === 400) return badRequest(r.message);
      return undefined;
    });
    return { security_group_rule: ruleView(novaRule(made), source ? groupRef(source) : undefined) };
  });

  routes.delete('/os-security-group-rules/:id', async (req, reply) => {
    capVersion(req);
    const caller = routes.caller(req);
    ctx.authorize(caller, sgRule('rule:delete'), { project_id: caller.projectId });
    const net = callerNetwork(d.network, req);
    const ruleId = checkId(id(req));
    const rule = await netCall(() => net.securityGroupRule(ruleId));
    if (!rule) throw notFound(`Security group rule ${ruleId} does not exist`);
    await getGroup(net, rule.security_group_id); // its group must be there too (Nova reads it)
    await netCall(() => net.deleteSecurityGroupRule(rule.id));
    return accepted(reply);
  });

  // A server's groups: those of its ports, as the caller sees them (not a proxy-only API: every microversion).
  routes.get('/servers/:server_id/os-security-groups', async (req) => {
    const caller = routes.caller(req);
    const inst = await visibleInstance(ctx, caller, params<{ server_id: string }>(req).server_id, sgRule('list'));
    const net = callerNetwork(d.network, req);
    const ports = await netCall(() => net.ports({ device_id: inst.uuid }));
    const ids = [...new Set(ports.flatMap((p) => p.security_groups ?? []))];
    const groups: NetSecurityGroup[] = [];
    for (let k = 0; k < ids.length; k += 100) groups.push(...await netCall(() => net.securityGroups({ id: ids.slice(k, k + 100) })));
    const remotes = await netCall(() => remoteGroups(net, groups));
    return { security_groups: groups.map((g) => groupView(g, remotes)).sort(byTenantAndName) };
  });
}
