/**
 * The network agent wired to the server in the same process (the all-in-one): desired state,
 * port status and heartbeats are direct calls; every API change pokes the agent.
 */
import { hostname } from 'node:os';
import type { Config } from '../../platform/config/config.js';
import type { NetworkContext } from '../context.js';
import { AGENT_TYPES, reportAgentState } from '../agents.js';
import { desiredHostState } from '../host-state.js';
import { setPortStatus } from '../ports.js';
import { setFloatingIpStatus } from '../floating-ips.js';
import { NetworkAgent, type AgentServer, type ConvergeStep } from './agent.js';
import type { DesiredHostState } from './desired.js';
import { convergeL2, type Underlay } from './l2.js';
import { convergeRouters } from './router.js';
import { firewallStep } from './firewall-step.js';
import { convergeDhcp, defaultDhcpDir, defaultMetadataSocket } from './dhcp.js';
import { loadOrCreateProxyKey, startMetadataProxy, type MetadataInstance, type MetadataResolver } from './metadata-proxy.js';
import type { Logger } from 'pino';
import { persistentSecret } from '../../platform/secrets.js';
import { findObjs } from '../resource/store.js';
import { portDef } from '../ports.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { convergePublic } from './public.js';
import { convergePhysical, parseInterfaceMappings, type InterfaceMappings } from './physical.js';

/** This host's name for the network agent: `network.host`, else the machine's short hostname. */
export const agentHost = (ctx: Pick<NetworkContext, 'config'>): string =>
  (ctx.config.network.host ?? hostname().split('.')[0] ?? 'localhost').toLowerCase().replace(/[^a-z0-9-]/g, '-');

/** The server side of the agent contract, as direct calls. */
export function inProcessAgentServer(ctx: NetworkContext): AgentServer {
  return {
    desiredState: (host) => desiredHostState(ctx, host),
    portStatus: async (active, down) => {
      await setPortStatus(ctx, active, 'ACTIVE');
      await setPortStatus(ctx, down, 'DOWN');
    },
    floatingIpStatus: async (active, down) => {
      await setFloatingIpStatus(ctx, active, 'ACTIVE');
      await setFloatingIpStatus(ctx, down, 'DOWN');
    },
    heartbeat: async (host, configurations, startFlag) => {
      for (const kind of Object.values(AGENT_TYPES)) {
        await reportAgentState(ctx, { host, ...kind, configurations, start_flag: startFlag });
      }
    },
  };
}

/** The instance behind an address on a network (for the metadata proxy): a compute port's device. */
export async function resolveInstance(ctx: NetworkContext, networkId: string, ip: string): Promise<MetadataInstance | null> {
  const ports = await findObjs(ctx.db, portDef, { network_id: networkId });
  const p = ports.find((x) => String(x.device_owner ?? '').startsWith('compute:')
    && ((x.fixed_ips as { ip_address: string }[]) ?? []).some((f) => f.ip_address === ip));
  return p && p.device_id ? { instanceId: String(p.device_id), projectId: String(p.project_id) } : null;
}

/** The underlay of this host as configured (`network.underlay_device`/`underlay_address`), or null (single host). */
export function configuredUnderlay(cfg: Config['network']): Underlay | null {
  return cfg.underlay_device && cfg.underlay_address
    ? { device: cfg.underlay_device, address: cfg.underlay_address, mtu: cfg.path_mtu || cfg.global_physnet_mtu }
    : null;
}

/** What an agent reports in its `configurations` (Neutron's linuxbridge agent keys; `tunneling_ip` is its VTEP). */
export function agentConfigurations(underlay: Underlay | null, mappings: InterfaceMappings = new Map()): Record<string, unknown> {
  return { tunneling_ip: underlay?.address ?? null, tunnel_types: ['vxlan'], bridge_mappings: {}, interface_mappings: Object.fromEntries(mappings) };
}

/** This host's `network.physical_interface_mappings` (throws on a malformed entry: the agent must not start on a wrong mapping). */
export const configuredMappings = (cfg: Config['network']): InterfaceMappings => parseInterfaceMappings(cfg.physical_interface_mappings);

/**
 * The converge steps of this host, in order. Only `ctx.config` is read, so an agent without a
 * database (another host, over the bus) builds the same steps. `o.underlay` overrides the
 * configured one (two agents in one process, as tests run them).
 */
export function agentSteps(ctx: Pick<NetworkContext, 'config'>, host: string, metadata: { socketPath: string; proxyKey: string } | null, o: { readonly underlay?: Underlay | null } = {}): ConvergeStep[] {
  const cfg = ctx.config.network;
  const underlay = o.underlay !== undefined ? o.underlay : configuredUnderlay(cfg);
  const publicSide = { namespace: cfg.public_namespace, physicalNetwork: cfg.public_physical_network };
  const mappings = configuredMappings(cfg);
  // L2 first (host namespace, bridges, TAPs); routers make their veths; L2 again wires them.
  const dhcp = { dir: cfg.dhcp_dir ?? defaultDhcpDir(host), leaseSeconds: cfg.dhcp_lease_duration, metadata };
  return [
    { name: 'l2', run: (d) => convergeL2(d, { underlay }) },
    ...(mappings.size ? [{ name: 'physical', run: (d: DesiredHostState) => convergePhysical(d, mappings) }] : []),
    firewallStep(),
    { name: 'dhcp', run: async (d) => { const r = await convergeDhcp(d, dhcp); return { ...r, plugged: d.dhcp.filter((x) => r.served.includes(x.networkId)).map((x) => x.port.id) }; } },
    { name: 'router', run: (d) => convergeRouters(d) },
    // A public physical network mapped to a real interface has the real outside world instead.
    ...(mappings.has(cfg.public_physical_network) ? [] : [{ name: 'public', run: (d: DesiredHostState) => convergePublic(d, publicSide) }]),
    { name: 'wire', run: (d) => convergeL2(d, { underlay }) },
  ];
}

/**
 * Builds and starts the agent of this host (and its metadata proxy), poked by every change the
 * API makes. `stop` leaves the host's data plane running: VMs keep their network.
 */
export async function startInProcessAgent(ctx: NetworkContext, opts: { host?: string; steps?: ConvergeStep[]; underlay?: Underlay | null } = {}): Promise<{ agent: NetworkAgent; host: string; stop(): Promise<void> }> {
  const host = opts.host ?? agentHost(ctx);
  const cfg = ctx.config.network;
  const underlay = opts.underlay !== undefined ? opts.underlay : configuredUnderlay(cfg);
  const log = ctx.log.child({ component: 'network-agent', host });
  const metadata = await startHostMetadataProxy(ctx.config, host, log, (networkId, ip) => resolveInstance(ctx, networkId, ip));
  const agent = new NetworkAgent({
    host, server: inProcessAgentServer(ctx), steps: opts.steps ?? agentSteps(ctx, host, metadata, { underlay }), log,
    resyncMs: cfg.agent_resync_interval * 1000,
    configurations: agentConfigurations(underlay, configuredMappings(cfg)),
  });
  const unsubscribe = ctx.onChange(() => agent.poke());
  agent.start();
  return { agent, host, stop: async () => { unsubscribe(); await agent.stop(); await metadata.close(); } };
}

/**
 * The metadata proxy of a host's agent (its unix socket, which every DHCP namespace's haproxy
 * forwards to), keyed and signed with this host's state directory's secrets, unless configured.
 * Hosts other than the controller must share `metadata_proxy_shared_secret` with compute.
 */
export async function startHostMetadataProxy(config: Config, host: string, log: Logger, resolve: MetadataResolver): Promise<{ socketPath: string; proxyKey: string; close(): Promise<void> }> {
  const stateDir = config.platform.state_dir;
  mkdirSync(join(stateDir, 'network'), { recursive: true, mode: 0o700 });
  const proxyKey = await loadOrCreateProxyKey(join(stateDir, 'network', 'metadata-proxy.key'));
  const socketPath = defaultMetadataSocket(host);
  const proxy = await startMetadataProxy({
    socketPath, upstreamUrl: config.network.metadata_upstream_url, proxyKey, log, resolve,
    sharedSecret: persistentSecret(stateDir, 'metadata-proxy-secret', config.network.metadata_proxy_shared_secret),
  });
  return { socketPath, proxyKey, close: () => proxy.close() };
}
