/** The servers' database and one instance as a caller may see it: shared by the servers API and Nova's proxies. */
import type { Kysely } from 'kysely';
import type { ComputeContext, Caller } from '../context.js';
import { notFound } from '../faults.js';
import { isUuidLike } from '../api/actions.js';
import type { ServersDB } from './schema.js';
import { getInstance, type Instance } from './store.js';

export const serversDb = (ctx: ComputeContext): Kysely<ServersDB> => ctx.db as unknown as Kysely<ServersDB>;

/** The instance `id` as the caller may see it (Nova's common.get_instance), authorized for `rule` on its project; Nova's 404 otherwise. */
export async function visibleInstance(ctx: ComputeContext, caller: Caller, id: string, rule: string): Promise<Instance> {
  const inst = isUuidLike(id) ? await getInstance(serversDb(ctx), id.toLowerCase()) : undefined;
  if (!inst || (!caller.isAdmin && inst.project_id !== caller.projectId)) throw notFound(`Instance ${id} could not be found.`);
  ctx.authorize(caller, rule, { project_id: inst.project_id, user_id: inst.user_id });
  return inst;
}
