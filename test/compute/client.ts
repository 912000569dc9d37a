// Calls to the compute API over real HTTP (fetch), with assertions in Nova's terms.
import assert from 'node:assert/strict';

/** A response: status, headers, parsed JSON (or the text when it is not JSON) and the raw text. */
export interface ApiResponse { status: number; headers: Headers; body: any; text: string }

export interface CallOptions {
  /** Microversion for `OpenStack-API-Version: compute X` (none: the default 2.1). */
  readonly version?: string;
  readonly headers?: Record<string, string>;
}

/** A client of one compute API base URL (`http://host:port`; paths start with `/v2.1/…`). */
export interface ComputeApi {
  /** Sends a request; a string body is sent as is (hostile input), anything else as JSON. */
  call(method: string, path: string, token: string | undefined, body?: unknown, opts?: CallOptions): Promise<ApiResponse>;
  /** A request that must answer `status`; returns the JSON body. */
  ok(method: string, path: string, token: string, body?: unknown, status?: number, opts?: CallOptions): Promise<any>;
  /** A request that must fail with `status` and Nova's fault body `{"<name>": {code, message}}`; returns the message. */
  fault(method: string, path: string, token: string, body: unknown, status: number, opts?: CallOptions & { name?: string }): Promise<string>;
}

const FAULT_NAMES: Record<number, string> = { 400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest', 413: 'overLimit', 501: 'notImplemented' };

export function computeApi(baseUrl: string): ComputeApi {
  const call: ComputeApi['call'] = async (method, path, token, body, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (token) headers['x-auth-token'] = token;
    if (opts.version) headers['openstack-api-version'] = `compute ${opts.version}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    call,
    ok: async (method, path, token, body, status = 200, opts) => {
      const r = await call(method, path, token, body, opts);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      return r.body;
    },
    fault: async (method, path, token, body, status, opts = {}) => {
      const r = await call(method, path, token, body, opts);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      const name = opts.name ?? FAULT_NAMES[status] ?? 'computeFault';
      assert.equal(r.body?.[name]?.code, status, `${method} ${path}: Nova fault ${name} expected, got ${r.text}`);
      assert.equal(typeof r.body[name].message, 'string');
      return r.body[name].message as string;
    },
  };
}
