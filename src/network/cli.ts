/**
 * `nephos network cleanup [--host H]`: removes every host object of a host (see agent/cleanup.ts),
 * for an operator decommissioning a host or clearing up after a crashed test run. Without
 * `--host` it cleans this machine's own host (`network.host`, else the hostname) and then also
 * the public client namespace; it refuses while this machine's cloud runs, whose agent would
 * rebuild everything at its next pass.
 */
import type { Config } from '../platform/config/config.js';
import { agentHost } from './agent/in-process.js';
import { cleanupHost } from './agent/cleanup.js';
import { parseInterfaceMappings } from './agent/physical.js';
import { hostNamespace } from './host/names.js';

export const networkCleanupUsage = 'nephos network cleanup [--host H]';

/** Runs the command; returns the process exit code (0 clean, 1 something left, 2 bad use). */
export async function networkCleanupCommand(args: readonly string[], cfg: Config, o: { readonly cloudRunning: boolean }): Promise<number> {
  let host: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--host' && args[i + 1] !== undefined) host = args[++i];
    else if (a.startsWith('--host=')) host = a.slice('--host='.length);
    else { console.error(`unknown argument ${JSON.stringify(a)}; usage: ${networkCleanupUsage}`); return 2; }
  }
  const own = agentHost({ config: cfg });
  const target = host ?? own;
  try {
    hostNamespace(target);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const isOwn = target === own;
  if (isOwn && o.cloudRunning && cfg.network.agent_enabled) {
    console.error(`nephos is running here and its network agent would rebuild host ${target}: stop it first ('nephos down').`);
    return 1;
  }
  const r = await cleanupHost(target, {
    // The configured DHCP directory is this machine's host's; another host uses the default layout.
    ...(isOwn && cfg.network.dhcp_dir ? { dhcpDir: cfg.network.dhcp_dir } : {}),
    publicNamespace: isOwn ? cfg.network.public_namespace : null,
    physicalInterfaces: parseInterfaceMappings(cfg.network.physical_interface_mappings),
  });
  for (const line of r.removed) console.log(line);
  for (const line of r.problems) console.error(`not removed: ${line}`);
  console.log(r.removed.length ? `host ${target}: ${r.removed.length} objects removed` : `host ${target}: nothing to remove`);
  return r.problems.length ? 1 : 0;
}
