import { Agent, request } from 'node:http';

/** A decoded HTTP response. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Keep-alive HTTP client bound to one base URL (http only; the benchmarks stay on loopback). */
export interface HttpClient {
  send(method: string, path: string, opts?: { headers?: Record<string, string>; json?: unknown; expect?: number }): Promise<HttpResponse>;
  close(): void;
}

/**
 * Creates a client whose agent keeps up to `maxSockets` connections open, so a load run
 * measures the server rather than TCP setup. `path` is appended to the base URL's path.
 */
export function createHttpClient(baseUrl: string, maxSockets = 16): HttpClient {
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:') throw new Error(`only http:// URLs are supported, got ${baseUrl}`);
  const agent = new Agent({ keepAlive: true, maxSockets });
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    send(method, path, opts = {}) {
      const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      return new Promise<HttpResponse>((resolve, reject) => {
        const req = request(
          { host: base.hostname, port: base.port || 80, method, path: prefix + path, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const out = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
              if (opts.expect !== undefined && out.status !== opts.expect) {
                reject(new Error(`${method} ${path}: expected ${opts.expect}, got ${out.status} ${out.body.slice(0, 200)}`));
              } else resolve(out);
            });
          },
        );
        req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
