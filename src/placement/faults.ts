/**
 * Placement's faults: `{"errors": [{"status", "title", "detail", "code", "request_id"}]}` (the
 * API-WG error format). Domain code throws `placementFault(status, message, code)`; the code is
 * one of placement's `placement.*` symbols (`code` appears from microversion 1.23, added per
 * request by the app, as is `request_id`). A 401 is keystonemiddleware's body, as in placement.
 */
import { Fault, type FaultRenderer } from '../platform/http/faults.js';

/** Placement's error codes (placement/errors.py). */
export const codes = {
  DEFAULT: 'placement.undefined_code',
  INVENTORY_INUSE: 'placement.inventory.inuse',
  CONCURRENT_UPDATE: 'placement.concurrent_update',
  DUPLICATE_NAME: 'placement.duplicate_name',
  PROVIDER_IN_USE: 'placement.resource_provider.inuse',
  PROVIDER_CANNOT_DELETE_PARENT: 'placement.resource_provider.cannot_delete_parent',
  RESOURCE_PROVIDER_NOT_FOUND: 'placement.resource_provider.not_found',
  ILLEGAL_DUPLICATE_QUERYPARAM: 'placement.query.duplicate_key',
  QUERYPARAM_BAD_VALUE: 'placement.query.bad_value',
  QUERYPARAM_MISSING_VALUE: 'placement.query.missing_value',
} as const;

/** webob's explanation of each status, which placement's `detail` starts with. */
const explanations: Readonly<Record<number, string>> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  406: 'The resource could not be generated that was acceptable to your request.',
  409: 'There was a conflict when trying to complete your request.',
  413: 'The request is larger than the server is willing or able to process.',
  415: 'The request media type is not supported by this server.',
  500: 'The server has either erred or is incapable of performing the requested operation.',
  501: 'The server does not support the requested operation.',
  503: 'The server is currently unavailable. Please try again at a later time.',
};

/** A placement fault: HTTP status, message (the detail) and placement error code. */
export const placementFault = (status: number, message: string, code: string = codes.DEFAULT): Fault => new Fault(status, message, {}, code);
export const badRequest = (message: string, code?: string): Fault => placementFault(400, message, code);
export const notFound = (message: string, code?: string): Fault => placementFault(404, message, code);
export const conflict = (message: string, code?: string): Fault => placementFault(409, message, code);
/** A 409 with `placement.concurrent_update`. */
export const concurrentUpdate = (message: string): Fault => placementFault(409, message, codes.CONCURRENT_UPDATE);

/** Thrown (and caught) inside a transaction when a provider's generation moved under it: retry. */
export class ProviderGenerationConflict extends Error {
  constructor() {
    super('Another thread concurrently updated the resource provider data. Please retry your update');
    this.name = 'ProviderGenerationConflict';
  }
}

const placementCode = (f: Fault): string => (f.kind?.startsWith('placement.') ? f.kind : codes.DEFAULT);

/** The `detail` of a fault as webob writes it: the status' explanation, then the message. */
export function detailOf(f: Fault): string {
  const explanation = f.status === 405 ? undefined : explanations[f.status];
  if (!explanation || f.message === explanation || f.message === 'The resource could not be found.') return f.message;
  return `${explanation}\n\n ${f.message}  `;
}

/**
 * Renders a fault. `code` is always written here; the app removes it below microversion 1.23
 * and adds `request_id` (it knows the request, the renderer does not).
 */
export const renderPlacementFault: FaultRenderer = (f: Fault) => {
  if (f.status === 401) return { error: { code: 401, title: f.title, message: f.message } };
  return { errors: [{ status: f.status, title: f.title, detail: detailOf(f), code: placementCode(f) }] };
};
