/**
 * Whole-collection lists answered with the stored JSON text. Every row's `body` is the object's
 * JSON; for an admin who asks for no `fields`, no sort and no page, that text already is the
 * object's rendering whenever it holds exactly the attributes `render` shows (key order aside).
 * Such rows are spliced into the answer as they are, skipping a rebuild and a second
 * serialisation per object, which is most of the cost of a 10,000-port list. Any other row is
 * rendered the ordinary way, so the answer is always the one `listFor` would give.
 */
import type { Caller, NetworkContext } from '../context.js';
import { render, shownAttributes } from './body.js';
import { filtersOf, type Query } from './list.js';
import type { ResourceBehaviour } from './routes.js';
import { columnOf, findRows, type StoredRow } from './store.js';
import type { Obj, ResourceDef } from './types.js';

/** Query keys that ask for more than a filtered whole collection. */
const SHAPING = ['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any'];

/**
 * The SQL filters of a query when a verbatim answer gives the same result as `listFor`: an admin
 * caller, no computed attributes, no shaping keys, and every filter one SQL can answer.
 */
function verbatimFilters(b: ResourceBehaviour, query: Query, caller: Caller): Map<string, string[]> | undefined {
  if (!caller.isAdmin || b.decorate || SHAPING.some((k) => query[k] !== undefined)) return undefined;
  const filters = filtersOf(b.def, query, true, b.customFilters);
  const inSql = new Set([...(b.def.sqlFilters ?? []), 'id', 'name']);
  for (const attr of filters.keys()) if (!inSql.has(attr) || b.customFilters?.[attr]) return undefined;
  return filters;
}

/**
 * Memo of the rows already found to render as stored, by resource and id. The stored text is
 * its own proof: a changed row has a different text and is checked again. Bounded, since rows
 * of deleted objects are never looked up again.
 */
const verified = new WeakMap<ResourceDef, Map<string, string>>();
const MAX_VERIFIED = 100_000;

/** Whether `obj` has exactly the attributes in `shown` (so its stored JSON is its rendering). */
function hasExactly(obj: Obj, shown: readonly string[]): boolean {
  return Object.keys(obj).length === shown.length && shown.every((name) => Object.hasOwn(obj, name));
}

/** The JSON text of one row as the admin `caller` sees it. */
function rowJson(def: ResourceDef, row: StoredRow, caller: Caller, memo: Map<string, string>): string {
  if (memo.get(row.id) === row.body) return row.body;
  const obj = JSON.parse(row.body) as Obj;
  if (!hasExactly(obj, shownAttributes(def, true))) return JSON.stringify(render(def, obj, caller));
  if (memo.size >= MAX_VERIFIED) memo.clear();
  memo.set(row.id, row.body);
  return row.body;
}

/**
 * The body of a list request as JSON text, or undefined when the request needs `listFor`
 * (a non-admin caller, `fields`, sorting, paging, tag or non-SQL filters, computed attributes).
 * Objects come in `listFor`'s default order (by id).
 */
export async function listVerbatim(ctx: NetworkContext, b: ResourceBehaviour, query: Query, caller: Caller): Promise<string | undefined> {
  const { def } = b;
  const filters = verbatimFilters(b, query, caller);
  if (!filters) return undefined;
  if (b.beforeList) await b.beforeList(query, caller);
  const rows = await findRows(ctx.db, def, Object.fromEntries(filters));
  // SQL equality can be looser than the API's (e.g. MariaDB's case-insensitive collations):
  // keep only exact matches, as listFor's own filter pass does.
  const checks = [...filters].map(([attr, accepted]) => ({ col: columnOf(def, attr), accepted }));
  const kept = rows.filter((row) => checks.every(({ col, accepted }) => accepted.includes(row[col] as string)));
  kept.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  let memo = verified.get(def);
  if (!memo) verified.set(def, (memo = new Map()));
  const parts = kept.map((row) => rowJson(def, row, caller, memo));
  return `{${JSON.stringify(def.collection)}:[${parts.join(',')}]}`;
}
