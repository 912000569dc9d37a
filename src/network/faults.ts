/**
 * Neutron's faults: `{"NeutronError": {"type", "message", "detail"}}` where `type` names the
 * Neutron exception (NetworkNotFound, IpAddressGenerationFailure, …). Domain code throws
 * `netFault(status, type, message)`; generic platform faults map to webob's HTTP* names.
 */
import { Fault, type FaultRenderer } from '../platform/http/faults.js';

const genericTypes: Readonly<Record<number, string>> = {
  400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden', 404: 'HTTPNotFound', 405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict', 412: 'HTTPPreconditionFailed', 413: 'HTTPRequestEntityTooLarge', 415: 'HTTPUnsupportedMediaType',
  500: 'HTTPInternalServerError', 501: 'HTTPNotImplemented', 503: 'HTTPServiceUnavailable',
};
const platformKinds = new Set(['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'NotImplemented', 'TooLarge']);

export const renderNeutronFault: FaultRenderer = (f: Fault) => {
  if (f.status === 401) return { error: { code: 401, title: f.title, message: f.message } };
  const type = f.kind && !platformKinds.has(f.kind) ? f.kind : genericTypes[f.status] ?? 'HTTPError';
  return { NeutronError: { type, message: f.message, detail: '' } };
};

/** A Neutron exception by name. */
export const netFault = (status: number, type: string, message: string): Fault => new Fault(status, message, {}, type);

export const invalidInput = (message: string): Fault => netFault(400, 'InvalidInput', `Invalid input for operation: ${message}`);
export const badAttr = (attr: string, reason: string): Fault => netFault(400, 'HTTPBadRequest', `Invalid input for ${attr}. Reason: ${reason}.`);
export const inUse = (type: string, message: string): Fault => netFault(409, type, message);
export const notFoundOf = (type: string, message: string): Fault => netFault(404, type, message);
