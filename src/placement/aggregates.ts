/**
 * Provider aggregates: opaque uuids a provider is associated with (placement never validates
 * them against compute's host aggregates). From 1.19 a change is guarded by, and bumps, the
 * provider's generation.
 */
import type { Db, PlacementContext } from './context.js';
import { concurrentUpdate } from './faults.js';
import { bumpGeneration, requireProvider } from './providers.js';
import { transact } from './tx.js';

export async function providerAggregates(db: Db, uuid: string): Promise<string[]> {
  return (await db.selectFrom('placement_provider_aggregate').select('aggregate_uuid').where('provider_uuid', '=', uuid).orderBy('aggregate_uuid').execute())
    .map((r) => r.aggregate_uuid);
}

/**
 * Replaces a provider's aggregates. With `generation` (1.19+) the provider must still be at it
 * and its generation moves on; without, nothing is checked or bumped (1.1–1.18). Returns the
 * provider's generation afterwards.
 */
export async function setProviderAggregates(ctx: PlacementContext, uuid: string, aggregates: readonly string[], opts: { generation?: number; bump?: boolean } = {}): Promise<number> {
  const wanted = [...new Set(aggregates)];
  return transact(ctx, async (tx) => {
    const rp = await requireProvider(tx, uuid);
    const gen = Number(rp.generation);
    if (opts.generation !== undefined && gen !== opts.generation) {
      throw concurrentUpdate("Resource provider's generation already changed. Please update the generation and try again.");
    }
    const current = new Set(await providerAggregates(tx, uuid));
    const add = wanted.filter((a) => !current.has(a));
    const remove = [...current].filter((a) => !wanted.includes(a));
    if (remove.length) await tx.deleteFrom('placement_provider_aggregate').where('provider_uuid', '=', uuid).where('aggregate_uuid', 'in', remove).execute();
    if (add.length) await tx.insertInto('placement_provider_aggregate').values(add.map((aggregate_uuid) => ({ provider_uuid: uuid, aggregate_uuid }))).execute();
    return opts.bump === false ? gen : bumpGeneration(tx, uuid, gen);
  }, { attempts: opts.generation === undefined ? undefined : 2, retryUnique: true });
}
