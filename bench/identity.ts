/**
 * Identity benchmark: the same three Keystone v3 operations against Nephos and a Keystone peer,
 * one side after the other so they never compete for the CPU.
 */
import { createHttpClient } from './lib/http-client.js';
import type { HttpClient } from './lib/http-client.js';
import { runLoad } from './lib/load.js';
import type { LoadResult } from './lib/load.js';

/** A cloud to measure: identity v3 base URL and the `admin` user's password. */
export interface IdentityTarget {
  url: string;
  password: string;
}

/** The measured operations, in table order. */
export const IDENTITY_OPERATIONS = ['token issue (password)', 'token validate', 'project list'] as const;
export type IdentityOperation = (typeof IDENTITY_OPERATIONS)[number];

/** Results per operation for one side. */
export type IdentityResults = Record<IdentityOperation, LoadResult>;

/** Load shape shared by all operations. */
export interface IdentityLoad {
  concurrency: number;
  durationMs: number;
}

function passwordAuth(password: string): unknown {
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    },
  };
}

async function issueToken(client: HttpClient, password: string): Promise<string> {
  const res = await client.send('POST', '/auth/tokens', { json: passwordAuth(password), expect: 201 });
  const token = res.headers['x-subject-token'];
  if (typeof token !== 'string' || token.length === 0) throw new Error('token issue: no X-Subject-Token header');
  return token;
}

/** Measures every operation against one target. */
export async function benchIdentityTarget(target: IdentityTarget, load: IdentityLoad): Promise<IdentityResults> {
  const client = createHttpClient(target.url, load.concurrency * 2);
  try {
    const adminToken = await issueToken(client, target.password);
    const subjectToken = await issueToken(client, target.password);
    const auth = { 'x-auth-token': adminToken };
    const requests: Record<IdentityOperation, () => Promise<void>> = {
      'token issue (password)': async () => {
        await issueToken(client, target.password);
      },
      'token validate': async () => {
        await client.send('GET', '/auth/tokens', { headers: { ...auth, 'x-subject-token': subjectToken }, expect: 200 });
      },
      'project list': async () => {
        await client.send('GET', '/projects', { headers: auth, expect: 200 });
      },
    };
    const out = {} as IdentityResults;
    for (const op of IDENTITY_OPERATIONS) out[op] = await runLoad({ ...load, request: requests[op] });
    return out;
  } finally {
    client.close();
  }
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/**
 * A fixed-width table: operation, nephos rps/p50/p99, keystone rps/p50/p99 (ms), and the
 * rps ratio nephos/keystone. Error counts are appended when any request failed.
 */
export function formatIdentityTable(nephos: IdentityResults, keystone: IdentityResults): string {
  const header = ['operation', 'nephos rps', 'p50 ms', 'p99 ms', 'keystone rps', 'p50 ms', 'p99 ms', 'ratio'];
  const rows = IDENTITY_OPERATIONS.map((op) => {
    const n = nephos[op];
    const k = keystone[op];
    return [op, fmt(n.rps), fmt(n.p50), fmt(n.p99), fmt(k.rps), fmt(k.p50), fmt(k.p99), k.rps > 0 ? `${fmt(n.rps / k.rps, 2)}x` : '-'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const op of IDENTITY_OPERATIONS) {
    for (const [side, r] of [['nephos', nephos[op]], ['keystone', keystone[op]]] as const) {
      if (r.errors > 0) out.push(`! ${side} ${op}: ${r.errors} errors (first: ${r.firstError ?? '?'})`);
    }
  }
  return out.join('\n');
}
