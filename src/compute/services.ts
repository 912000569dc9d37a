/**
 * Compute services (Nova's `services` table): one row per (host, binary), kept alive by
 * heartbeats. A service is `up` while its last heartbeat is within `compute.service_down_time`
 * seconds and it is not forced down; `disabled` services are skipped by the scheduler. The
 * compute agent calls {@link heartbeat} periodically (and the conductor/scheduler for theirs).
 */
import { randomUUID } from 'node:crypto';
import type { ComputeContext } from './context.js';
import { badRequest, conflict, notFound } from './faults.js';
import type { ServiceRow } from './store/schema.js';
import { removeHostFromAllAggregates } from './aggregates.js';
import { insertWithId, isUniqueViolation, nowIso, transact, type Db } from './store/db.js';

/** Nova's default zone of compute hosts outside any zoned aggregate, and the zone of other services. */
export const DEFAULT_AZ = 'nova';
export const INTERNAL_AZ = 'internal';

/** Binaries hidden from `os-services` (API services report no heartbeats). */
export const API_BINARIES: readonly string[] = ['nova-osapi_compute', 'nova-metadata'];

function normalise(r: ServiceRow): ServiceRow {
  return { ...r, id: Number(r.id), disabled: Number(r.disabled), forced_down: Number(r.forced_down), report_count: Number(r.report_count) };
}

/** Milliseconds of an ISO time as stored (naive UTC with microseconds). */
const timeMs = (t: string): number => Date.parse(`${t.slice(0, 23)}Z`);

/** Whether a service is up now (Nova's DB servicegroup driver). */
export function isUp(ctx: ComputeContext, s: ServiceRow, now = Date.now()): boolean {
  if (s.forced_down === 1) return false;
  const last = s.last_seen_up ?? s.updated_at ?? s.created_at;
  return Math.abs(now - timeMs(last)) <= ctx.config.compute.service_down_time * 1000;
}

/**
 * Records a heartbeat of `binary` on `host`: creates the service (enabled, as with Nova's
 * `enable_new_services`) on its first report, else bumps its report count and last-seen time.
 * Idempotent and safe to call concurrently. Returns the row.
 */
export async function heartbeat(ctx: ComputeContext, host: string, binary: string, opts: { topic?: string } = {}): Promise<ServiceRow> {
  if (!host || host.length > 255 || !binary || binary.length > 255) throw badRequest('host and binary must be 1 to 255 characters');
  const now = nowIso();
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await ctx.db.updateTable('compute_service')
      .set((eb) => ({ report_count: eb('report_count', '+', 1), last_seen_up: now, updated_at: now }))
      .where('host', '=', host).where('binary', '=', binary).executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return getServiceByHostBinary(ctx, host, binary);
    try {
      const topic = opts.topic ?? (binary.startsWith('nova-') ? binary.slice(5) : binary);
      await insertWithId(ctx.db, ctx.engine, 'compute_service', {
        uuid: randomUUID(), host, binary, topic, disabled: 0, disabled_reason: null, forced_down: 0, report_count: 1,
        last_seen_up: now, created_at: now, updated_at: now,
      });
      ctx.notify('service.create', { host, binary });
      return getServiceByHostBinary(ctx, host, binary);
    } catch (err) {
      // Another process registered the same service first: count this report on its row.
      if (!isUniqueViolation(err)) throw err;
    }
  }
  return getServiceByHostBinary(ctx, host, binary);
}

export async function getServiceByHostBinary(ctx: ComputeContext, host: string, binary: string, db: Db = ctx.db): Promise<ServiceRow> {
  const r = await db.selectFrom('compute_service').selectAll().where('host', '=', host).where('binary', '=', binary).executeTakeFirst();
  if (!r) throw notFound(`Could not find binary ${binary} on host ${host}.`);
  return normalise(r);
}

/** The nova-compute service of a host, or undefined. */
export async function computeServiceOf(ctx: ComputeContext, host: string, db: Db = ctx.db): Promise<ServiceRow | undefined> {
  const r = await db.selectFrom('compute_service').selectAll().where('host', '=', host).where('binary', '=', 'nova-compute').executeTakeFirst();
  return r ? normalise(r) : undefined;
}

/** A service by integer id or uuid; 404 "Service X could not be found." */
export async function getService(ctx: ComputeContext, id: number | string): Promise<ServiceRow> {
  const q = ctx.db.selectFrom('compute_service').selectAll();
  const r = await (typeof id === 'number' ? q.where('id', '=', id) : q.where('uuid', '=', id)).executeTakeFirst();
  if (!r) throw notFound(`Service ${id} could not be found.`);
  return normalise(r);
}

/** Every service (API services excluded), optionally filtered by host and binary. */
export async function listServices(ctx: ComputeContext, filter: { host?: string; binary?: string } = {}): Promise<ServiceRow[]> {
  let q = ctx.db.selectFrom('compute_service').selectAll().orderBy('id');
  if (filter.host) q = q.where('host', '=', filter.host);
  if (filter.binary) q = q.where('binary', '=', filter.binary);
  return (await q.execute()).map(normalise).filter((s) => !API_BINARIES.includes(s.binary));
}

/** Changes a service's status / forced-down flag; only nova-compute services may be changed. */
export async function updateService(ctx: ComputeContext, s: ServiceRow, changes: { disabled?: boolean; disabled_reason?: string | null; forced_down?: boolean }): Promise<ServiceRow> {
  if (s.binary !== 'nova-compute') {
    throw badRequest(`Updating a ${s.binary} service is not supported. Only nova-compute services can be updated.`);
  }
  const set: Partial<ServiceRow> = { updated_at: nowIso() };
  if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
  if (changes.disabled_reason !== undefined) set.disabled_reason = changes.disabled_reason;
  if (changes.forced_down !== undefined) set.forced_down = changes.forced_down ? 1 : 0;
  await ctx.db.updateTable('compute_service').set(set).where('id', '=', s.id).execute();
  ctx.notify('service.update', { host: s.host, binary: s.binary, ...changes });
  return getService(ctx, s.id);
}

/**
 * Deletes a service. A compute service hosting servers is refused (409); otherwise its host
 * leaves every aggregate and its compute nodes go with it (placement is told through the hook).
 */
export async function deleteService(ctx: ComputeContext, s: ServiceRow): Promise<void> {
  let nodeUuids: string[] = [];
  if (s.binary === 'nova-compute') {
    const servers = ctx.hooks.serversOnHost ? await ctx.hooks.serversOnHost(s.host) : [];
    if (servers.length) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
    await removeHostFromAllAggregates(ctx, s.host);
    await transact(ctx.db, async (tx) => {
      nodeUuids = (await tx.selectFrom('compute_node').select('uuid').where('host', '=', s.host).execute()).map((n) => n.uuid);
      await tx.deleteFrom('compute_node').where('host', '=', s.host).execute();
      await tx.deleteFrom('compute_service').where('id', '=', s.id).execute();
    });
    if (ctx.hooks.computeServiceDeleted) {
      await ctx.hooks.computeServiceDeleted({ host: s.host, nodeUuids }).catch((err: unknown) => ctx.log.error({ err, host: s.host }, 'placement cleanup of a deleted compute service failed'));
    }
  } else {
    await ctx.db.deleteFrom('compute_service').where('id', '=', s.id).execute();
  }
  ctx.notify('service.delete', { host: s.host, binary: s.binary });
}
