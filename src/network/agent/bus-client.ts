/**
 * The agent side of the bus contract (see bus-contract.ts): a network agent on another host than
 * the API servers. Its `AgentServer` is three bus calls; a `changed` fanout from any server pokes
 * it, and its periodic resync covers pokes lost while the broker was away.
 */
import type { Logger } from 'pino';
import type { Bus, Subscription } from '../../platform/bus/index.js';
import type { Config } from '../../platform/config/config.js';
import type { DesiredHostState } from './desired.js';
import { NetworkAgent, type AgentServer, type ConvergeStep } from './agent.js';
import {
  AGENT_TOPIC, METHOD, SERVER_TOPIC, type ChangedArgs, type HeartbeatArgs, type HostStateArgs, type MetadataInstanceArgs, type PortStatusArgs,
} from './bus-contract.js';
import { agentConfigurations, agentSteps, configuredMappings, configuredUnderlay, startHostMetadataProxy } from './in-process.js';
import type { MetadataInstance } from './metadata-proxy.js';
import type { Underlay } from './l2.js';

/** Bounds of the contract's calls. */
export interface BusAgentServerOptions {
  /** Reading the desired state (large hosts take longer); default 30 s. */
  readonly stateTimeoutMs?: number;
  /** Port status and heartbeats; default 10 s. */
  readonly reportTimeoutMs?: number;
}

/** The server side of the agent contract, as bus calls to whichever network server answers. */
export function busAgentServer(bus: Bus, o: BusAgentServerOptions = {}): AgentServer {
  const state = { timeoutMs: o.stateTimeoutMs ?? 30_000 };
  const report = { timeoutMs: o.reportTimeoutMs ?? 10_000 };
  return {
    desiredState: (host) => bus.call<DesiredHostState>(SERVER_TOPIC, METHOD.hostState, { host } satisfies HostStateArgs, state),
    portStatus: async (active, down) => {
      await bus.call(SERVER_TOPIC, METHOD.portStatus, { active, down } satisfies PortStatusArgs, report);
    },
    floatingIpStatus: async (active, down) => {
      await bus.call(SERVER_TOPIC, METHOD.floatingIpStatus, { active, down } satisfies PortStatusArgs, report);
    },
    heartbeat: async (host, configurations, startFlag) => {
      await bus.call(SERVER_TOPIC, METHOD.heartbeat, { host, configurations, start_flag: startFlag } satisfies HeartbeatArgs, report);
    },
  };
}

/**
 * Calls `listener` on every `changed` fanout. Serves `network_agent` (and `network_agent.<host>`,
 * so a server may one day address one host).
 */
export function onNetworkChanged(bus: Bus, host: string, listener: (args: ChangedArgs) => void): Promise<Subscription> {
  return bus.serve(AGENT_TOPIC, {
    [METHOD.changed]: (args: ChangedArgs) => {
      listener(args);
      return null;
    },
  }, { server: host });
}

export interface BusAgentOptions {
  readonly host: string;
  readonly config: Config;
  readonly log: Logger;
  /** Default: the configured `network.underlay_device`/`underlay_address` (null: none). */
  readonly underlay?: Underlay | null;
  /** Default: `agentSteps` with this host's metadata proxy (asking the servers who owns an address). */
  readonly steps?: readonly ConvergeStep[];
  readonly calls?: BusAgentServerOptions;
}

/** A running remote agent; `stop` leaves the host's data plane as it is (VMs keep their network). */
export interface BusAgent {
  readonly agent: NetworkAgent;
  readonly host: string;
  stop(): Promise<void>;
}

/**
 * Starts the network agent of `o.host`, talking to the network servers over `bus`: its desired
 * state, port status and heartbeats are bus calls, and a `changed` fanout pokes it. Its VXLAN
 * endpoint (`tunneling_ip`) is its underlay address, which the servers hand to the other hosts.
 */
export async function startBusAgent(bus: Bus, o: BusAgentOptions): Promise<BusAgent> {
  const cfg = o.config.network;
  const underlay = o.underlay !== undefined ? o.underlay : configuredUnderlay(cfg);
  const log = o.log.child({ component: 'network-agent', host: o.host });
  const report = { timeoutMs: o.calls?.reportTimeoutMs ?? 10_000 };
  const metadata = o.steps ? null : await startHostMetadataProxy(o.config, o.host, log,
    (networkId, ip) => bus.call<MetadataInstance | null>(SERVER_TOPIC, METHOD.metadataInstance, { network_id: networkId, ip } satisfies MetadataInstanceArgs, report));
  const agent = new NetworkAgent({
    host: o.host, server: busAgentServer(bus, o.calls), log,
    steps: o.steps ?? agentSteps({ config: o.config }, o.host, metadata, { underlay }),
    resyncMs: cfg.agent_resync_interval * 1000,
    configurations: agentConfigurations(underlay, configuredMappings(o.config.network)),
  });
  const sub = await onNetworkChanged(bus, o.host, () => agent.poke());
  agent.start();
  return {
    agent, host: o.host,
    stop: async () => {
      await sub.stop();
      await agent.stop();
      await metadata?.close();
    },
  };
}
