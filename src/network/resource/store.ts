/**
 * Reads and writes of resource rows: the JSON body plus its mirrored columns, kept in step in
 * one place so no caller can write one without the other.
 */
import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { NetworkDB } from '../store/schema.js';
import type { Obj, ResourceDef } from './types.js';

export type Db = Kysely<NetworkDB> | Transaction<NetworkDB>;

/** Column value of an attribute: booleans as 0/1, absent as null. */
const columnValue = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v ?? null);

function rowOf(def: ResourceDef, obj: Obj): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: obj.id, project_id: String(obj.project_id ?? ''), name: String(obj.name ?? ''), body: JSON.stringify(obj),
  };
  for (const [attr, col] of Object.entries(def.columns)) row[col] = columnValue(obj[attr]);
  return row;
}

const parse = (body: string): Obj => JSON.parse(body) as Obj;

/** Now in Neutron's timestamp form (`2016-03-08T20:19:41Z`). */
export const nowStamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function getObj(db: Db, def: ResourceDef, id: string): Promise<Obj | undefined> {
  if (typeof id !== 'string' || id.length > 64) return undefined;
  const row = await db.selectFrom(def.table).select('body').where('id', '=', id).executeTakeFirst();
  return row ? parse(row.body as string) : undefined;
}

/** The column mirroring an attribute (`id`, `project_id` and `name` are columns of every table). */
export function columnOf(def: ResourceDef, attr: string): string {
  const col = attr === 'id' || attr === 'project_id' || attr === 'name' ? attr : def.columns[attr];
  if (!col) throw new Error(`${def.table}: ${attr} is not a column`);
  return col;
}

/** A stored row, or the part of it a query selected: `id`, `body` (the object's JSON) and mirrored columns. */
export type StoredRow = Readonly<Record<string, unknown>> & { readonly id: string; readonly body: string };

type Where = Readonly<Record<string, unknown>>;

/** `q` narrowed to rows whose mirrored columns equal the given values (`IN` for arrays); undefined when nothing can match. */
function whereEqual<Q extends SelectQueryBuilder<NetworkDB, string, object>>(q: Q, def: ResourceDef, where: Where): Q | undefined {
  for (const [attr, value] of Object.entries(where)) {
    const col = columnOf(def, attr);
    if (Array.isArray(value)) {
      if (value.length === 0) return undefined;
      q = q.where(col, 'in', value.map(columnValue)) as Q;
    } else if (value === null) q = q.where(col, 'is', null) as Q;
    else q = q.where(col, '=', columnValue(value)) as Q;
  }
  return q;
}

/**
 * Rows whose mirrored columns equal the given values (`IN` for arrays), bodies unparsed: `id`,
 * `body` and the columns `where` names (selecting no more keeps a 10,000-row read cheap).
 */
export async function findRows(db: Db, def: ResourceDef, where: Where = {}): Promise<StoredRow[]> {
  const columns = [...new Set(['id', 'body', ...Object.keys(where).map((attr) => columnOf(def, attr))])];
  const q = whereEqual(db.selectFrom(def.table).select(columns), def, where);
  return q ? ((await q.execute()) as StoredRow[]) : [];
}

/** Objects whose mirrored columns equal the given values (`IN` for arrays). */
export async function findObjs(db: Db, def: ResourceDef, where: Where = {}): Promise<Obj[]> {
  const q = whereEqual(db.selectFrom(def.table).select('body'), def, where);
  return q ? (await q.execute()).map((r) => parse(r.body as string)) : [];
}

export async function insertObj(db: Db, def: ResourceDef, obj: Obj): Promise<void> {
  await db.insertInto(def.table).values(rowOf(def, obj)).execute();
}

/** Writes a changed object, bumping `revision_number` and `updated_at`. */
export async function saveObj(db: Db, def: ResourceDef, obj: Obj): Promise<Obj> {
  const next: Obj = { ...obj, updated_at: nowStamp(), revision_number: Number(obj.revision_number ?? 0) + 1 };
  const { id: _id, ...row } = rowOf(def, next);
  await db.updateTable(def.table).set(row).where('id', '=', obj.id).execute();
  return next;
}

export async function deleteObj(db: Db, def: ResourceDef, id: string): Promise<boolean> {
  const r = await db.deleteFrom(def.table).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** How many objects a project owns (quota usage). */
export async function countOwned(db: Db, def: ResourceDef, projectId: string): Promise<number> {
  const r = await db.selectFrom(def.table).select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', projectId).executeTakeFirst();
  return Number(r?.n ?? 0);
}
