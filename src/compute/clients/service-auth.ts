/**
 * The compute service's own identity towards the other services: a token of its service user
 * (`nova` in project `service`, admin there), obtained with its password from the identity API and
 * renewed before it expires. Nova does the same through keystoneauth.
 */
export interface ServiceCredentials {
  /** The identity API's v3 URL, e.g. http://127.0.0.1:5000/v3. */
  readonly identityUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName?: string;
  readonly domain?: string;
}

export class ServiceAuth {
  #token: { id: string; expires: number } | null = null;
  #pending: Promise<string> | null = null;

  constructor(readonly creds: ServiceCredentials) {}

  /** A valid token (cached until a minute before it expires). */
  async token(): Promise<string> {
    if (this.#token && this.#token.expires - 60_000 > Date.now()) return this.#token.id;
    this.#pending ??= this.#issue().finally(() => { this.#pending = null; });
    return this.#pending;
  }

  /** Forgets the cached token (after a 401: it was revoked or the keys rotated). */
  invalidate(): void { this.#token = null; }

  async #issue(): Promise<string> {
    const domain = { id: this.creds.domain ?? 'default' };
    const res = await fetch(`${this.creds.identityUrl.replace(/\/$/, '')}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: this.creds.username, domain, password: this.creds.password } } },
          scope: { project: { name: this.creds.projectName ?? 'service', domain } },
        },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 201) throw new Error(`identity refused the ${this.creds.username} service user: HTTP ${res.status} ${await res.text()}`);
    const id = res.headers.get('x-subject-token');
    const body = await res.json() as { token?: { expires_at?: string } };
    if (!id) throw new Error('identity answered without a token');
    this.#token = { id, expires: Date.parse(body.token?.expires_at ?? '') || Date.now() + 300_000 };
    return id;
  }
}

/** An HTTP answer another service gave that was not the expected success. */
export class ServiceCallError extends Error {
  constructor(readonly service: string, readonly status: number, readonly body: string, what: string) {
    super(`${service}: ${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }

  /** The other service's own message (Neutron's NeutronError.message, Glance's text…), for faults users read. */
  get detail(): string {
    try {
      const j = JSON.parse(this.body) as Record<string, any>;
      return String(j.NeutronError?.message ?? j.message ?? Object.values(j)[0]?.message ?? this.body);
    } catch {
      return this.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    }
  }
}

/** A JSON API of another service called with the service token (retried once on 401 with a fresh token). */
export class ServiceApi {
  constructor(readonly service: string, readonly baseUrl: string, readonly auth: ServiceAuth, readonly headers: Readonly<Record<string, string>> = {}) {}

  async call(method: string, path: string, o: { body?: unknown; ok?: readonly number[]; what?: string; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any }> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...this.headers, ...o.headers, 'x-auth-token': await this.auth.token() };
      if (o.body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
      });
      const text = await res.text();
      if (res.status === 401 && attempt === 0) { this.auth.invalidate(); continue; }
      if (!(o.ok ?? [200, 201, 202, 204]).includes(res.status)) throw new ServiceCallError(this.service, res.status, text, o.what ?? `${method} ${path}`);
      let json: any = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = text; }
      return { status: res.status, json };
    }
  }
}
