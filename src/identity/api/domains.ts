import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { badRequest, notFound } from '../../platform/http/faults.js';
import { DOMAIN_ROOT, type ProjectRow } from '../store/schema.js';
import { bool, newId } from '../util.js';
import { applyFilters, listBody } from './listing.js';
import { assertNotFederated, createDomain, deleteDomain, updateDomain } from '../resources/domain-ops.js';
import { domainRef, extrasOf, withLink } from '../resources/entity.js';
import { loadDomain, projectTags, tagsOf } from '../resources/project-store.js';
import { filterValues, policyTarget } from '../resources/policy-target.js';
import { applyLimit, filterBool, inexact, queryOf } from '../resources/query.js';
import {
  bodyObject, checkBool, checkDescription, checkName, checkProjectOptions, checkTags, requireSomething,
} from '../resources/schema.js';

/** Attributes Keystone models for domains (everything else is kept as extra). */
const MODELLED = ['name', 'description', 'enabled', 'tags', 'options', 'domain_id', 'parent_id', 'is_domain', 'explicit_domain_id'];
const DOMAIN_NAME_MAX = 64;

const notFoundDomain = (domainId: string) => notFound(`Could not find domain: ${domainId}.`);

async function render(id: Identity, req: FastifyRequest, row: ProjectRow): Promise<Record<string, unknown>> {
  return withLink(req, 'domains', domainRef(row, await projectTags(id.db, row.id)));
}

/** Keystone's uuid check for `explicit_domain_id`: 32 lowercase hex digits. */
function checkExplicitId(v: unknown): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{32}$/.test(v)) throw badRequest('Domain ID does not conform to required UUID format.');
  return v;
}

/** /v3/domains: CRUD of domains. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/domains', async (req) => {
    const q = queryOf(req.query);
    await id.authorize(req, 'identity:list_domains', policyTarget({ filters: filterValues(q, ['name', 'enabled']) }));
    let rows = await id.db.selectFrom('project').selectAll().where('is_domain', '=', 1).where('id', '!=', DOMAIN_ROOT).orderBy('name').execute();
    if ('name' in q) rows = rows.filter((r) => r.name === q.name);
    if ('enabled' in q) rows = rows.filter((r) => bool(r.enabled) === filterBool(q.enabled));
    const tags = await tagsOf(id.db, rows.map((r) => r.id));
    let items = rows.map((r) => withLink(req, 'domains', domainRef(r, tags.get(r.id) ?? [])));
    items = applyFilters(items, inexact(q), ['name', 'description']);
    const limited = applyLimit(id, items);
    return listBody(req, 'domains', limited.items, limited.truncated);
  });

  app.get<{ Params: { domain_id: string } }>('/v3/domains/:domain_id', async (req) => {
    const { domain_id } = req.params;
    const row = await loadDomain(id.db, domain_id);
    const target = row ? { domain: domainRef(row, await projectTags(id.db, row.id)) } : {};
    await id.authorize(req, 'identity:get_domain', policyTarget({ view: { domain_id }, target }));
    if (!row) throw notFoundDomain(domain_id);
    return { domain: await render(id, req, row) };
  });

  app.post('/v3/domains', async (req, reply) => {
    await id.authorize(req, 'identity:create_domain', policyTarget({}));
    const body = bodyObject(req.body, 'domain');
    const name = checkName(body, 'name', DOMAIN_NAME_MAX, true)!;
    const description = checkDescription(body);
    const enabled = checkBool(body, 'enabled');
    const tags = body.tags === undefined ? undefined : checkTags(body.tags);
    const options = body.options === undefined ? undefined : checkProjectOptions(body.options);
    const domainId = body.explicit_domain_id === undefined || body.explicit_domain_id === null ? newId() : checkExplicitId(body.explicit_domain_id);
    assertNotFederated(domainId, name);
    const row = await createDomain(id, { id: domainId, name, description, enabled, tags, options, extra: extrasOf(body, MODELLED) });
    reply.status(201);
    return { domain: await render(id, req, row) };
  });

  app.patch<{ Params: { domain_id: string } }>('/v3/domains/:domain_id', async (req) => {
    const { domain_id } = req.params;
    const row = await loadDomain(id.db, domain_id);
    if (!row) throw notFoundDomain(domain_id);
    await id.authorize(req, 'identity:update_domain', policyTarget({ view: { domain_id }, target: { domain: domainRef(row, await projectTags(id.db, row.id)) } }));
    const body = bodyObject(req.body, 'domain');
    requireSomething(body);
    const changes = {
      name: checkName(body, 'name', DOMAIN_NAME_MAX, false),
      description: checkDescription(body),
      enabled: checkBool(body, 'enabled'),
      tags: body.tags === undefined ? undefined : checkTags(body.tags),
      options: body.options === undefined ? undefined : checkProjectOptions(body.options),
      extra: extrasOf(body, MODELLED),
    };
    const updated = await updateDomain(id, row, changes, body);
    return { domain: await render(id, req, updated) };
  });

  app.delete<{ Params: { domain_id: string } }>('/v3/domains/:domain_id', async (req, reply) => {
    const { domain_id } = req.params;
    const row = await loadDomain(id.db, domain_id);
    if (!row) throw notFoundDomain(domain_id);
    await id.authorize(req, 'identity:delete_domain', policyTarget({ view: { domain_id }, target: { domain: domainRef(row, []) } }));
    await deleteDomain(id, row);
    reply.status(204).send();
  });
}
