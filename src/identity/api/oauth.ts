import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import type { Identity } from '../identity.js';
import type { OAuthConsumerRow } from '../store/schema.js';
import { badRequest, notFound, notImplemented } from '../../platform/http/faults.js';
import { extraOf, invalid, str } from './validate.js';
import { listBody } from './listing.js';
import { newId, parseJsonObject } from '../util.js';
import { linkTo, normalizeKeys, requireMatchingId } from '../catalog/common.js';

const KNOWN = ['description', 'secret'] as const;
const OAUTH1_UNSUPPORTED = 'OAuth1 delegation (request tokens, access tokens, authorization) is not supported by Nephos; only consumer management is available.';

/** Consumer secrets are random 128-bit values, so a plain SHA-256 is enough to keep them unreadable at rest. */
const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

function render(req: FastifyRequest, c: OAuthConsumerRow): Record<string, unknown> {
  return { ...parseJsonObject(c.extra), id: c.id, description: c.description, links: linkTo(req, `/v3/OS-OAUTH1/consumers/${c.id}`) };
}

async function getConsumer(id: Identity, consumerId: string): Promise<OAuthConsumerRow> {
  const c = await id.db.selectFrom('oauth_consumer').selectAll().where('id', '=', consumerId).executeTakeFirst();
  if (!c) throw notFound('Consumer not found');
  return c;
}

/** Keystone's consumer body: the object itself must be one; description is a string or null. */
function consumerBody(body: unknown): Record<string, unknown> {
  const o = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).consumer : undefined;
  if (o === undefined) return {};
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw invalid('consumer', `${JSON.stringify(o)} is not of type 'object'`);
  return o as Record<string, unknown>;
}

/** /v3/OS-OAUTH1/consumers (managed like Keystone's); the OAuth1 delegation flow answers 501. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/OS-OAUTH1/consumers', async (req) => {
    await id.authorize(req, 'identity:list_consumers');
    const rows = await id.db.selectFrom('oauth_consumer').selectAll().orderBy('id').execute();
    return listBody(req, 'consumers', rows.map((c) => render(req, c)));
  });

  app.get<{ Params: { consumer_id: string } }>('/v3/OS-OAUTH1/consumers/:consumer_id', async (req) => {
    await id.authorize(req, 'identity:get_consumer');
    return { consumer: render(req, await getConsumer(id, req.params.consumer_id)) };
  });

  app.post('/v3/OS-OAUTH1/consumers', async (req, reply) => {
    await id.authorize(req, 'identity:create_consumer');
    const body = normalizeKeys(consumerBody(req.body));
    str(body, 'description', { nullable: true });
    const secret = randomUUID().replace(/-/g, '');
    const row: OAuthConsumerRow = {
      id: newId(), description: (body.description as string | null | undefined) ?? null, secret_hash: hashSecret(secret),
      extra: JSON.stringify(extraOf(body, KNOWN)),
    };
    await id.db.insertInto('oauth_consumer').values(row).execute();
    id.notify('identity.OS-OAUTH1:consumer.created', { resource_info: row.id });
    reply.status(201);
    return { consumer: { ...render(req, row), secret } };
  });

  app.patch<{ Params: { consumer_id: string } }>('/v3/OS-OAUTH1/consumers/:consumer_id', async (req) => {
    await id.authorize(req, 'identity:update_consumer');
    const body = consumerBody(req.body);
    if (Object.keys(body).length === 0) throw invalid('consumer', '{} does not have enough properties');
    str(body, 'description', { nullable: true });
    if ('secret' in body) throw badRequest(`Invalid input for field 'consumer': ${JSON.stringify(body)} should not be valid under {'required': ['secret']}`);
    requireMatchingId(body, req.params.consumer_id);
    const cur = await getConsumer(id, req.params.consumer_id);
    const norm = normalizeKeys(body);
    const next: OAuthConsumerRow = {
      ...cur,
      description: norm.description === undefined ? cur.description : (norm.description as string | null),
      extra: JSON.stringify({ ...parseJsonObject(cur.extra), ...extraOf(norm, KNOWN) }),
    };
    await id.db.updateTable('oauth_consumer').set(next).where('id', '=', cur.id).execute();
    id.notify('identity.OS-OAUTH1:consumer.updated', { resource_info: cur.id });
    return { consumer: render(req, next) };
  });

  app.delete<{ Params: { consumer_id: string } }>('/v3/OS-OAUTH1/consumers/:consumer_id', async (req, reply) => {
    await id.authorize(req, 'identity:delete_consumer');
    await getConsumer(id, req.params.consumer_id);
    await id.db.deleteFrom('oauth_consumer').where('id', '=', req.params.consumer_id).execute();
    id.changed();
    id.notify('identity.OS-OAUTH1:consumer.deleted', { resource_info: req.params.consumer_id });
    reply.status(204).send();
  });

  const unsupported = async () => { throw notImplemented(OAUTH1_UNSUPPORTED); };
  for (const path of ['/v3/OS-OAUTH1/request_token', '/v3/OS-OAUTH1/access_token', '/v3/OS-OAUTH1/authorize', '/v3/OS-OAUTH1/authorize/:request_token_id']) {
    app.all(path, unsupported);
  }
}
