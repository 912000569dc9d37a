/**
 * Compute availability zones, derived as Nova derives them: a compute host is in the zone of its
 * zoned aggregate (or the default zone `nova`), every other service in `internal`; a zone is
 * available while one of its services is enabled.
 */
import type { ComputeContext } from './context.js';
import { hostZones } from './aggregates.js';
import { API_BINARIES, DEFAULT_AZ, INTERNAL_AZ, isUp, listServices } from './services.js';
import type { ServiceRow } from './store/schema.js';

/** A service with the zone it is in. */
export type ZonedService = ServiceRow & { zone: string };

/** Every service (API services excluded) with its zone. */
export async function zonedServices(ctx: ComputeContext, filter: { host?: string; binary?: string } = {}): Promise<ZonedService[]> {
  const zones = await hostZones(ctx.db);
  return (await listServices(ctx, filter)).map((s) => ({ ...s, zone: s.binary === 'nova-compute' ? zones.get(s.host) ?? DEFAULT_AZ : INTERNAL_AZ }));
}

/** The zone a compute host is in. */
export async function zoneOfComputeHost(ctx: ComputeContext, host: string): Promise<string> {
  return (await hostZones(ctx.db)).get(host) ?? DEFAULT_AZ;
}

/** Available and unavailable zone names (sorted), from the services' enabled flags. */
export function splitZones(services: readonly ZonedService[]): { available: string[]; unavailable: string[] } {
  const available = new Set(services.filter((s) => s.disabled !== 1).map((s) => s.zone));
  const unavailable = new Set(services.filter((s) => s.disabled === 1 && !available.has(s.zone)).map((s) => s.zone));
  return { available: [...available].sort(), unavailable: [...unavailable].sort() };
}

/** `GET /os-availability-zone`: zones without hosts; the internal zone is hidden. */
export async function zoneSummary(ctx: ComputeContext): Promise<{ zoneName: string; zoneState: { available: boolean }; hosts: null }[]> {
  const { available, unavailable } = splitZones(await zonedServices(ctx));
  return [
    ...available.filter((z) => z !== INTERNAL_AZ).map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
    ...unavailable.filter((z) => z !== INTERNAL_AZ).map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
  ];
}

type HostServices = Record<string, Record<string, { available: boolean; active: boolean; updated_at: string | null }>>;

/** `GET /os-availability-zone/detail`: available zones with their enabled services per host. */
export async function zoneDetail(ctx: ComputeContext): Promise<{ zoneName: string; zoneState: { available: boolean }; hosts: HostServices | null }[]> {
  const services = await zonedServices(ctx);
  const { available, unavailable } = splitZones(services);
  const now = Date.now();
  const out: { zoneName: string; zoneState: { available: boolean }; hosts: HostServices | null }[] = [];
  for (const zone of available) {
    const hosts: HostServices = {};
    for (const s of services) {
      if (s.zone !== zone || s.disabled === 1 || API_BINARIES.includes(s.binary)) continue;
      (hosts[s.host] ??= {})[s.binary] = { available: isUp(ctx, s, now), active: s.disabled !== 1, updated_at: s.updated_at };
    }
    out.push({ zoneName: zone, zoneState: { available: true }, hosts });
  }
  for (const zone of unavailable) out.push({ zoneName: zone, zoneState: { available: false }, hosts: null });
  return out;
}
