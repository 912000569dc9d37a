import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import type { PolicyRow } from '../store/schema.js';
import { badRequest, notFound } from '../../platform/http/faults.js';
import { entityBody, extraOf, invalid, str } from './validate.js';
import { applyFilters, listBody } from './listing.js';
import { newId, parseJsonObject } from '../util.js';
import { limitList, linkTo, normalizeKeys, queryOf } from '../catalog/common.js';

const KNOWN = ['blob', 'type'] as const;

/** Keystone's policy schema: blob string, type string ≤ 255, both required on create. */
function validatePolicy(body: Record<string, unknown>, update: boolean): void {
  if (update && Object.keys(body).length === 0) throw invalid('policy', '{} does not have enough properties');
  str(body, 'blob', { required: !update });
  str(body, 'type', { required: !update, max: 255 });
}

/** Keystone stores the blob as JSON; a damaged value reads back as stored. */
const blobOf = (stored: string): unknown => { try { return JSON.parse(stored); } catch { return stored; } };

function render(req: FastifyRequest, p: PolicyRow): Record<string, unknown> {
  return { ...parseJsonObject(p.extra), id: p.id, blob: blobOf(p.blob), type: p.type, links: linkTo(req, `/v3/policies/${p.id}`) };
}

async function getPolicy(id: Identity, policyId: string): Promise<PolicyRow> {
  const p = await id.db.selectFrom('policy_blob').selectAll().where('id', '=', policyId).executeTakeFirst();
  if (!p) throw notFound(`Could not find policy: ${policyId}.`);
  return p;
}

/** /v3/policies: opaque policy blobs (deprecated in Keystone since Queens, still served). */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/policies', async (req) => {
    await id.authorize(req, 'identity:list_policies');
    const rows = await id.db.selectFrom('policy_blob').selectAll().orderBy('id').execute();
    const { items, truncated } = limitList(id, applyFilters(rows.map((p) => render(req, p)), queryOf(req), ['type']));
    return listBody(req, 'policies', items, truncated);
  });

  app.get<{ Params: { policy_id: string } }>('/v3/policies/:policy_id', async (req) => {
    await id.authorize(req, 'identity:get_policy');
    return { policy: render(req, await getPolicy(id, req.params.policy_id)) };
  });

  app.post('/v3/policies', async (req, reply) => {
    await id.authorize(req, 'identity:create_policy');
    const body = normalizeKeys(entityBody(req.body, 'policy'));
    validatePolicy(body, false);
    const row: PolicyRow = { id: newId(), type: body.type as string, blob: JSON.stringify(body.blob), extra: JSON.stringify(extraOf(body, KNOWN)) };
    await id.db.insertInto('policy_blob').values(row).execute();
    id.notify('identity.policy.created', { resource_info: row.id });
    reply.status(201);
    return { policy: render(req, row) };
  });

  app.patch<{ Params: { policy_id: string } }>('/v3/policies/:policy_id', async (req) => {
    await id.authorize(req, 'identity:update_policy');
    const body = entityBody(req.body, 'policy');
    validatePolicy(body, true);
    if ('id' in body && body.id !== req.params.policy_id) throw badRequest('Cannot change policy ID');
    const cur = await getPolicy(id, req.params.policy_id);
    const next: PolicyRow = {
      ...cur,
      type: (body.type as string | undefined) ?? cur.type,
      blob: body.blob === undefined ? cur.blob : JSON.stringify(body.blob),
      extra: JSON.stringify({ ...parseJsonObject(cur.extra), ...extraOf(body, KNOWN) }),
    };
    await id.db.updateTable('policy_blob').set(next).where('id', '=', cur.id).execute();
    id.notify('identity.policy.updated', { resource_info: cur.id });
    return { policy: render(req, next) };
  });

  app.delete<{ Params: { policy_id: string } }>('/v3/policies/:policy_id', async (req, reply) => {
    await id.authorize(req, 'identity:delete_policy');
    await getPolicy(id, req.params.policy_id);
    await id.db.deleteFrom('policy_blob').where('id', '=', req.params.policy_id).execute();
    id.notify('identity.policy.deleted', { resource_info: req.params.policy_id });
    reply.status(204).send();
  });
}
