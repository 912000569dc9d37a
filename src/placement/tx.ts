/** Transactions that retry when a provider's generation moved under them or the engine broke a deadlock. */
import type { Transaction } from 'kysely';
import { isUniqueViolation } from '../platform/db/connect.js';
import type { PlacementContext } from './context.js';
import { ProviderGenerationConflict, concurrentUpdate } from './faults.js';
import type { PlacementDB } from './store/schema.js';

/** Whether an error is a deadlock, lock timeout or serialization failure (the engine asks for a retry). */
export function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: string | number; errno?: number };
  return e?.code === '40001' || e?.code === '40P01' || e?.errno === 1213 || e?.errno === 1205
    || e?.code === 'ER_LOCK_DEADLOCK' || e?.code === 'ER_LOCK_WAIT_TIMEOUT' || e?.code === 'SQLITE_BUSY';
}

/** Placement's allocation_conflict_retry_count. */
export const CONFLICT_RETRIES = 10;

/**
 * Runs `fn` in a transaction. When it throws ProviderGenerationConflict (a provider changed
 * between its reads and its generation check) or the engine reports a deadlock, it runs again
 * on fresh data (with `retryUnique`, also when a concurrent writer inserted the same key first), up to `attempts` times; then the caller gets placement's 409
 * `placement.concurrent_update` with `conflictMessage`.
 */
export async function transact<T>(ctx: PlacementContext, fn: (tx: Transaction<PlacementDB>) => Promise<T>, opts: { attempts?: number; conflictMessage?: (why: string) => string; retryUnique?: boolean } = {}): Promise<T> {
  const attempts = opts.attempts ?? CONFLICT_RETRIES;
  for (let i = 1; ; i++) {
    try {
      return await ctx.db.transaction().execute(fn);
    } catch (err) {
      const generation = err instanceof ProviderGenerationConflict || (opts.retryUnique === true && isUniqueViolation(err));
      if (!generation && !isRetryableConflict(err)) throw err;
      if (i >= attempts) {
        ctx.log.warn({ attempts }, 'placement write gave up after repeated concurrent updates');
        const why = new ProviderGenerationConflict().message;
        throw concurrentUpdate(opts.conflictMessage ? opts.conflictMessage(why) : why);
      }
      // A lost race retries at once; repeated losses back off a little, so a crowd thins out.
      if (!generation || i > 1) await new Promise((r) => setTimeout(r, Math.random() * 4 * i));
    }
  }
}
