/**
 * `GET /v2/images`: the query string parsed the way Glance parses it, and turned into one SQL
 * query that applies visibility, filters, sorting and marker paging in the database.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { badRequest } from '../platform/http/faults.js';
import type { ImageDB, ImageRow } from './store/schema.js';

/** Who lists: their project (owner) and whether they are an admin (`context_is_admin`). */
export interface Caller { readonly projectId: string | null; readonly isAdmin: boolean }

const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
type SortKey = (typeof SORT_KEYS)[number];
type Dir = 'asc' | 'desc';
const INT_COLUMNS = new Set(['size', 'virtual_size', 'min_ram', 'min_disk']);
/** Columns compared with `in:`/`eq:` operators. */
const OP_COLUMNS = new Set(['name', 'id', 'status', 'container_format', 'disk_format']);
/** Other image columns a filter compares for equality (anything else is an extra property). */
const EQ_COLUMNS = new Set(['size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'min_disk', 'min_ram', 'owner']);
const TIME_OPS: Readonly<Record<string, string>> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '<>' };
const VISIBILITIES = ['community', 'public', 'private', 'shared', 'all'];
const MEMBER_STATUSES = ['pending', 'accepted', 'rejected', 'all'];

/** A parsed list request. */
export interface ListQuery {
  readonly limit: number;
  readonly marker?: string;
  readonly memberStatus: string;
  readonly visibility?: string;
  readonly sort: ReadonlyArray<readonly [SortKey, Dir]>;
  readonly osHidden: boolean;
  readonly protected?: boolean;
  readonly equals: ReadonlyArray<readonly [string, string]>;
  readonly inList: ReadonlyArray<readonly [string, readonly string[]]>;
  readonly times: ReadonlyArray<readonly [string, string, string]>;
  readonly ranges: ReadonlyArray<readonly [string, '>=' | '<=', number]>;
  readonly properties: ReadonlyArray<readonly [string, string]>;
  readonly tags: readonly string[];
}

/** Glance's `split_filter_op`: `op:value`, except an ISO time with colons is a plain value. */
export function splitFilterOp(expression: string): [string, string] {
  const i = expression.indexOf(':');
  if (i < 0) return ['eq', expression];
  if (parseIsoTime(expression)) return ['eq', expression];
  return [expression.slice(0, i), expression.slice(i + 1)];
}

/** Values of an `in:` filter: comma separated, double quotes protect commas. */
export function splitInValues(list: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of list) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) { out.push(cur); cur = ''; } else cur += ch;
  }
  if (quoted) throw badRequest('Invalid filter value: the quotes are not closed.');
  out.push(cur);
  return out;
}

/** An ISO-8601 time (date, optional time, optional zone) as a Date; undefined when not one. */
export function parseIsoTime(s: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s.trim());
  if (!m) return undefined;
  const zone = m[8] ? (m[8].toUpperCase() === 'Z' ? 'Z' : m[8].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z';
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? ''}${zone}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A time in the stored form (microseconds, UTC), so text comparison is time comparison. */
export const storedTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const sortKey = (key: string): SortKey => {
  if (!(SORT_KEYS as readonly string[]).includes(key)) {
    throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  }
  return key as SortKey;
};
const sortDir = (dir: string): Dir => {
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
  return dir;
};

function parseSort(params: URLSearchParams): Array<[SortKey, Dir]> {
  const keys: SortKey[] = [];
  const dirs: Dir[] = [];
  if (params.has('sort')) {
    if (params.has('sort_key') || params.has('sort_dir')) throw badRequest('Old and new sorting syntax cannot be combined');
    for (const part of params.get('sort')!.trim().split(',')) {
      const [key, dir] = [part.split(':')[0]!, part.includes(':') ? part.slice(part.indexOf(':') + 1) : ''];
      keys.push(sortKey(key.trim()));
      dirs.push(sortDir((dir || 'desc').trim()));
    }
  } else {
    for (const k of params.getAll('sort_key')) keys.push(sortKey(k.trim()));
    for (const d of params.getAll('sort_dir')) dirs.push(sortDir(d.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
  }
  if (keys.length === 0) keys.push('created_at');
  const fallbackDir: Dir = dirs.length === 1 ? dirs[0]! : 'desc';
  const out: Array<[SortKey, Dir]> = keys.map((k, i) => [k, dirs.length > 1 ? dirs[i]! : fallbackDir]);
  // Glance always breaks ties by created_at then id, in the default direction.
  for (const k of ['created_at', 'id'] as const) if (!keys.includes(k)) out.push([k, fallbackDir]);
  return out;
}

const boolFilter = (name: string, v: string): boolean => {
  const s = v.toLowerCase();
  if (s !== 'true' && s !== 'false') throw badRequest(`Invalid value '${v}' for '${name}' filter. Valid values are 'true' or 'false'.`);
  return s === 'true';
};

/** Parses the query string of `GET /v2/images`; bad values are 400 faults with Glance's messages. */
export function parseListQuery(params: URLSearchParams, limits: { defaultLimit: number; maxLimit: number }): ListQuery {
  let limit = limits.defaultLimit;
  const rawLimit = params.get('limit');
  if (rawLimit !== null) {
    if (!/^\s*[+-]?\d+\s*$/.test(rawLimit)) throw badRequest('limit param must be an integer');
    const n = Number(rawLimit);
    if (n < 0) throw badRequest('limit param must be positive');
    limit = n;
  }
  limit = Math.min(limit, limits.maxLimit);
  const memberStatus = params.get('member_status') ?? 'accepted';
  if (!MEMBER_STATUSES.includes(memberStatus)) throw badRequest(`Invalid status: ${memberStatus}`);
  const visibility = params.get('visibility') || undefined;
  if (visibility !== undefined && !VISIBILITIES.includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
  if (params.has('changes-since')) throw badRequest('The "changes-since" filter is no longer available on v2.');
  const sort = parseSort(params);

  const q = {
    limit, memberStatus, visibility, sort, osHidden: false, protected: undefined as boolean | undefined,
    marker: params.get('marker') ?? undefined,
    equals: [] as Array<[string, string]>, inList: [] as Array<[string, string[]]>, times: [] as Array<[string, string, string]>,
    ranges: [] as Array<[string, '>=' | '<=', number]>, properties: [] as Array<[string, string]>,
    tags: params.getAll('tag').map((t) => t.trim()),
  };
  const handled = new Set(['limit', 'marker', 'member_status', 'visibility', 'sort', 'sort_key', 'sort_dir', 'tag', 'deleted']);
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (handled.has(key) || seen.has(key)) continue;
    seen.add(key);
    // Like Glance (a dict of the query), the last value of a repeated filter wins.
    const all = params.getAll(key);
    const value = all[all.length - 1]!;
    if (key === 'os_hidden') q.osHidden = boolFilter(key, value);
    else if (key === 'protected') q.protected = boolFilter(key, value);
    else if ((key.endsWith('_min') || key.endsWith('_max')) && INT_COLUMNS.has(key.slice(0, -4))) {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) throw badRequest('Unable to filter on a range with a non-numeric value.');
      q.ranges.push([key.slice(0, -4), key.endsWith('_min') ? '>=' : '<=', Number(value)]);
    } else if (key === 'created_at' || key === 'updated_at') {
      const [op, iso] = splitFilterOp(value);
      const t = parseIsoTime(iso);
      if (!t) throw badRequest(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
      const sqlOp = TIME_OPS[op];
      if (!sqlOp) throw badRequest('Unable to filter on a unknown operator.');
      q.times.push([key, sqlOp, storedTime(t)]);
    } else if (OP_COLUMNS.has(key)) {
      const [op, v] = splitFilterOp(value);
      if (op === 'in') q.inList.push([key, splitInValues(v)]);
      else if (op === 'eq') q.equals.push([key, v]);
      else throw badRequest(`Unable to filter by unknown operator '${op}'.`);
    } else if (EQ_COLUMNS.has(key)) {
      q.equals.push([key, value]);
    } else {
      q.properties.push([key, value]);
    }
  }
  return q;
}

type EB = ExpressionBuilder<ImageDB & { i: ImageRow }, 'i'>;

/** Which images a caller may see (Glance's `is_image_visible`), as a condition on alias `i`. */
export function visibleTo(eb: EB, caller: Caller, memberStatus?: string): Expression<SqlBool> {
  if (caller.isAdmin) return sql<SqlBool>`1 = 1`;
  const ors: Expression<SqlBool>[] = [eb('i.visibility', 'in', ['public', 'community'])];
  if (caller.projectId !== null) {
    ors.push(eb('i.owner', '=', caller.projectId));
    let members = eb.selectFrom('image_member as m').select('m.image_id')
      .whereRef('m.image_id', '=', 'i.id').where('m.member', '=', caller.projectId);
    if (memberStatus && memberStatus !== 'all') members = members.where('m.status', '=', memberStatus);
    ors.push(eb.and([eb('i.visibility', '=', 'shared'), eb.exists(members)]));
  }
  return eb.or(ors);
}

/** Null-safe sort expression: Glance sorts NULL as the column type's default ('' or 0). */
const sortExpr = (key: SortKey) => (INT_COLUMNS.has(key) ? sql`coalesce(${sql.ref(`i.${key}`)}, 0)` : sql`coalesce(${sql.ref(`i.${key}`)}, '')`);
const sortValue = (key: SortKey, row: ImageRow): string | number =>
  INT_COLUMNS.has(key) ? Number(row[key] ?? 0) : String(row[key] ?? '');

/**
 * Runs a list query: visibility for the caller, then Glance's filters, sorted, after `markerRow`
 * (the marker image, already looked up and checked visible by the caller), at most `q.limit` rows.
 */
export async function selectImages(db: Kysely<ImageDB>, caller: Caller, q: ListQuery, markerRow?: ImageRow): Promise<ImageRow[]> {
  if (q.limit === 0) return [];
  let query = db.selectFrom('image as i').selectAll('i')
    .where((eb) => visibleTo(eb as EB, caller, q.memberStatus))
    .where('i.status', '<>', 'killed')
    .where('i.os_hidden', '=', q.osHidden ? 1 : 0);
  if (q.visibility && q.visibility !== 'all') query = query.where('i.visibility', '=', q.visibility);
  else if (!q.visibility) {
    // Community images are listed only when asked for, or to their owner.
    query = caller.projectId === null
      ? query.where('i.visibility', '<>', 'community')
      : query.where((eb) => eb.or([eb('i.owner', '=', caller.projectId!), eb('i.visibility', '<>', 'community')]));
  }
  if (q.protected !== undefined) query = query.where('i.protected', '=', q.protected ? 1 : 0);
  for (const [col, v] of q.equals) query = query.where(sql.ref(`i.${col}`), '=', INT_COLUMNS.has(col) ? numberOrNaN(v) : v);
  for (const [col, vs] of q.inList) query = query.where(sql.ref(`i.${col}`), 'in', vs);
  for (const [col, op, t] of q.times) query = query.where(sql.ref(`i.${col}`), op as '=', t);
  for (const [col, op, n] of q.ranges) query = query.where(sql.ref(`i.${col}`), op, n);
  for (const [name, value] of q.properties) {
    query = query.where((eb) => eb.exists(eb.selectFrom('image_property as p').select('p.image_id')
      .whereRef('p.image_id', '=', 'i.id').where('p.name', '=', name).where('p.value', '=', value)));
  }
  for (const tag of q.tags) {
    query = query.where((eb) => eb.exists(eb.selectFrom('image_tag as t').select('t.image_id')
      .whereRef('t.image_id', '=', 'i.id').where('t.value', '=', tag)));
  }
  if (markerRow) {
    query = query.where((eb) => {
      const ors: Expression<SqlBool>[] = [];
      for (let i = 0; i < q.sort.length; i++) {
        const ands: Expression<SqlBool>[] = [];
        for (let j = 0; j < i; j++) {
          const [k] = q.sort[j]!;
          ands.push(eb(sortExpr(k), '=', sortValue(k, markerRow)));
        }
        const [k, dir] = q.sort[i]!;
        ands.push(eb(sortExpr(k), dir === 'asc' ? '>' : '<', sortValue(k, markerRow)));
        ors.push(eb.and(ands));
      }
      return eb.or(ors);
    });
  }
  for (const [k, dir] of q.sort) query = query.orderBy(sortExpr(k), dir);
  return query.limit(q.limit).execute();
}

/** A numeric filter value; a non-number matches nothing (as a failed comparison in Glance's SQL). */
const numberOrNaN = (v: string): number => (/^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : -1);
