/**
 * `POST /os-server-external-events` (for other services: the network service tells of ports,
 * the volume service of volumes): each event answered with a code — 200 accepted for an
 * instance on a host, 404 unknown instance, 422 instance on no host, 400 a tagged kind of event
 * without its tag — and the whole request 200, or 207 when any event failed. A network change
 * refreshes the instance's addresses (Nova's info cache heal); the compute agents wait for
 * their TAPs themselves, so plug events need nothing more.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { atLeast } from '../api/http.js';
import { validateBody, type Schema } from '../api/schema.js';
import { getInstance, updateInstance, InstanceGone } from './store.js';
import { refreshAddresses } from './conductor.js';
import { serversDb, type ServersApiDeps } from './api.js';
import type { ComputeRoutes } from '../api/http.js';

/** Events that mean nothing without a tag (the volume, the power state, the accelerator request). */
const TAG_REQUIRED = new Set(['volume-extended', 'power-update', 'accelerator-request-bound']);

function eventNames(req: FastifyRequest): string[] {
  const names = ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', 'network-vif-deleted'];
  if (atLeast(req, '2.51')) names.push('volume-extended');
  if (atLeast(req, '2.76')) names.push('power-update');
  if (atLeast(req, '2.82')) names.push('accelerator-request-bound');
  if (atLeast(req, '2.93')) names.push('volume-reimaged');
  return names;
}

const schema = (req: FastifyRequest): Schema => ({
  type: 'object',
  properties: {
    events: {
      type: 'array', minItems: 1,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', enum: eventNames(req) }, server_uuid: { type: 'string', format: 'uuid' },
          status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] }, tag: { type: 'string', maxLength: 255 },
        },
        required: ['name', 'server_uuid'], additionalProperties: false,
      },
    },
  },
  required: ['events'], additionalProperties: false,
});

interface ExternalEvent { name: string; server_uuid: string; status?: string; tag?: string; code?: number }

export function registerServerExternalEvents(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const db = serversDb(ctx);

  routes.post('/os-server-external-events', async (req, reply: FastifyReply) => {
    validateBody(schema(req), req.body);
    ctx.authorize(routes.caller(req), 'os_compute_api:os-server-external-events:create', {});
    const events = (req.body as { events: ExternalEvent[] }).events;
    let result = 200;
    const refresh = new Set<string>();
    for (const ev of events) {
      const inst = await getInstance(db, ev.server_uuid.toLowerCase());
      if (!inst) {
        Object.assign(ev, { status: 'failed', code: 404 });
      } else if (TAG_REQUIRED.has(ev.name) && ev.tag === undefined) {
        Object.assign(ev, { status: 'failed', code: 400 });
      } else if (inst.host) {
        Object.assign(ev, { status: 'completed', code: 200 });
        if (ev.name === 'network-changed' || ev.name === 'network-vif-deleted') refresh.add(inst.uuid);
      } else {
        Object.assign(ev, { status: 'failed', code: 422 });
      }
      if (ev.code !== 200) result = 207;
    }
    for (const uuid of refresh) {
      d.background('network-changed', async () => {
        const inst = await getInstance(db, uuid);
        if (!inst?.body.ports.length) return;
        const addresses = await refreshAddresses(d.network, inst);
        if (JSON.stringify(addresses) === JSON.stringify(inst.body.addresses)) return;
        await updateInstance(db, uuid, { body: { addresses } }).catch((err: unknown) => { if (!(err instanceof InstanceGone)) throw err; });
      });
    }
    reply.status(result);
    return { events };
  });
}
