/**
 * Reads what tempest.conf must say about a running cloud from the cloud itself: which services
 * its catalog offers and, when it has a network service, the extensions it advertises and its
 * external network. Writing these from the cloud (not from a list kept beside the tests) keeps
 * `[network-feature-enabled] api_extensions` truthful by construction.
 */

/** One catalog entry as Keystone v3 returns it (only the parts read here). */
export interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string | null; region_id?: string | null; url: string }[];
}

/** A network as `GET /v2.0/networks` returns it (only the parts read here). */
export interface NetworkSummary {
  id: string;
  name?: string;
  'router:external'?: boolean;
}

/** What the runner learnt about the cloud. */
export interface CloudFacts {
  /** Service types present in the catalog (e.g. identity, image, network). */
  services: string[];
  /** The network service's public endpoint, when the catalog has one. */
  networkUrl?: string;
  /** Aliases from `GET /v2.0/extensions`, sorted (only with a network service). */
  networkExtensions?: string[];
  /** The external network tempest should use for gateways and floating IPs. */
  publicNetwork?: { id: string; name: string };
}

export interface ProbeOptions {
  /** Keystone v3 base URL, e.g. http://127.0.0.1:5000/v3 */
  identityUri: string;
  admin: { username: string; password: string; projectName: string; domainName: string };
  region?: string;
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

/** The endpoint URL of `type` for an interface and region (any region when none matches exactly). */
export function catalogEndpoint(catalog: readonly CatalogEntry[], type: string, region?: string, iface = 'public'): string | undefined {
  const entry = catalog.find((e) => e.type === type);
  if (!entry) return undefined;
  const candidates = entry.endpoints.filter((e) => e.interface === iface);
  const inRegion = region ? candidates.find((e) => (e.region_id ?? e.region) === region) : undefined;
  return (inRegion ?? candidates[0])?.url.replace(/\/+$/, '');
}

/**
 * The external network to hand to tempest: the one named `public` (the all-in-one's default,
 * as in DevStack), else the first external network, else none.
 */
export function pickPublicNetwork(networks: readonly NetworkSummary[]): { id: string; name: string } | undefined {
  const external = networks.filter((n) => n['router:external'] === true);
  const chosen = external.find((n) => n.name === 'public') ?? external[0];
  return chosen ? { id: chosen.id, name: chosen.name ?? '' } : undefined;
}

/** Extension aliases from a `GET /v2.0/extensions` body, sorted and de-duplicated. */
export function extensionAliases(body: unknown): string[] {
  const list = (body as { extensions?: unknown } | null)?.extensions;
  if (!Array.isArray(list)) throw new Error('network extensions: the response has no "extensions" list');
  const aliases = list.map((e: unknown) => (e as { alias?: unknown } | null)?.alias);
  if (aliases.some((a) => typeof a !== 'string' || a.length === 0)) throw new Error('network extensions: an entry has no alias');
  return [...new Set(aliases as string[])].sort();
}

/** Authenticates as the admin and reads the catalog, then the network facts when there is a network service. */
export async function probeCloud(opts: ProbeOptions): Promise<CloudFacts> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const auth = await request(`${opts.identityUri.replace(/\/+$/, '')}/auth/tokens`, timeoutMs, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: opts.admin.username, domain: { name: opts.admin.domainName }, password: opts.admin.password } },
        },
        scope: { project: { name: opts.admin.projectName, domain: { name: opts.admin.domainName } } },
      },
    }),
  });
  const token = auth.headers.get('x-subject-token');
  if (!token) throw new Error('identity: the token response has no X-Subject-Token');
  const catalog = ((auth.body as { token?: { catalog?: CatalogEntry[] } }).token?.catalog ?? []);
  const facts: CloudFacts = { services: [...new Set(catalog.map((e) => e.type))].sort() };

  const networkUrl = catalogEndpoint(catalog, 'network', opts.region);
  if (!networkUrl) return facts;
  facts.networkUrl = networkUrl;
  const headers = { 'x-auth-token': token };
  facts.networkExtensions = extensionAliases((await request(`${networkUrl}/v2.0/extensions`, timeoutMs, { headers })).body);
  const nets = (await request(`${networkUrl}/v2.0/networks?router%3Aexternal=true`, timeoutMs, { headers })).body as { networks?: NetworkSummary[] };
  facts.publicNetwork = pickPublicNetwork(nets.networks ?? []);
  return facts;
}

/** One JSON request; a non-2xx answer or a timeout is an error naming the URL. */
async function request(url: string, timeoutMs: number, init: RequestInit): Promise<{ headers: Headers; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`${init.method ?? 'GET'} ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  try {
    return { headers: res.headers, body: text ? JSON.parse(text) : undefined };
  } catch {
    throw new Error(`${init.method ?? 'GET'} ${url}: the response is not JSON`);
  }
}
