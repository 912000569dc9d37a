/** Builds an absolute `next`/`previous` link that keeps the request's query and sets a new marker. */
export function pageLink(baseUrl: string, query: Record<string, unknown>, marker: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === 'marker' || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
  }
  params.set('marker', marker);
  return `${baseUrl}?${params.toString()}`;
}

/** Parses `limit`: absent → undefined; otherwise a non-negative integer or a thrown error message. */
export function parseLimit(raw: unknown): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`limit must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}
