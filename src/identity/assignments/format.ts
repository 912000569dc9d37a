import type { Identity } from '../identity.js';
import type { AssignmentRef } from './list.js';
import { findDomain, findGroup, findUser, requireDomain, requireProject, requireRole, roleDomainId } from './refs.js';

/** Names of the entities of one assignment (`include_names`), as Keystone adds them. */
export interface AssignmentNames {
  user?: { name: string; domain: { id: string; name: string } };
  group?: { name: string; domain: { id: string; name: string } };
  project?: { name: string; domain: { id: string; name: string } };
  domain?: { name: string };
  role?: { name: string; domain?: { id: string; name: string } };
}

/** Looks names up with per-request caches; missing users and groups get empty names, as in Keystone. */
export class NameResolver {
  #cache = new Map<string, Promise<unknown>>();
  constructor(private readonly id: Identity) {}

  #once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.#cache.get(key) as Promise<T> | undefined;
    if (!p) { p = f(); this.#cache.set(key, p); }
    return p;
  }

  domainName(domainId: string): Promise<string> {
    return this.#once(`d:${domainId}`, async () => (await requireDomain(this.id, domainId)).name);
  }

  /** The names for one assignment (a missing project, domain or role is a 404, as in Keystone). */
  async names(ref: AssignmentRef): Promise<AssignmentNames> {
    const out: AssignmentNames = {};
    if (ref.domain_id) out.domain = { name: await this.domainName(ref.domain_id) };
    if (ref.user_id) {
      const u = await this.#once(`u:${ref.user_id}`, () => findUser(this.id, ref.user_id!));
      out.user = u
        ? { name: u.name, domain: { id: u.domain_id, name: await this.#domainNameOrEmpty(u.domain_id) } }
        : { name: '', domain: { id: '', name: '' } };
    }
    if (ref.group_id) {
      const g = await this.#once(`g:${ref.group_id}`, () => findGroup(this.id, ref.group_id!));
      out.group = g
        ? { name: g.name, domain: { id: g.domain_id, name: await this.#domainNameOrEmpty(g.domain_id) } }
        : { name: '', domain: { id: '', name: '' } };
    }
    if (ref.project_id) {
      const p = await this.#once(`p:${ref.project_id}`, () => requireProject(this.id, ref.project_id!));
      out.project = { name: p.name, domain: { id: p.domain_id, name: await this.domainName(p.domain_id) } };
    }
    const role = await this.#once(`r:${ref.role_id}`, () => requireRole(this.id, ref.role_id));
    const roleDomain = roleDomainId(role);
    out.role = roleDomain ? { name: role.name, domain: { id: roleDomain, name: await this.domainName(roleDomain) } } : { name: role.name };
    return out;
  }

  async #domainNameOrEmpty(domainId: string): Promise<string> {
    const d = await this.#once(`dn:${domainId}`, () => findDomain(this.id, domainId));
    return d?.name ?? '';
  }
}

/**
 * The API form of an assignment (Keystone's `_format_entity`): actor, scope, role and
 * `links.assignment` — the URL of the grant behind it — plus `links.membership` for assignments
 * that come from a group and `links.prior_role` for implied ones (with Keystone's own path).
 * `base` is the API root, e.g. http://host/v3.
 */
export function formatAssignment(ref: AssignmentRef, base: string, names?: AssignmentNames): Record<string, unknown> {
  const links: Record<string, string> = {};
  const entity: Record<string, unknown> = { links };
  let scope: Record<string, unknown> = {};
  let link = '';
  let inherited = ref.inherited_to_projects === 'projects';
  if (ref.project_id !== undefined) {
    scope = {
      project: names?.project
        ? { id: ref.project_id, name: names.project.name, domain: names.project.domain }
        : { id: ref.project_id },
    };
    if (ref.indirect?.domain_id !== undefined) {
      inherited = true;
      link = `/domains/${ref.indirect.domain_id}`;
    } else if (ref.indirect?.project_id !== undefined) {
      inherited = true;
      link = `/projects/${ref.indirect.project_id}`;
    } else {
      link = `/projects/${ref.project_id}`;
    }
  } else if (ref.domain_id !== undefined) {
    scope = { domain: names?.domain ? { id: ref.domain_id, name: names.domain.name } : { id: ref.domain_id } };
    link = `/domains/${ref.domain_id}`;
  } else if (ref.system) {
    link = '/system';
    scope = { system: ref.system };
  }
  entity.scope = scope;

  if (ref.user_id !== undefined) {
    entity.user = names?.user ? { id: ref.user_id, name: names.user.name, domain: names.user.domain } : { id: ref.user_id };
    if (ref.indirect?.group_id !== undefined) {
      links.membership = `${base}/groups/${ref.indirect.group_id}/users/${ref.user_id}`;
      link += `/groups/${ref.indirect.group_id}`;
    } else {
      link += `/users/${ref.user_id}`;
    }
  } else if (ref.group_id !== undefined) {
    entity.group = names?.group ? { id: ref.group_id, name: names.group.name, domain: names.group.domain } : { id: ref.group_id };
    link += `/groups/${ref.group_id}`;
  }

  entity.role = names?.role
    ? { id: ref.role_id, name: names.role.name, ...(names.role.domain ? { domain: names.role.domain } : {}) }
    : { id: ref.role_id };
  let priorRoleLink = '';
  if (ref.indirect?.role_id !== undefined) {
    link += `/roles/${ref.indirect.role_id}`;
    // Keystone's path puts the implied role where the prior one belongs; clients see it so.
    priorRoleLink = `/prior_role/${ref.role_id}/implies/${ref.indirect.role_id}`;
  } else {
    link += `/roles/${ref.role_id}`;
  }

  if (inherited) {
    scope['OS-INHERIT:inherited_to'] = 'projects';
    link = `/OS-INHERIT${link}/inherited_to_projects`;
  }
  links.assignment = `${base}${link}`;
  if (priorRoleLink) links.prior_role = `${base}${priorRoleLink}`;
  return entity;
}
