import type { Identity } from '../identity.js';
import { NULL_DOMAIN } from '../store/schema.js';
import { groupMemberIds, projectSubtree, projectsInDomain } from './hierarchy.js';
import { projectAncestors, userGroupIds } from './effective.js';
import { requireProject, requireUser } from './refs.js';

/**
 * One role assignment as Keystone's assignment manager handles it: an actor, a target and a role,
 * `inherited_to_projects` for OS-INHERIT grants, and `indirect` recording where an expanded
 * (effective) assignment came from — a group, an inheriting domain/project or a prior role.
 */
export interface AssignmentRef {
  user_id?: string;
  group_id?: string;
  project_id?: string;
  domain_id?: string;
  system?: { all: true };
  role_id: string;
  inherited_to_projects?: 'projects';
  indirect?: { group_id?: string; project_id?: string; domain_id?: string; role_id?: string };
}

/** The filters of `list_role_assignments`, as in Keystone's assignment manager. */
export interface ListAssignmentsParams {
  role_id?: string;
  user_id?: string;
  group_id?: string;
  /** 'all' selects system assignments; any other value is ignored, as Keystone does. */
  system?: string;
  domain_id?: string;
  project_id?: string;
  include_subtree?: boolean;
  /** true: only inherited (OS-INHERIT) grants; false: only non-inherited; undefined: both. */
  inherited?: boolean;
  effective?: boolean;
  /** Internal: only assignments sourced from these groups, not expanded to members (effective only). */
  source_from_group_ids?: string[];
  /** Effective mode drops domain-specific roles (they never reach tokens) unless this is false. */
  strip_domain_roles?: boolean;
}

const USER_TYPES = ['UserProject', 'UserDomain'];
const GROUP_TYPES = ['GroupProject', 'GroupDomain'];
const PROJECT_TYPES = ['UserProject', 'GroupProject'];
const DOMAIN_TYPES = ['UserDomain', 'GroupDomain'];
const ALL_TYPES = [...PROJECT_TYPES, ...DOMAIN_TYPES];

interface DriverQuery {
  role_id?: string;
  user_id?: string;
  group_ids?: string[];
  domain_id?: string;
  project_ids?: string[];
  inherited?: boolean;
}

const nonEmpty = <T>(a: T[] | undefined): a is T[] => !!a && a.length > 0;

/** Project and domain assignments matching a query (Keystone's SQL assignment driver). */
async function driverList(id: Identity, q: DriverQuery): Promise<AssignmentRef[]> {
  const actorTypes = q.user_id ? USER_TYPES : nonEmpty(q.group_ids) ? GROUP_TYPES : [];
  const targetTypes = nonEmpty(q.project_ids) ? PROJECT_TYPES : q.domain_id ? DOMAIN_TYPES : [];
  let types = ALL_TYPES;
  if (actorTypes.length && targetTypes.length) types = actorTypes.filter((t) => targetTypes.includes(t));
  else if (actorTypes.length || targetTypes.length) types = actorTypes.length ? actorTypes : targetTypes;
  const actors = nonEmpty(q.group_ids) ? q.group_ids : q.user_id ? [q.user_id] : undefined;
  const targets = nonEmpty(q.project_ids) ? q.project_ids : q.domain_id ? [q.domain_id] : undefined;
  if (types.length === 0) return [];
  let query = id.db.selectFrom('assignment').selectAll().where('type', 'in', types);
  if (q.role_id) query = query.where('role_id', '=', q.role_id);
  if (actors) query = query.where('actor_id', 'in', actors);
  if (targets) query = query.where('target_id', 'in', targets);
  if (q.inherited !== undefined) query = query.where('inherited', '=', q.inherited ? 1 : 0);
  const rows = await query.execute();
  return rows.map((r) => {
    const ref: AssignmentRef = { role_id: r.role_id };
    if (r.type.startsWith('User')) ref.user_id = r.actor_id;
    else ref.group_id = r.actor_id;
    if (r.type.endsWith('Project')) ref.project_id = r.target_id;
    else ref.domain_id = r.target_id;
    if (r.inherited) ref.inherited_to_projects = 'projects';
    // Keystone builds these dicts key by key; keep its key order for identical JSON.
    return reorder(ref);
  });
}

function reorder(ref: AssignmentRef): AssignmentRef {
  const out: AssignmentRef = {} as AssignmentRef;
  for (const k of ['user_id', 'group_id', 'project_id', 'domain_id', 'system', 'role_id', 'inherited_to_projects', 'indirect'] as const) {
    if (ref[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = ref[k];
  }
  return out;
}

/** Ids of the roles that exist among `ids`. */
async function existingRoleIds(id: Identity, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await id.db.selectFrom('role').select('id').where('id', 'in', ids).execute();
  return rows.map((r) => r.id);
}

/** System assignments (Keystone keeps them apart from project/domain ones). */
async function systemAssignments(id: Identity, p: ListAssignmentsParams): Promise<AssignmentRef[]> {
  let out: AssignmentRef[];
  if (p.user_id || p.group_id) {
    const actor = (p.user_id ?? p.group_id)!;
    const rows = await id.db.selectFrom('assignment').select('role_id')
      .where('type', '=', p.user_id ? 'UserSystem' : 'GroupSystem').where('actor_id', '=', actor).where('target_id', '=', 'system').execute();
    const roleIds = await existingRoleIds(id, rows.map((r) => r.role_id));
    out = roleIds.map((rid) => (p.user_id ? { system: { all: true }, user_id: actor, role_id: rid } : { system: { all: true }, group_id: actor, role_id: rid }));
  } else {
    const rows = await id.db.selectFrom('assignment').selectAll().where('type', 'in', ['UserSystem', 'GroupSystem']).where('target_id', '=', 'system').execute();
    out = rows.map((r) => (r.type === 'GroupSystem'
      ? { group_id: r.actor_id, role_id: r.role_id, system: { all: true } }
      : { user_id: r.actor_id, role_id: r.role_id, system: { all: true } }));
  }
  return p.role_id ? out.filter((a) => a.role_id === p.role_id) : out;
}

async function listDirect(id: Identity, p: ListAssignmentsParams, subtree: string[] | undefined): Promise<AssignmentRef[]> {
  const projectIds = p.project_id ? (nonEmpty(subtree) ? [...subtree, p.project_id] : [p.project_id]) : undefined;
  const system = p.system === 'all';
  const refs = system ? [] : await driverList(id, {
    role_id: p.role_id, user_id: p.user_id, group_ids: p.group_id ? [p.group_id] : undefined,
    domain_id: p.domain_id, project_ids: projectIds, inherited: p.inherited,
  });
  if (system || (!p.project_id && !p.domain_id)) refs.push(...(await systemAssignments(id, p)));
  return refs;
}

/** Assignments of an actor (or of everyone) that can affect the given target, before expansion. */
async function listForActor(id: Identity, q: {
  inherited?: boolean; user_id?: string; group_ids?: string[]; project_id?: string; subtree?: string[]; domain_id?: string;
}): Promise<AssignmentRef[]> {
  const ofInterest = q.project_id ? (nonEmpty(q.subtree) ? [...q.subtree, q.project_id] : [q.project_id]) : undefined;
  const out: AssignmentRef[] = [];
  if (q.inherited !== true) {
    out.push(...(await driverList(id, { domain_id: q.domain_id, project_ids: ofInterest, user_id: q.user_id, group_ids: q.group_ids, inherited: false })));
  }
  if (q.inherited !== false) {
    if (q.project_id) {
      // The project and its subtree share one domain; inherited grants can only come from that
      // domain, from the project's parents, or (with a subtree) from inside the subtree.
      const project = await requireProject(id, q.project_id);
      out.push(...(await driverList(id, { domain_id: project.domain_id, user_id: q.user_id, group_ids: q.group_ids, inherited: true })));
      const sources = await projectAncestors(id, q.project_id);
      if (nonEmpty(q.subtree)) sources.push(...ofInterest!);
      if (sources.length) {
        out.push(...(await driverList(id, { project_ids: sources, user_id: q.user_id, group_ids: q.group_ids, inherited: true })));
      }
    } else {
      out.push(...(await driverList(id, { user_id: q.user_id, group_ids: q.group_ids, inherited: true })));
    }
  }
  return out;
}

const clone = (ref: AssignmentRef): AssignmentRef => JSON.parse(JSON.stringify(ref)) as AssignmentRef;

function groupToUser(base: AssignmentRef, userId: string): AssignmentRef {
  const ref = clone(base);
  ref.user_id = userId;
  ref.indirect = { ...(ref.indirect ?? {}), group_id: ref.group_id };
  delete ref.group_id;
  return reorder(ref);
}

async function expandGroup(id: Identity, ref: AssignmentRef, userId: string | undefined): Promise<AssignmentRef[]> {
  if (userId) return [groupToUser(ref, userId)];
  return (await groupMemberIds(id, ref.group_id!)).map((u) => groupToUser(ref, u));
}

function inheritedOnto(base: AssignmentRef, projectId: string): AssignmentRef {
  const ref = clone(base);
  const indirect = ref.indirect ?? {};
  if (ref.project_id) indirect.project_id = ref.project_id;
  else indirect.domain_id = ref.domain_id;
  delete ref.project_id;
  delete ref.domain_id;
  ref.indirect = indirect;
  ref.project_id = projectId;
  delete ref.inherited_to_projects;
  return reorder(ref);
}

/** Expands one assignment: group → its members, inherited → the projects it reaches. */
async function expandIndirect(id: Identity, ref: AssignmentRef, userId: string | undefined, projectId: string | undefined,
  subtree: string[] | undefined, expandGroups: boolean): Promise<AssignmentRef[]> {
  if (ref.inherited_to_projects === 'projects') {
    let projectIds: string[];
    if (projectId) {
      projectIds = [projectId];
      if (nonEmpty(subtree)) {
        projectIds.push(...subtree);
        // An inheriting project inside the subtree reaches only its own part of it.
        if (ref.project_id && projectIds.includes(ref.project_id)) projectIds = await projectSubtree(id, ref.project_id);
      }
    } else if (ref.domain_id) {
      projectIds = await projectsInDomain(id, ref.domain_id);
    } else {
      projectIds = await projectSubtree(id, ref.project_id!);
    }
    const out: AssignmentRef[] = [];
    if (ref.group_id !== undefined && expandGroups) {
      for (const member of await expandGroup(id, ref, userId)) out.push(...projectIds.map((p) => inheritedOnto(member, p)));
    } else {
      out.push(...projectIds.map((p) => inheritedOnto(ref, p)));
    }
    return out;
  }
  if (ref.group_id !== undefined && expandGroups) return expandGroup(id, ref, userId);
  return [ref];
}

/** Adds, for every assignment, copies for the roles its role implies (transitively), recording the prior role. */
async function addImpliedRoles(id: Identity, refs: AssignmentRef[]): Promise<AssignmentRef[]> {
  const rows = await id.db.selectFrom('implied_role').selectAll().execute();
  const rules = new Map<string, string[]>();
  for (const r of rows) rules.set(r.prior_role_id, [...(rules.get(r.prior_role_id) ?? []), r.implied_role_id]);
  const results = [...refs];
  const toCheck = [...refs];
  const checked = new Set<string>();
  while (toCheck.length) {
    const next = toCheck.pop()!;
    checked.add(JSON.stringify(next));
    for (const implied of rules.get(next.role_id) ?? []) {
      const copy = clone(next);
      copy.role_id = implied;
      copy.indirect = { ...(copy.indirect ?? {}), role_id: next.role_id };
      const ref = reorder(copy);
      // An equal assignment already examined means a cycle of implications.
      if (checked.has(JSON.stringify(ref))) continue;
      results.push(ref);
      toCheck.push(ref);
    }
  }
  return results;
}

async function stripDomainRoles(id: Identity, refs: AssignmentRef[]): Promise<AssignmentRef[]> {
  const ids = [...new Set(refs.map((r) => r.role_id))];
  if (!ids.length) return refs;
  const rows = await id.db.selectFrom('role').select(['id', 'domain_id']).where('id', 'in', ids).execute();
  const global = new Set(rows.filter((r) => r.domain_id === NULL_DOMAIN).map((r) => r.id));
  return refs.filter((r) => global.has(r.role_id));
}

async function listEffective(id: Identity, p: ListAssignmentsParams, subtree: string[] | undefined): Promise<AssignmentRef[]> {
  // Group filters, and inherited grants on a domain, can never show in effective mode.
  if (p.group_id || (p.domain_id && p.inherited)) return [];
  if (p.user_id && p.source_from_group_ids) throw new Error('Cannot list assignments sourced from groups and filtered by user ID.');
  const inherited = p.domain_id ? false : p.inherited;
  const direct = await listForActor(id, {
    inherited, user_id: p.user_id, group_ids: p.source_from_group_ids, project_id: p.project_id, subtree, domain_id: p.domain_id,
  });
  const viaGroups: AssignmentRef[] = [];
  if (!p.source_from_group_ids && p.user_id) {
    await requireUser(id, p.user_id);
    const groups = await userGroupIds(id, p.user_id);
    if (groups.length) {
      viaGroups.push(...(await listForActor(id, { inherited, group_ids: groups, project_id: p.project_id, subtree, domain_id: p.domain_id })));
    }
  }
  let refs: AssignmentRef[] = [];
  const expandGroups = p.source_from_group_ids === undefined;
  for (const ref of [...direct, ...viaGroups]) refs.push(...(await expandIndirect(id, ref, p.user_id, p.project_id, subtree, expandGroups)));
  refs = await addImpliedRoles(id, refs);
  if (p.strip_domain_roles !== false) refs = await stripDomainRoles(id, refs);
  if (p.role_id) refs = refs.filter((r) => r.role_id === p.role_id);
  return refs;
}

/**
 * Keystone's `list_role_assignments`: direct assignments matching the filters, or in effective
 * mode the assignments that actually reach users — group grants expanded to members, inherited
 * grants to the projects below, implied roles added and domain-specific roles removed. System
 * assignments only appear in direct mode, as in Keystone.
 */
export async function listRoleAssignments(id: Identity, p: ListAssignmentsParams): Promise<AssignmentRef[]> {
  const subtree = p.project_id && p.include_subtree ? await projectSubtree(id, (await requireProject(id, p.project_id)).id) : undefined;
  return p.effective ? listEffective(id, p, subtree) : listDirect(id, p, subtree);
}
