/**
 * Nova's network proxy APIs over the network service: security groups and their rules, floating
 * IPs and pools, networks (deprecated: 404 from microversion 2.36), and a server's security
 * groups. Their server actions (addFloatingIp & co.) are in server-actions.ts.
 */
import type { ComputeRoutes } from '../api/http.js';
import type { ServersApiDeps } from '../servers/api.js';
import { registerSecurityGroups } from './security-groups.js';
import { registerFloatingIps } from './floating-ips.js';
import { registerNetworks } from './networks.js';

export function registerNetworkProxies(routes: ComputeRoutes, d: ServersApiDeps): void {
  registerSecurityGroups(routes, d);
  registerFloatingIps(routes, d);
  registerNetworks(routes, d);
}
