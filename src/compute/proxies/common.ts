/**
 * What Nova's network proxy APIs share: the microversion cap (they answer 404 from 2.36, as Nova
 * does for a method outside its versions), the network service client acting with the caller's
 * own token, the network service's refusals read back (status, Neutron's exception type and
 * message), and the instance lookup of the server-scoped routes and actions.
 */
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../platform/auth/index.js';
import { atLeast } from '../api/http.js';
import { novaFault, notFound } from '../faults.js';
import { ServiceCallError } from '../clients/service-auth.js';
import type { NetworkClient } from '../clients/network.js';

/** The first microversion without the proxy APIs (Nova's MAX_PROXY_API_SUPPORT_VERSION is 2.35). */
export const PROXY_GONE_FROM = '2.36';

/** Nova's answer to a method outside its microversions: a bare 404. */
export const versionNotFound = (): Error => notFound('The resource could not be found.');

/** 404 from microversion `goneFrom` on (2.36 for the proxy APIs). */
export function capVersion(req: FastifyRequest, goneFrom = PROXY_GONE_FROM): void {
  if (atLeast(req, goneFrom)) throw versionNotFound();
}

/** The network service as the request's caller (its token, its project). */
export const callerNetwork = (network: NetworkClient, req: FastifyRequest): NetworkClient => network.asCaller(authOf(req).token);

/** A refusal of the network service: its status, Neutron's exception type and message. */
export interface NetRefusal { readonly status: number; readonly type: string; readonly message: string }

/** The refusal `err` is, or undefined when it is not an answer of the network service. */
export function refusalOf(err: unknown): NetRefusal | undefined {
  if (!(err instanceof ServiceCallError)) return undefined;
  let type = '';
  try { type = String((JSON.parse(err.body) as { NeutronError?: { type?: string } }).NeutronError?.type ?? ''); } catch { /* not JSON */ }
  return { status: err.status, type, message: err.detail };
}

/**
 * Runs a network service call, turning its refusals into Nova's faults: `map` decides for the
 * statuses it knows (returning a fault, or undefined to pass on); any other 4xx is passed through
 * with the network service's message; anything else is thrown as is (a 500).
 */
export async function netCall<T>(work: () => Promise<T>, map: (r: NetRefusal) => Error | undefined = () => undefined): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const r = refusalOf(err);
    if (!r) throw err;
    const mapped = map(r);
    if (mapped) throw mapped;
    if (r.status >= 400 && r.status < 500 && r.status !== 401) throw novaFault(r.status, r.message);
    throw err;
  }
}

/** The last value of a query parameter (webob's `GET.get`). */
export function queryLast(req: FastifyRequest, key: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Whether a query parameter is present at all. */
export const queryHas = (req: FastifyRequest, key: string): boolean => Object.prototype.hasOwnProperty.call(req.query ?? {}, key);
