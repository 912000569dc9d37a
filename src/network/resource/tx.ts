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

/** Thrown inside a transaction that saw a concurrent writer take what it chose: run it again. */
export class RetryTransaction extends Error {
  constructor(why: string) { super(why); this.name = 'RetryTransaction'; }
}

/** Whether an error is a deadlock or serialization failure (the engine asks us to retry). */
export function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: string | number; errno?: number };
  return e?.code === '40001' || e?.code === '40P01' || e?.errno === 1213 || e?.code === 'ER_LOCK_DEADLOCK';
}

/**
 * Runs `fn` in a transaction, retrying (bounded, with a growing random pause) when it lost a
 * race on a unique key or the engine broke a deadlock: with many writers contending for the same
 * lowest free address, each round lets at least one through.
 */
export async function transact<T>(ctx: NetworkContext, fn: (tx: Transaction<NetworkDB>) => Promise<T>, attempts = 25): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await ctx.db.transaction().execute(fn);
    } catch (err) {
      const retryable = (err instanceof RetryTransaction || isUniqueViolation(err) || isRetryableConflict(err)) && (err as { retry?: boolean }).retry !== false;
      if (i >= attempts || !retryable) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
    }
  }
}
