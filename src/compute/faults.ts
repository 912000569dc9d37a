/**
 * Nova's faults: `{"<name>": {"code": N, "message": "..."}}` where the name follows the status
 * (itemNotFound, badRequest, forbidden, conflictingRequest, …, computeFault for anything else).
 * keystonemiddleware's 401 keeps its own `{"error": …}` shape, as in front of the real Nova.
 */
import { Fault, type FaultRenderer } from '../platform/http/faults.js';

const faultNames: Readonly<Record<number, string>> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
  409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented',
  503: 'serviceUnavailable',
};

export const renderNovaFault: FaultRenderer = (f: Fault) => {
  if (f.status === 401) return { error: { code: 401, title: f.title, message: f.message } };
  const name = faultNames[f.status] ?? 'computeFault';
  const body: Record<string, unknown> = { code: f.status, message: f.message };
  if ((f.status === 413 || f.status === 429) && f.headers['Retry-After']) body.retryAfter = f.headers['Retry-After'];
  return { [name]: body };
};

/** A Nova fault with `status` and the user-facing `message` (webob's explanation). */
export const novaFault = (status: number, message: string): Fault => new Fault(status, message);
export const badRequest = (message: string): Fault => novaFault(400, message);
export const forbidden = (message: string): Fault => novaFault(403, message);
export const notFound = (message: string): Fault => novaFault(404, message);
export const conflict = (message: string): Fault => novaFault(409, message);
/** webob's 410, what Nova's removed APIs (nova-network, XenAPI consoles) answer. */
export const gone = (): Fault => novaFault(410, 'This resource is no longer available.  No forwarding address is given.');

/** oslo.policy's denial as Nova words it. */
export const policyDenied = (rule: string): Fault => forbidden(`Policy doesn't allow ${rule} to be performed.`);
