/**
 * The all-in-one's standard flavors, created on first start (`compute.create_defaults`): Nova's
 * historical m1.* set with ids 1–5, and DevStack's small m1.nano (42) and m1.micro (84) sized
 * for the Nephos guest. Idempotent: a flavor whose id or name exists is left as it is.
 */
import type { ComputeContext } from './context.js';
import { createFlavor } from './flavors.js';
import { Fault } from '../platform/http/faults.js';

export const DEFAULT_FLAVORS: readonly { id: string; name: string; vcpus: number; ram: number; disk: number }[] = [
  { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
  { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
  { id: '4', name: 'm1.large', vcpus: 4, ram: 8192, disk: 80 },
  { id: '5', name: 'm1.xlarge', vcpus: 8, ram: 16384, disk: 160 },
  { id: '42', name: 'm1.nano', vcpus: 1, ram: 128, disk: 1 },
  { id: '84', name: 'm1.micro', vcpus: 1, ram: 192, disk: 1 },
];

/** Creates the missing default flavors; returns the ids it created. */
export async function ensureDefaultFlavors(ctx: ComputeContext): Promise<string[]> {
  const created: string[] = [];
  for (const f of DEFAULT_FLAVORS) {
    const exists = await ctx.db.selectFrom('compute_flavor').select('id')
      .where((eb) => eb.or([eb('flavorid', '=', f.id), eb('name', '=', f.name)])).executeTakeFirst();
    if (exists) continue;
    try {
      await createFlavor(ctx, { name: f.name, flavorid: f.id, vcpus: f.vcpus, memory_mb: f.ram, root_gb: f.disk, is_public: true });
      created.push(f.id);
    } catch (err) {
      // Another process created it at the same moment: that is what we wanted.
      if (!(err instanceof Fault && err.status === 409)) throw err;
    }
  }
  return created;
}
