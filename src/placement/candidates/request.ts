/**
 * The request model of GET /allocation_candidates: request groups (the unsuffixed one, whose
 * resources may come from several providers of one tree or sharing providers, and granular
 * `resources<S>` groups, each satisfied by one provider) and request-wide parameters; parsed
 * from a query string with placement's rules for each microversion.
 */
import { badRequest, codes } from '../faults.js';
import { checkQuery, allValues, firstValue, lastValue, parseInTree, parseMemberOfParams, parseResources, parseTraitsParams, parseTraitsValue, type QueryValues } from '../query.js';
import type { Schema } from '../schema.js';

/** One request group. */
export interface RequestGroup {
  readonly suffix: string;
  /** True for granular (suffixed) groups: every resource from one provider. */
  readonly useSameProvider: boolean;
  resources: Map<string, number>;
  /** Trait sets: each needs one of its traits; all must hold. */
  requiredTraits: Set<string>[];
  forbiddenTraits: Set<string>;
  /** Aggregate sets: membership of one of each; all must hold. */
  memberOf: Set<string>[];
  forbiddenAggs: Set<string>;
  inTree?: string;
}

/** A whole allocation candidates request. */
export interface CandidateQuery {
  readonly groups: ReadonlyMap<string, RequestGroup>;
  readonly limit?: number;
  readonly groupPolicy?: 'none' | 'isolate';
  /** root_required: traits the tree's root must (not) have. */
  readonly rootRequired?: ReadonlySet<string>;
  readonly rootForbidden?: ReadonlySet<string>;
  /** same_subtree: each set of suffixes must be satisfied within one subtree. */
  readonly sameSubtrees?: readonly ReadonlySet<string>[];
}

export const newGroup = (suffix: string): RequestGroup => ({
  suffix, useSameProvider: suffix !== '', resources: new Map(), requiredTraits: [], forbiddenTraits: new Set(), memberOf: [], forbiddenAggs: new Set(),
});

const str: Schema = { type: 'string' };
const limitSchema: Schema = { type: ['integer', 'string'], pattern: '^[1-9][0-9]*$', minimum: 1, minLength: 1 };

/** The query schema of each microversion (placement/schemas/allocation_candidate.py). */
function schemaFor(minor: number): Schema {
  if (minor < 25) {
    const properties: Record<string, Schema> = { resources: str };
    if (minor >= 16) properties.limit = limitSchema;
    if (minor >= 17) properties.required = str;
    if (minor >= 21) properties.member_of = str;
    return { type: 'object', properties, required: ['resources'], additionalProperties: false };
  }
  const suffix = minor >= 33 ? '[a-zA-Z0-9_-]{1,64}' : '[1-9][0-9]*';
  const prefixes = minor >= 31 ? ['resources', 'required', 'member_of', 'in_tree'] : ['resources', 'required', 'member_of'];
  const properties: Record<string, Schema> = { limit: limitSchema, group_policy: { type: 'string', enum: ['none', 'isolate'] } };
  if (minor >= 35) properties.root_required = str;
  if (minor >= 36) properties.same_subtree = str;
  return {
    type: 'object', properties, additionalProperties: false,
    patternProperties: Object.fromEntries(prefixes.map((p) => [`^${p}(${suffix})?$`, str])),
  };
}

/** Parses GET /allocation_candidates' query at microversion 1.`minor` (≥ 10). */
export function parseCandidateQuery(q: QueryValues, minor: number): CandidateQuery {
  checkQuery(q, schemaFor(minor));
  const limitRaw = firstValue(q, 'limit');
  const limit = limitRaw === undefined ? undefined : Number(limitRaw);
  const groupPolicy = firstValue(q, 'group_policy') as 'none' | 'isolate' | undefined;

  let rootRequired: Set<string> | undefined;
  let rootForbidden: Set<string> | undefined;
  const roots = allValues(q, 'root_required');
  if (roots.length > 1) throw badRequest("Query parameter 'root_required' may be specified only once.", codes.ILLEGAL_DUPLICATE_QUERYPARAM);
  if (roots.length === 1) {
    const e = parseTraitsValue(roots[0]!, true, false);
    rootRequired = new Set(e.required.map((s) => [...s][0]!));
    rootForbidden = e.forbidden;
    const clash = [...rootForbidden].filter((t) => rootRequired!.has(t));
    if (clash.length) throw badRequest(`Conflicting required and forbidden traits found in root_required: ${clash.join(', ')}`, codes.QUERYPARAM_BAD_VALUE);
  }
  const sameSubtrees: Set<string>[] = [];
  for (const v of allValues(q, 'same_subtree')) {
    const s = new Set(v.split(',').map((x) => x.trim()));
    if (s.has('')) throw badRequest('Empty string (unsuffixed group) can not be specified in `same_subtree` ', codes.QUERYPARAM_BAD_VALUE);
    sameSubtrees.push(s);
  }

  const keyPattern = new RegExp(`^(resources|required|member_of|in_tree)(${minor >= 33 ? '[a-zA-Z0-9_-]{1,64}' : '[1-9][0-9]*'})?$`);
  const groups = new Map<string, RequestGroup>();
  for (const key of Object.keys(q)) {
    const m = keyPattern.exec(key);
    if (!m) continue;
    const [, prefix, suffix = ''] = m;
    let g = groups.get(suffix);
    if (!g) { g = newGroup(suffix); groups.set(suffix, g); }
    const value = lastValue(q, key)!;
    if (prefix === 'resources') g.resources = parseResources(value);
    else if (prefix === 'required') {
      const e = parseTraitsParams(q, key, minor);
      g.requiredTraits = e.required;
      g.forbiddenTraits = e.forbidden;
    } else if (prefix === 'member_of') {
      const e = parseMemberOfParams(q, key, minor);
      g.memberOf = e.memberOf;
      g.forbiddenAggs = e.forbidden;
    } else g.inTree = parseInTree(value);
  }

  if (minor >= 36) {
    const resourceless = [...groups.values()].filter((g) => g.resources.size === 0).map((g) => g.suffix);
    const subtreeSuffixes = new Set(sameSubtrees.flatMap((s) => [...s]));
    if (resourceless.length === groups.size) {
      throw badRequest('There must be at least one resources or resources[$S] parameter.', codes.QUERYPARAM_MISSING_VALUE);
    }
    const bad = resourceless.filter((s) => !subtreeSuffixes.has(s));
    if (bad.length) {
      throw badRequest(`Resourceless suffixed group request should be specified in \`same_subtree\` query param: bad group(s) - [${bad.map((s) => `'${s}'`).join(', ')}].`, codes.QUERYPARAM_BAD_VALUE);
    }
    const unknown = [...subtreeSuffixes].filter((s) => !groups.has(s));
    if (unknown.length) {
      throw badRequest(`Real suffixes should be specified in \`same_subtree\`: [${unknown.map((s) => `'${s}'`).join(', ')}] not found in [${[...groups.keys()].map((s) => `'${s}'`).join(', ')}].`, codes.QUERYPARAM_BAD_VALUE);
    }
  } else {
    const orphanTraits = [...groups.values()].filter((g) => g.requiredTraits.length && !g.resources.size).map((g) => `required${g.suffix}`);
    if (orphanTraits.length) throw badRequest(`All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanTraits.join(', ')}`);
    const orphanAggs = [...groups.values()].filter((g) => !g.resources.size && (g.memberOf.length || g.forbiddenAggs.size)).map((g) => `member_of${g.suffix}`);
    if (orphanAggs.length) throw badRequest(`All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanAggs.join(', ')}`);
    if ([...groups.values()].some((g) => !g.resources.size)) throw badRequest('All request groups must specify resources.');
    if (!groups.size) throw badRequest('At least one request group (`resources` or `resources{$S}`) is required.');
  }
  if (minor >= 22) {
    const clashes: string[] = [];
    for (const g of groups.values()) {
      for (const any of g.requiredTraits) if ([...any].every((t) => g.forbiddenTraits.has(t))) clashes.push(`required${g.suffix}: (${[...any].sort().join(', ')})`);
    }
    if (clashes.length) throw badRequest(`Conflicting required and forbidden traits found in the following traits keys: ${clashes.sort().join(', ')}`);
  }
  if (!groupPolicy && [...groups.values()].filter((g) => g.useSameProvider).length > 1) {
    throw badRequest('The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.');
  }
  return { groups, limit, groupPolicy, rootRequired, rootForbidden, sameSubtrees };
}
