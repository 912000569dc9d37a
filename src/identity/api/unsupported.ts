import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity.js';
import { notImplemented } from '../../platform/http/faults.js';

/** Extensions Nephos does not offer answer a clear 501 instead of a bare 404. */
const prefixes: readonly [string, string][] = [
  ['/v3/OS-FEDERATION', 'Federation (SAML2, OpenID Connect, identity providers, mappings) is not supported by Nephos.'],
  ['/v3/auth/OS-FEDERATION', 'Federated authentication is not supported by Nephos.'],
  ['/v3/OS-SIMPLE-CERT', 'PKI certificates are not supported by Nephos.'],
  ['/v3/users/:user_id/OS-OAUTH1', 'OAuth1 delegation is not supported by Nephos.'],
  ['/v3/registered_limits', 'Unified limits are not supported by Nephos yet.'],
  ['/v3/limits', 'Unified limits are not supported by Nephos yet.'],
];

export function register(app: FastifyInstance, _id: Identity): void {
  for (const [prefix, why] of prefixes) {
    const handler = async () => { throw notImplemented(why); };
    app.all(prefix, handler);
    app.all(`${prefix}/*`, handler);
  }
}
