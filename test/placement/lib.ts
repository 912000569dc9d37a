/** Shared helpers of the placement suites: real HTTP calls to the harness' placement endpoint. */
import assert from 'node:assert/strict';

export interface PlacementResponse { status: number; json: any; text: string; headers: Headers }

/** A caller of one placement endpoint with one token. */
export function placementCaller(url: string, token: () => Promise<string> | string) {
  return async (method: string, path: string, o: { body?: unknown; version?: string; headers?: Record<string, string>; raw?: string } = {}): Promise<PlacementResponse> => {
    const headers: Record<string, string> = { 'x-auth-token': await token(), accept: 'application/json', ...o.headers };
    if (o.version !== undefined) headers['openstack-api-version'] = `placement ${o.version}`;
    const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (payload !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: any;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, json, text, headers: res.headers };
  };
}

/** Asserts placement's error body: status, title, detail, request id, and (from 1.23) a placement.* code. */
export function assertFault(r: PlacementResponse, status: number, code?: string): void {
  assert.equal(r.status, status, r.text);
  const e = r.json?.errors?.[0];
  assert.ok(e, `no placement error body: ${r.text}`);
  assert.equal(e.status, status);
  assert.equal(typeof e.title, 'string');
  assert.equal(typeof e.detail, 'string');
  assert.match(e.request_id, /^req-[0-9a-f-]+$/);
  assert.equal(r.headers.get('x-openstack-request-id'), e.request_id);
  if (code !== undefined) assert.equal(e.code, code, r.text);
}
