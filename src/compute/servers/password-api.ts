/**
 * `/servers/{id}/consoles` (removed from Nova: 410) and `/servers/{id}/os-server-password`: the encrypted password a guest posted to the metadata
 * service (`{"password": ""}` when there is none), and its removal (204) — which, as in Nova,
 * forgets the stored value and never changes the guest's own password.
 */
import type { FastifyReply } from 'fastify';
import type { ComputeContext } from '../context.js';
import { params, type ComputeRoutes } from '../api/http.js';
import { updateInstance, type InstanceBody } from './store.js';
import { serversDb, visibleInstance } from './api.js';
import { gone } from '../faults.js';

/** The instance body with the password the metadata service keeps for it (Nova's password_* system metadata). */
type PasswordBody = Partial<InstanceBody> & { password?: string | null };

export function registerServerPassword(routes: ComputeRoutes, ctx: ComputeContext): void {
  const serverId = (req: Parameters<typeof params>[0]) => params<{ server_id: string }>(req).server_id;

  routes.get('/servers/:server_id/os-server-password', async (req) => {
    const inst = await visibleInstance(ctx, routes.caller(req), serverId(req), 'os_compute_api:os-server-password:show');
    return { password: (inst.body as PasswordBody).password || '' };
  });

  // os-consoles (XenAPI's console pools) left Nova in Ussuri: its routes answer 410 there too.
  routes.get('/servers/:server_id/consoles', async () => { throw gone(); });
  routes.post('/servers/:server_id/consoles', async () => { throw gone(); });
  routes.get('/servers/:server_id/consoles/:console_id', async () => { throw gone(); });
  routes.delete('/servers/:server_id/consoles/:console_id', async () => { throw gone(); });

  routes.delete('/servers/:server_id/os-server-password', async (req, reply: FastifyReply) => {
    const inst = await visibleInstance(ctx, routes.caller(req), serverId(req), 'os_compute_api:os-server-password:clear');
    const body: PasswordBody = { password: null };
    await updateInstance(serversDb(ctx), inst.uuid, { body });
    reply.status(204);
    return reply.send();
  });
}
