/**
 * The network agent of one host: a reconciler. On start, on every change signal and
 * periodically it fetches the host's desired state, runs each converge step (L2, firewall,
 * DHCP, routers) against the real host, reports which ports are plugged (ACTIVE) and sends
 * heartbeats. Passes never overlap; a change during a pass schedules one more. A failing step is
 * logged and retried on the next pass — it never stops the loop or the other steps.
 */
import type { Logger } from 'pino';
import type { DesiredHostState } from './desired.js';

/** What one converge step did. */
export interface StepResult {
  readonly changes: readonly string[];
  readonly errors: readonly { readonly object: string; readonly error: string }[];
  /** Ports this step made ready (their status becomes ACTIVE once every step agrees). */
  readonly plugged?: readonly string[];
  /** Floating IPs whose translation this step put in place (their status becomes ACTIVE). */
  readonly floatingIps?: readonly string[];
}

/** One part of the data plane (L2, firewall, DHCP, routers). */
export interface ConvergeStep {
  readonly name: string;
  run(desired: DesiredHostState): Promise<StepResult>;
}

/** How the agent talks to the server (in-process calls, or the bus in multi-node). */
export interface AgentServer {
  desiredState(host: string): Promise<DesiredHostState>;
  /** Port statuses that changed since the last report. */
  portStatus(active: readonly string[], down: readonly string[]): Promise<void>;
  /** Floating IP statuses that changed since the last report (Neutron's update_floatingip_statuses). */
  floatingIpStatus(active: readonly string[], down: readonly string[]): Promise<void>;
  /** Heartbeat of this host's agents (L2, and DHCP/L3/metadata when it runs them). */
  heartbeat(host: string, configurations: Readonly<Record<string, unknown>>, startFlag: boolean): Promise<void>;
}

export interface AgentOptions {
  readonly host: string;
  readonly server: AgentServer;
  readonly steps: readonly ConvergeStep[];
  readonly log: Logger;
  /** Full resync period (ms). */
  readonly resyncMs?: number;
  /** Heartbeat period (ms); Neutron's report_interval is 30 s. */
  readonly heartbeatMs?: number;
  /** Reported in the agents' `configurations` (e.g. tunneling_ip). */
  readonly configurations?: Readonly<Record<string, unknown>>;
}

export class NetworkAgent {
  readonly #o: AgentOptions;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  #timers: NodeJS.Timeout[] = [];
  #lastStatus = new Map<string, 'ACTIVE' | 'DOWN'>();
  /** Floating IPs' last reported status, keyed by id and fixed address (a new association is reported anew). */
  #lastFipStatus = new Map<string, { id: string; status: 'ACTIVE' | 'DOWN' }>();
  /** The next pass reports every status again (the periodic resync: heals statuses changed behind the agent's back). */
  #reportAll = false;
  #started = false;
  /** Result of the last completed pass (for tests and `nephos status`). */
  lastPass: { at: Date; ms: number; changes: string[]; errors: { step: string; object: string; error: string }[] } | null = null;

  constructor(opts: AgentOptions) { this.#o = opts; }

  /** Starts the loop: a heartbeat and a pass at once, then periodically. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#beat();
    this.poke();
    this.#timers.push(setInterval(() => { this.#reportAll = true; this.poke(); }, this.#o.resyncMs ?? 30_000).unref());
    this.#timers.push(setInterval(() => void this.#beat(), this.#o.heartbeatMs ?? 30_000).unref());
  }

  /** Stops the loop and waits for a pass in flight. Host objects stay (VMs keep their network). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#running;
  }

  /** Asks for a pass soon (coalesced with one in flight). */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) { this.#again = true; return; }
    this.#running = this.#loop().finally(() => { this.#running = null; });
  }

  /** Runs one pass now and resolves when the host has converged (tests, CLI). */
  async converge(): Promise<NonNullable<NetworkAgent['lastPass']>> {
    await this.#running;
    await this.#pass();
    return this.lastPass!;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      await this.#pass();
    } while (this.#again && !this.#stopped);
  }

  async #beat(): Promise<void> {
    try {
      await this.#o.server.heartbeat(this.#o.host, this.#o.configurations ?? {}, !this.#started);
      this.#started = true;
    } catch (err) {
      this.#o.log.warn({ err }, 'network agent heartbeat failed');
    }
  }

  async #pass(): Promise<void> {
    const t0 = Date.now();
    const changes: string[] = [];
    const errors: { step: string; object: string; error: string }[] = [];
    let desired: DesiredHostState;
    try {
      desired = await this.#o.server.desiredState(this.#o.host);
    } catch (err) {
      this.#o.log.warn({ err }, 'network agent could not read the desired state');
      return;
    }
    if (this.#reportAll) {
      this.#reportAll = false;
      this.#lastStatus.clear();
      this.#lastFipStatus.clear();
    }
    const pluggedBy = new Map<string, Set<string>>();
    const fipsApplied = new Set<string>();
    for (const step of this.#o.steps) {
      try {
        const r = await step.run(desired);
        changes.push(...r.changes.map((c) => `${step.name}: ${c}`));
        errors.push(...r.errors.map((e) => ({ step: step.name, ...e })));
        for (const id of r.plugged ?? []) (pluggedBy.get(id) ?? pluggedBy.set(id, new Set()).get(id)!).add(step.name);
        for (const id of r.floatingIps ?? []) fipsApplied.add(id);
      } catch (err) {
        errors.push({ step: step.name, object: '*', error: (err as Error).message });
      }
    }
    await this.#reportPorts(desired, pluggedBy);
    await this.#reportFloatingIps(desired, fipsApplied);
    this.lastPass = { at: new Date(), ms: Date.now() - t0, changes, errors };
    if (changes.length) this.#o.log.info({ changes, ms: this.lastPass.ms }, 'network agent converged');
    for (const e of errors) this.#o.log.warn(e, 'network agent could not converge an object');
  }

  async #reportPorts(desired: DesiredHostState, pluggedBy: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    const ids = [
      ...desired.ports.map((p) => p.id), ...desired.dhcp.map((d) => d.port.id),
      ...desired.routers.flatMap((r) => [...r.interfaces.map((i) => i.port.id), ...(r.gateway ? [r.gateway.port.id] : [])]),
    ];
    const active: string[] = [];
    const down: string[] = [];
    for (const id of ids) {
      const status = pluggedBy.has(id) ? 'ACTIVE' : 'DOWN';
      if (this.#lastStatus.get(id) === status) continue;
      (status === 'ACTIVE' ? active : down).push(id);
    }
    if (!active.length && !down.length) return;
    try {
      await this.#o.server.portStatus(active, down);
      for (const id of active) this.#lastStatus.set(id, 'ACTIVE');
      for (const id of down) this.#lastStatus.set(id, 'DOWN');
    } catch (err) {
      this.#o.log.warn({ err }, 'network agent could not report port status');
    }
  }

  /**
   * ACTIVE for the floating IPs of this host's routers whose NAT is in place, DOWN for those that
   * are not, and DOWN for ones reported ACTIVE that left this host's desired state (their router
   * lost its gateway or moved; a deleted one is ignored by the server).
   */
  async #reportFloatingIps(desired: DesiredHostState, applied: ReadonlySet<string>): Promise<void> {
    const now = new Map<string, { id: string; status: 'ACTIVE' | 'DOWN' }>();
    for (const f of desired.routers.flatMap((r) => r.floatingIps)) {
      now.set(`${f.id}@${f.fixedIp}`, { id: f.id, status: applied.has(f.id) ? 'ACTIVE' : 'DOWN' });
    }
    const stillHere = new Set([...now.values()].map((f) => f.id));
    const active: string[] = [];
    const down: string[] = [];
    for (const [key, f] of now) if (this.#lastFipStatus.get(key)?.status !== f.status) (f.status === 'ACTIVE' ? active : down).push(f.id);
    const gone = [...this.#lastFipStatus].filter(([key, f]) => !now.has(key) && f.status === 'ACTIVE' && !stillHere.has(f.id));
    down.push(...gone.map(([, f]) => f.id));
    if (!active.length && !down.length) return;
    try {
      await this.#o.server.floatingIpStatus(active, down);
      this.#lastFipStatus = now; // what the server holds now (the gone ones are DOWN: no longer tracked)
    } catch (err) {
      this.#o.log.warn({ err }, 'network agent could not report floating IP status');
    }
  }
}
