/** Transactions that retry when a concurrent writer took the same unique key first. */
import type { Transaction } from 'kysely';
import type { NetworkContext } from '../context.js';
import type { NetworkDB } from '../store/schema.js';

/** Whether an error is a unique/primary-key violation on any engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string | number; errno?: number; message?: string };
  return e?.code === '23505' || e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062
    || (typeof e?.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT') && /UNIQUE|PRIMARYKEY/.test(e.code));
}

/** Runs `fn` in a transaction, retrying (bounded) when it lost a race on a unique key. */
export async function transact<T>(ctx: NetworkContext, fn: (tx: Transaction<NetworkDB>) => Promise<T>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await ctx.db.transaction().execute(fn);
    } catch (err) {
      if (i >= attempts || !isUniqueViolation(err) || (err as { retry?: boolean }).retry === false) throw err;
    }
  }
}
