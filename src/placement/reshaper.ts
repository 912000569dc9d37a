/**
 * POST /reshaper (1.30+): moves inventory and the allocations against it between providers in one
 * transaction, e.g. when a host's VGPUs move from the root to new child providers. The providers
 * named get their inventory extended (so both old and new places exist), the consumers' allocations
 * are replaced, and then each named provider's inventory is set exactly as given.
 */
import type { PlacementContext } from './context.js';
import { badRequest, codes, concurrentUpdate } from './faults.js';
import { replaceAllocationsIn, type ConsumerWrite } from './allocations.js';
import { toInventory, writeInventories, type Inventory } from './inventories.js';
import { bumpGeneration, getProvider } from './providers.js';
import { unknownResourceClasses } from './resource-classes.js';
import { transact } from './tx.js';

/** The new inventory of one provider, at the generation the caller read. */
export interface ReshapeInventory { readonly generation: number; readonly inventories: ReadonlyMap<string, Inventory> }

export async function reshape(ctx: PlacementContext, inventories: ReadonlyMap<string, ReshapeInventory>, writes: readonly ConsumerWrite[], checkGeneration: boolean): Promise<void> {
  await transact(ctx, async (tx) => {
    const gens = new Map<string, number>();
    for (const [uuid, want] of inventories) {
      const rp = await getProvider(tx, uuid);
      if (!rp) throw badRequest(`Resource provider ${uuid} in inventories not found: No resource provider with uuid ${uuid} found`, codes.RESOURCE_PROVIDER_NOT_FOUND);
      const actual = Number(rp.generation);
      if (actual !== want.generation) {
        throw concurrentUpdate(`resource provider generation conflict for provider ${uuid}: actual: ${actual}, given: ${want.generation}`);
      }
      const unknown = await unknownResourceClasses(tx, want.inventories.keys());
      if (unknown.length) throw badRequest(`malformed reshaper data: No such resource class ${unknown[0]}.`);
      // Claims the provider first (the final inventory write's generation step), so nobody changes it meanwhile.
      gens.set(uuid, await bumpGeneration(tx, uuid, actual));
    }
    // Interim inventory: what exists plus what is coming, so the allocations can move.
    for (const [uuid, want] of inventories) {
      if (!want.inventories.size) continue;
      const merged = new Map((await tx.selectFrom('placement_inventory').selectAll().where('provider_uuid', '=', uuid).execute()).map((r) => [r.resource_class, toInventory(r)]));
      for (const [rc, inv] of want.inventories) merged.set(rc, inv);
      await writeInventories(ctx, tx, uuid, merged);
      gens.set(uuid, await bumpGeneration(tx, uuid, gens.get(uuid)!));
    }
    await replaceAllocationsIn(tx, writes, { checkGeneration, unknownClass: (_c, rc) => `malformed reshaper data: No such resource class ${rc}.` });
    for (const [uuid, want] of inventories) await writeInventories(ctx, tx, uuid, want.inventories);
  }, { conflictMessage: (why) => `update conflict: ${why}` });
}
