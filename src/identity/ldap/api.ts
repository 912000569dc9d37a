/**
 * What the users and groups APIs ask of LDAP-backed domains: listings, lookups by public id,
 * memberships and the read-only refusals, rendered as Keystone renders LDAP entities.
 */
import type { FastifyRequest } from 'fastify';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import { applyFilters } from '../api/listing.js';
import { withLink } from '../resources/entity.js';
import { applyLimit, expiryMatches, filterBool, inexact, parseExpiryFilter } from '../resources/query.js';
import { notFound, unauthorized } from '../../platform/http/faults.js';
import { ldapDomains, type LdapGroup, type LdapUser } from './backend.js';
import { checkLdapPassword } from './auth.js';
import { crossBackend, ldapGroupRef, ldapUserRef, readOnlyLdap } from './render.js';

type Obj = Record<string, unknown>;
type Listing = { items: Obj[]; truncated: boolean };

/** Whether a domain is backed by LDAP. */
export const isLdapDomain = (id: Identity, domainId: string): Promise<boolean> => ldapDomains(id).isLdap(domainId);

/** An LDAP user's API form (no links) by public id; undefined for anything else. */
export async function findLdapUser(id: Identity, userId: string): Promise<Obj | undefined> {
  const u = await ldapDomains(id).getUser(userId);
  return u ? ldapUserRef(u) : undefined;
}

/** An LDAP group's API form (no links) by public id; undefined for anything else. */
export async function findLdapGroup(id: Identity, groupId: string): Promise<Obj | undefined> {
  const g = await ldapDomains(id).getGroup(groupId);
  return g ? ldapGroupRef(g) : undefined;
}

/** Keystone's exact `name` filter reaches the directory, whose matching ignores case. */
const nameIs = (name: string) => (x: { name: string }) => x.name.toLowerCase() === name.toLowerCase();
const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/**
 * GET /v3/users (and /v3/groups/{id}/users) when the listing concerns an LDAP-backed domain:
 * the `domain_id` filter, or the token's domain scope, names one, or `groupId` is an LDAP
 * group. Undefined when the listing is the SQL backend's.
 */
export async function listLdapUsers(id: Identity, req: FastifyRequest, ctx: TokenContext, q: Record<string, string>, groupId?: string): Promise<Listing | undefined> {
  const l = ldapDomains(id);
  if (!(await l.domainIds()).length) return undefined;
  let users: LdapUser[];
  if (groupId !== undefined) {
    const g = await l.getGroup(groupId);
    if (!g) return undefined;
    users = await l.membersOf(g);
  } else {
    const domainId = q.domain_id ?? ctx.domain?.id;
    if (domainId === undefined || !(await l.isLdap(domainId))) return undefined;
    users = await l.listUsers(domainId);
  }
  const expiry = 'password_expires_at' in q ? parseExpiryFilter(q.password_expires_at) : undefined;
  if ('domain_id' in q) users = users.filter((u) => u.domainId === q.domain_id);
  if (ctx.domain) users = users.filter((u) => u.domainId === ctx.domain!.id);
  if ('name' in q) users = users.filter(nameIs(q.name));
  if ('enabled' in q) users = users.filter((u) => u.enabled === filterBool(q.enabled));
  // Directory users have no password expiry, which no expiry filter matches.
  if (expiry) users = users.filter(() => expiryMatches(expiry, null));
  const items = applyFilters([...users].sort(byName).map((u) => withLink(req, 'users', ldapUserRef(u))), inexact(q), ['name', 'domain_id']);
  return applyLimit(id, items);
}

/** GET /v3/groups when its `domain_id` filter (or the token's domain scope) names an LDAP-backed domain. */
export async function listLdapGroups(id: Identity, req: FastifyRequest, ctx: TokenContext, q: Record<string, string>): Promise<Listing | undefined> {
  const l = ldapDomains(id);
  const domainId = q.domain_id ?? ctx.domain?.id;
  if (domainId === undefined || !(await l.isLdap(domainId))) return undefined;
  let groups = await l.listGroups(domainId);
  if (ctx.domain && ctx.domain.id !== domainId) groups = [];
  if ('name' in q) groups = groups.filter(nameIs(q.name));
  const items = applyFilters([...groups].sort(byName).map((g) => withLink(req, 'groups', ldapGroupRef(g))), inexact(q), ['name', 'domain_id']);
  return applyLimit(id, items);
}

/** GET /v3/users/{id}/groups for an LDAP user: the directory groups naming it as a member. */
export async function listLdapGroupsOfUser(id: Identity, req: FastifyRequest, ctx: TokenContext, q: Record<string, string>, userId: string): Promise<Listing | undefined> {
  const l = ldapDomains(id);
  const u = await l.getUser(userId);
  if (!u) return undefined;
  let groups: LdapGroup[] = await l.groupsOf(u);
  if ('name' in q) groups = groups.filter(nameIs(q.name));
  if (ctx.domain) groups = groups.filter((g) => g.domainId === ctx.domain!.id);
  const items = applyFilters([...groups].sort(byName).map((g) => ({ ...withLink(req, 'groups', ldapGroupRef(g)), membership_expires_at: null })), inexact(q), ['name']);
  return applyLimit(id, items);
}

/**
 * A membership route (/v3/groups/{g}/users/{u}) where the group or the user is LDAP's: the two
 * policy-target forms, each when it exists, and whether the user is a member. Undefined when
 * neither is a directory entity.
 */
export async function ldapMembership(id: Identity, groupId: string, userId: string, sql: { group?: Obj; user?: Obj })
  : Promise<{ group?: Obj; user?: Obj; ldapGroup: boolean; ldapUser: boolean; member: () => Promise<boolean> } | undefined> {
  const l = ldapDomains(id);
  if (!(await l.domainIds()).length) return undefined;
  const g = sql.group ? undefined : await l.getGroup(groupId);
  const u = sql.user ? undefined : await l.getUser(userId);
  if (!g && !u) return undefined;
  return {
    group: sql.group ?? (g && ldapGroupRef(g)), user: sql.user ?? (u && ldapUserRef(u)), ldapGroup: !!g, ldapUser: !!u,
    member: async () => !!g && !!u && (await l.membersOf(g)).some((m) => m.publicId === u.publicId),
  };
}

/**
 * Answers a membership route involving an LDAP entity as Keystone does: 404 for a missing group
 * or user, 403 across backends (CrossBackendNotAllowed); a check resolves when the user is a
 * member (404 otherwise); a change is refused as the backend is read-only.
 */
export async function answerLdapMembership(m: NonNullable<Awaited<ReturnType<typeof ldapMembership>>>, groupId: string, userId: string, op: 'check' | 'write'): Promise<void> {
  if (!m.group) throw notFound(`Could not find group: ${groupId}.`);
  if (!m.user) throw notFound(`Could not find user: ${userId}.`);
  if (m.ldapGroup !== m.ldapUser) throw crossBackend(groupId, userId);
  if (op === 'write') throw readOnlyLdap();
  if (!(await m.member())) throw notFound(`User '${userId}' not found in group '${groupId}'`);
}

/**
 * POST /v3/users/{id}/password for an LDAP user: Keystone checks the original password first
 * (401 when wrong), then refuses the change because the backend is read-only.
 * Undefined when the user is not a directory user.
 */
export async function refuseLdapPasswordChange(id: Identity, userId: string, original: string): Promise<Error | undefined> {
  const u = await ldapDomains(id).getUser(userId);
  if (!u) return undefined;
  if (!(await checkLdapPassword(id, u, original))) return unauthorized('Error when changing user password: Invalid user / password');
  return readOnlyLdap();
}

export { readOnlyLdap };
