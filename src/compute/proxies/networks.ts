/**
 * Nova's network proxy APIs (deprecated; 404 from microversion 2.36): `/os-networks` and
 * `/os-tenant-networks`, list and show — the networks the caller sees in the network service
 * (an admin all of them; a project its own, the shared and the external ones), in the shapes
 * Nova keeps for them since nova-network went: `os-networks` shows `id` and `label` (the name)
 * with its other nova-network fields null (more of them for an admin); `os-tenant-networks`
 * shows `id`, `label` and a `cidr` of "None". Creating, deleting and associating networks went
 * with nova-network: 410 at every microversion, as in Nova.
 */
import type { FastifyRequest } from 'fastify';
import { params, type ComputeRoutes } from '../api/http.js';
import { gone, notFound } from '../faults.js';
import type { Caller } from '../context.js';
import type { NetNetwork } from '../clients/network.js';
import type { ServersApiDeps } from '../servers/api.js';
import { callerNetwork, capVersion, netCall } from './common.js';

const FIELDS = ['id', 'cidr', 'netmask', 'gateway', 'broadcast', 'dns1', 'dns2', 'cidr_v6', 'gateway_v6', 'label', 'netmask_v6'] as const;
const ADMIN_FIELDS = ['created_at', 'updated_at', 'deleted_at', 'deleted', 'injected', 'bridge', 'vlan', 'vpn_public_address', 'vpn_public_port',
  'vpn_private_address', 'dhcp_start', 'project_id', 'host', 'bridge_interface', 'multi_host', 'priority', 'rxtx_base', 'mtu', 'dhcp_server',
  'enable_dhcp', 'share_address'] as const;

/** A network as `os-networks` shows it: its id and name; the nova-network fields are null. */
function networkView(n: NetNetwork, caller: Caller): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of caller.isAdmin ? [...FIELDS, ...ADMIN_FIELDS] : FIELDS) out[f] = f === 'id' ? n.id : f === 'label' ? n.name : null;
  return out;
}

/** A network as `os-tenant-networks` shows it (the string "None" as cidr is what Nova answers). */
const tenantNetworkView = (n: NetNetwork): Record<string, unknown> => ({ id: n.id, cidr: 'None', label: n.name });


export function registerNetworks(routes: ComputeRoutes, d: ServersApiDeps): void {
  const ctx = d.ctx;
  const id = (req: FastifyRequest) => params<{ id: string }>(req).id;

  for (const [base, rule, view] of [
    ['/os-networks', 'os_compute_api:os-networks', networkView],
    ['/os-tenant-networks', 'os_compute_api:os-tenant-networks', (n: NetNetwork) => tenantNetworkView(n)],
  ] as const) {
    routes.get(base, async (req) => {
      capVersion(req);
      const caller = routes.caller(req);
      ctx.authorize(caller, `${rule}:list`, { project_id: caller.projectId });
      const nets = await netCall(() => callerNetwork(d.network, req).networks());
      return { networks: nets.map((n) => view(n, caller)) };
    });
    routes.get(`${base}/:id`, async (req) => {
      capVersion(req);
      const caller = routes.caller(req);
      ctx.authorize(caller, `${rule}:show`, { project_id: caller.projectId });
      const n = await netCall(() => callerNetwork(d.network, req).network(id(req)));
      if (!n) throw notFound('Network not found');
      return { network: view(n, caller) };
    });
    routes.post(base, async () => { throw gone(); });
    routes.delete(`${base}/:id`, async () => { throw gone(); });
  }
  routes.post('/os-networks/add', async () => { throw gone(); });
  routes.post('/os-networks/:id/action', async () => { throw gone(); });
}
