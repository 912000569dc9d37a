// Calls to the network API over real HTTP (fetch), with assertions in Neutron's terms.
import assert from 'node:assert/strict';

/** A response: status, parsed JSON (or the text when it is not JSON) and the raw text. */
export interface ApiResponse { status: number; body: any; text: string }

/** A client of one network API base URL. */
export interface NetworkApi {
  /** Sends a request; a string body is sent as is (hostile input), anything else as JSON. */
  call(method: string, path: string, token: string | undefined, body?: unknown): Promise<ApiResponse>;
  /** A request that must succeed with `status` (default by method); returns the JSON body. */
  ok(method: string, path: string, token: string, body?: unknown, status?: number): Promise<any>;
  /** A request that must fail with `status` (and Neutron `type` when given); returns the message. */
  fault(method: string, path: string, token: string, body: unknown, status: number, type?: string): Promise<string>;
}

export function networkApi(baseUrl: string): NetworkApi {
  const call: NetworkApi['call'] = async (method, path, token, body) => {
    const headers: Record<string, string> = {};
    if (token) headers['x-auth-token'] = token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
    return { status: res.status, body: parsed, text };
  };
  return {
    call,
    ok: async (method, path, token, body, status = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200) => {
      const r = await call(method, path, token, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      return r.body;
    },
    fault: async (method, path, token, body, status, type) => {
      const r = await call(method, path, token, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.body?.NeutronError?.message, 'string', `${method} ${path}: Neutron fault body expected, got ${r.text}`);
      if (type) assert.equal(r.body.NeutronError.type, type, `${method} ${path}: ${r.text}`);
      return r.body.NeutronError.message as string;
    },
  };
}
