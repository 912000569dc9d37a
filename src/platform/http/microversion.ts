/** A microversion `major.minor`. */
export interface Microversion { readonly major: number; readonly minor: number }

export const parseVersion = (s: string): Microversion | undefined => {
  const m = /^(\d+)\.(\d+)$/.exec(s.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
};
export const compareVersions = (a: Microversion, b: Microversion): number => a.major - b.major || a.minor - b.minor;
export const formatVersion = (v: Microversion): string => `${v.major}.${v.minor}`;

/** Outcome of negotiation: the version to serve, or why the request is not acceptable (406). */
export type Negotiated = { ok: true; version: Microversion } | { ok: false; reason: string };

/**
 * Picks the microversion of a request from `OpenStack-API-Version: <service> X.Y` or a legacy
 * header (e.g. `X-OpenStack-Nova-API-Version`); absent means the minimum, `latest` the maximum.
 */
export function negotiate(
  headers: Record<string, string | string[] | undefined>,
  service: string,
  min: Microversion,
  max: Microversion,
  legacyHeader?: string,
): Negotiated {
  let requested: string | undefined;
  const modern = headers['openstack-api-version'];
  for (const h of (Array.isArray(modern) ? modern : modern ? [modern] : []).flatMap((x) => x.split(','))) {
    const [svc, ver] = h.trim().split(/\s+/);
    if (svc?.toLowerCase() === service && ver) requested = ver;
  }
  if (!requested && legacyHeader) {
    const legacy = headers[legacyHeader.toLowerCase()];
    requested = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  if (!requested) return { ok: true, version: min };
  if (requested.trim().toLowerCase() === 'latest') return { ok: true, version: max };
  const v = parseVersion(requested);
  if (!v) return { ok: false, reason: `Invalid microversion ${JSON.stringify(requested)}` };
  if (compareVersions(v, min) < 0 || compareVersions(v, max) > 0) {
    return { ok: false, reason: `Version ${requested} is not supported by the API. Minimum is ${formatVersion(min)} and maximum is ${formatVersion(max)}.` };
  }
  return { ok: true, version: v };
}
