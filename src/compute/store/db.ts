/** Small database helpers the compute modules share: times, numbered inserts, transactions. */
import type { Kysely, Transaction } from 'kysely';
import type { Engine } from '../../platform/db/connect.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import type { ComputeDB } from './schema.js';

export type Db = Kysely<ComputeDB> | Transaction<ComputeDB>;
export { isUniqueViolation };

/** Now, as Nova's API shows naive UTC datetimes: `2024-05-07T12:06:13.681238`. */
export function nowIso(): string {
  return new Date().toISOString().replace('Z', '000');
}

/** A stored time as Nova's API shows it (naive UTC with microseconds), or null. */
export const apiTime = (t: string | null | undefined): string | null => t ?? null;

/**
 * Inserts a row into a table with an engine-numbered `id` and returns that id
 * (PostgreSQL via RETURNING, SQLite and MariaDB via the driver's insert id).
 */
export async function insertWithId<T extends keyof ComputeDB & string>(db: Db, engine: Engine, table: T, values: Omit<ComputeDB[T], 'id'>): Promise<number> {
  const q = (db as Kysely<any>).insertInto(table).values(values as any);
  if (engine === 'postgres') {
    const r = await q.returning('id').executeTakeFirstOrThrow();
    return Number((r as { id: number }).id);
  }
  const r = await q.executeTakeFirstOrThrow();
  return Number(r.insertId);
}

/** Whether an error is a deadlock or serialization failure the engine asks us to retry. */
function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: string | number; errno?: number };
  return e?.code === '40001' || e?.code === '40P01' || e?.errno === 1213 || e?.code === 'ER_LOCK_DEADLOCK';
}

/** Runs `fn` in a transaction, retrying (bounded) when the engine broke a deadlock. */
export async function transact<T>(db: Kysely<ComputeDB>, fn: (tx: Transaction<ComputeDB>) => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (i >= attempts || !isRetryableConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
    }
  }
}

/** 0/1 as a boolean (engines return integers, sometimes as strings). */
export const bool = (v: unknown): boolean => Number(v) === 1;
