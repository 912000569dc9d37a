/**
 * Ports the cloud makes for its own devices (router gateways and interfaces, floating IPs):
 * Neutron's `network:*` owners. They are created with the plugin's elevated context, so the
 * caller here is an internal admin, and they carry every port attribute the API would default.
 */
import type { Caller } from './context.js';
import type { FixedIpRequest } from './ipam/allocate.js';

export const ROUTER_INTERFACE = 'network:router_interface';
export const ROUTER_GATEWAY = 'network:router_gateway';
export const FLOATING_IP_OWNER = 'network:floatingip';

/** The service's own elevated caller (Neutron's `context.elevated()`). */
export function internalAdmin(projectId: string): Caller {
  return { userId: 'neutron', projectId, isAdmin: true, creds: { roles: ['admin'], project_id: projectId } };
}

/** The create attributes of a device port (fixed IPs chosen by IPAM when `fixedIps` is undefined). */
export function devicePortAttrs(o: {
  networkId: string; projectId: string; deviceId: string; deviceOwner: string; fixedIps?: readonly FixedIpRequest[];
}): Record<string, unknown> {
  const attrs: Record<string, unknown> = {
    network_id: o.networkId, project_id: o.projectId, tenant_id: o.projectId, name: '', description: '',
    admin_state_up: true, device_id: o.deviceId, device_owner: o.deviceOwner,
    'binding:host_id': '', 'binding:vnic_type': 'normal', 'binding:profile': {},
    dns_name: '', dns_domain: '', extra_dhcp_opts: [], propagate_uplink_status: false,
  };
  if (o.fixedIps !== undefined) attrs.fixed_ips = o.fixedIps.map((f) => ({ ...f }));
  return attrs;
}
