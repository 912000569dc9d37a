/**
 * Applies the compiled firewall (security groups + anti-spoofing) to a host namespace: one
 * `nft -f -` transaction replacing both tables, so established flows keep their conntrack entries
 * and a rule change reaches live traffic at once. An unchanged ruleset is not re-applied unless
 * its tables went missing (a recreated namespace). When a change narrowed what a port allows, its
 * conntrack entries in that direction are deleted, so a removed rule also stops flows it had let
 * in (established traffic is otherwise accepted before any rule is looked at).
 */
import type { DesiredHostState } from './desired.js';
import type { ConvergeStep, StepResult } from './agent.js';
import { compileFirewall, FIREWALL_TABLES, narrowedPorts, portPolicies, type PortPolicy } from './firewall.js';
import { exec, HostCommandError } from '../../platform/host/exec.js';
import { nftListTables } from '../host/nft.js';
import { hostNamespace } from '../host/names.js';

/**
 * Deletes the conntrack entries of one address in one zone: `to` the flows it received (their
 * original destination), else the flows it started. conntrack exits 1 when nothing matched.
 */
async function forgetFlows(ns: string, zone: number, address: string, to: boolean): Promise<number> {
  const family = address.includes(':') ? 'ipv6' : 'ipv4';
  try {
    const r = await exec('conntrack', ['-D', '-f', family, '-w', String(zone), to ? '-d' : '-s', address], { netns: ns, timeoutMs: 10_000 });
    return Number(/(\d+) flow entries have been deleted/.exec(r.stderr)?.[1] ?? 0);
  } catch (err) {
    if (err instanceof HostCommandError && /0 flow entries have been deleted/.test(err.stderr)) return 0;
    throw err;
  }
}

export function firewallStep(): ConvergeStep {
  let applied: string | null = null;
  let policies: Map<string, PortPolicy> | null = null;
  return {
    name: 'firewall',
    run: async (d: DesiredHostState): Promise<StepResult> => {
      const ns = hostNamespace(d.host);
      const script = compileFirewall(d);
      if (script === applied) {
        const tables = await nftListTables(ns);
        if (FIREWALL_TABLES.every((t) => tables.some((x) => x.family === t.family && x.name === t.name))) return { changes: [], errors: [] };
      }
      await exec('nft', ['-f', '-'], { netns: ns, input: script, timeoutMs: 30_000 });
      applied = script;
      const changes = [`applied ${d.ports.length} ports`];
      const errors: { object: string; error: string }[] = [];
      const now = portPolicies(d);
      // After a restart there is no "before": nothing is known to have narrowed.
      for (const n of policies ? narrowedPorts(policies, now) : []) {
        let deleted = 0;
        try {
          for (const a of n.policy.addresses) {
            if (n.ingress) deleted += await forgetFlows(ns, n.policy.zone, a, true);
            if (n.egress) deleted += await forgetFlows(ns, n.policy.zone, a, false);
          }
          if (deleted) changes.push(`port ${n.port}: ${deleted} conntrack entries of narrowed rules deleted`);
        } catch (err) {
          errors.push({ object: `conntrack of port ${n.port}`, error: err instanceof Error ? err.message : String(err) });
        }
      }
      policies = now;
      return { changes, errors };
    },
  };
}
