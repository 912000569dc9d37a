/**
 * Applies the compiled firewall (security groups + anti-spoofing) to a host namespace: one
 * `nft -f -` transaction replacing both tables, so established flows keep their conntrack entries
 * and a rule change reaches live traffic at once. An unchanged ruleset is not re-applied unless
 * its tables went missing (a recreated namespace).
 */
import type { DesiredHostState } from './desired.js';
import type { ConvergeStep, StepResult } from './agent.js';
import { compileFirewall, FIREWALL_TABLES } from './firewall.js';
import { exec } from '../host/exec.js';
import { nftListTables } from '../host/nft.js';
import { hostNamespace } from '../host/names.js';

export function firewallStep(): ConvergeStep {
  let applied: string | null = null;
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
      return { changes: [`applied ${d.ports.length} ports`], errors: [] };
    },
  };
}
