/**
 * The one catalogue of API faults. Domain code throws these; each API renders them once, at the
 * edge, in its own dialect (Keystone `{"error":…}`, Nova `{"itemNotFound":…}`, Neutron …).
 */
export const statusTitles: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 410: 'Gone', 413: 'Request Entity Too Large', 415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** A typed API error: an HTTP status, a message for the user, and optional extra headers. */
export class Fault extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly kind?: string,
  ) {
    super(message);
    this.name = 'Fault';
  }
  get title(): string { return statusTitles[this.status] ?? 'Error'; }
}

export const badRequest = (msg: string): Fault => new Fault(400, msg, {}, 'BadRequest');
export const unauthorized = (msg = 'The request you have made requires authentication.'): Fault => new Fault(401, msg, {}, 'Unauthorized');
export const forbidden = (msg = 'You are not authorized to perform the requested action.'): Fault => new Fault(403, msg, {}, 'Forbidden');
export const notFound = (msg: string): Fault => new Fault(404, msg, {}, 'NotFound');
export const conflict = (msg: string): Fault => new Fault(409, msg, {}, 'Conflict');
export const notImplemented = (msg: string): Fault => new Fault(501, msg, {}, 'NotImplemented');
export const tooLarge = (msg = 'Request Entity Too Large'): Fault => new Fault(413, msg, {}, 'TooLarge');

/** How one API writes a fault body. */
export type FaultRenderer = (fault: Fault) => unknown;
