import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../platform/http/server.js';
import type { Fault } from '../platform/http/faults.js';
import type { Identity } from './identity.js';
import { register as versions } from './api/versions.js';
import { register as tokens } from './api/tokens.js';
import { register as authScopes } from './api/auth-scopes.js';
import { register as domains } from './api/domains.js';
import { register as projects } from './api/projects.js';
import { register as users } from './api/users.js';
import { register as groups } from './api/groups.js';
import { register as roles } from './api/roles.js';
import { register as assignments } from './api/assignments.js';
import { register as regions } from './api/regions.js';
import { register as services } from './api/services.js';
import { register as endpoints } from './api/endpoints.js';
import { register as endpointGroups } from './api/endpoint-groups.js';
import { register as policies } from './api/policies.js';
import { register as oauth } from './api/oauth.js';
import { register as domainConfigs } from './api/domain-configs.js';
import { register as credentials } from './api/credentials.js';
import { register as appCreds } from './api/app-creds.js';
import { register as accessRules } from './api/access-rules.js';
import { register as trusts } from './api/trusts.js';
import { register as unsupported } from './api/unsupported.js';

/** Keystone's fault body: {"error": {"code", "message", "title"}}. */
export const renderKeystoneFault = (f: Fault) => ({ error: { code: f.status, message: f.message, title: f.title } });

const modules = [versions, tokens, authScopes, domains, projects, users, groups, roles, assignments, regions, services,
  endpoints, endpointGroups, policies, oauth, domainConfigs, credentials, appCreds, accessRules, trusts, unsupported];

/** The identity v3 API as a Fastify app (listen on it, or `inject` requests in tests). */
export function createIdentityApp(id: Identity): FastifyInstance {
  const app = createApiServer({
    service: 'identity', logger: id.log, bodyLimit: id.config.platform.max_body_bytes, renderFault: renderKeystoneFault,
  });
  for (const register of modules) register(app, id);
  return app;
}
