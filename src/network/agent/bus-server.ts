/**
 * The server side of the agent contract on the bus (see bus-contract.ts), for network agents on
 * other hosts: answers their `host_state`, `port_status`, `agent_heartbeat` and `metadata_instance` calls with the same
 * functions the in-process agent calls directly, and fans every data-plane change out to all
 * agents as one `changed` message per burst. Every network API process serves it; agents reach
 * whichever answers first (they hold no per-server state).
 */
import type { Bus, Subscription } from '../../platform/bus/index.js';
import type { NetworkContext } from '../context.js';
import {
  AGENT_TOPIC, MAX_CHANGES_LISTED, METHOD, SERVER_TOPIC, parseHeartbeat, parseHostState, parseMetadataInstance, parsePortStatus,
  type Change, type ChangedArgs,
} from './bus-contract.js';
import { inProcessAgentServer, resolveInstance } from './in-process.js';

/** A served contract; `stop` stops answering and fanning out. */
export interface AgentBusServer {
  stop(): Promise<void>;
}

/**
 * Serves the agent contract for `ctx` on `bus`. Changes are coalesced per event-loop turn: an API
 * request signalling ten changes sends one fanout, and a fanout that fails (broker away) is only
 * logged — the agents' periodic resync heals a lost poke.
 */
export async function serveAgentContract(ctx: NetworkContext, bus: Bus): Promise<AgentBusServer> {
  const server = inProcessAgentServer(ctx);
  const sub: Subscription = await bus.serve(SERVER_TOPIC, {
    [METHOD.hostState]: (args: unknown) => server.desiredState(parseHostState(args).host),
    [METHOD.portStatus]: async (args: unknown) => {
      const { active, down } = parsePortStatus(args);
      await server.portStatus(active, down);
      return null;
    },
    [METHOD.floatingIpStatus]: async (args: unknown) => {
      const { active, down } = parsePortStatus(args, METHOD.floatingIpStatus);
      await server.floatingIpStatus(active, down);
      return null;
    },
    [METHOD.metadataInstance]: (args: unknown) => {
      const q = parseMetadataInstance(args);
      return resolveInstance(ctx, q.network_id, q.ip);
    },
    [METHOD.heartbeat]: async (args: unknown) => {
      const beat = parseHeartbeat(args);
      await server.heartbeat(beat.host, beat.configurations, beat.start_flag);
      return null;
    },
  });

  let pending: Change[] = [];
  let truncated = false;
  let scheduled: NodeJS.Immediate | null = null;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const flush = (): void => {
    scheduled = null;
    const args: ChangedArgs = { changes: pending, truncated };
    pending = [];
    truncated = false;
    const sent = bus.fanout(AGENT_TOPIC, METHOD.changed, args)
      .catch((err: unknown) => ctx.log.warn({ err }, 'network change not fanned out to the agents (they resync periodically)'))
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };
  const unsubscribe = ctx.onChange(({ kind, id }) => {
    if (stopped) return;
    if (pending.length < MAX_CHANGES_LISTED) pending.push({ kind, id });
    else truncated = true;
    scheduled ??= setImmediate(flush);
  });

  return {
    stop: async () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      if (scheduled) { clearImmediate(scheduled); flush(); }
      await Promise.all(inFlight);
      await sub.stop();
    },
  };
}
