/**
 * Leak checks for data-plane tests: what a test host (a unique host name such as `t<pid>x`) may
 * have left behind after its cleanup. Namespaces of the host (its own, DHCP, router, and the
 * tests' fake VMs named `nephos-<host>-…`) or the test's public namespace; links in the machine's
 * own namespace named like ours (the agent must never make any there); nft tables of ours there;
 * dnsmasq/haproxy processes whose command line names the host's runtime directory; that directory.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { exec } from '../../src/platform/host/exec.js';
import { linkList, netnsList } from '../../src/network/host/ip.js';
import { hostNamespace } from '../../src/network/host/names.js';
import { defaultDhcpDir } from '../../src/network/agent/dhcp.js';
import { dirname } from 'node:path';

// `<prefix><first 11 chars of an id>`, or a VXLAN device: the shapes of names.ts.
const OUR_LINK = /^(?:(?:tap|brq|qr-|qg-|ns-|pub)[0-9a-f]{8}[0-9a-f-]{0,3}|vxlan-\d+)$/;

export interface LeakOptions {
  /** The test's public client namespace, if it made one. */
  readonly publicNamespace?: string;
  /** The host's DHCP directory when not the default one. */
  readonly dhcpDir?: string;
}

/** Everything of `host` still on the machine, one line each; empty when nothing leaked. */
export async function hostLeaks(host: string, o: LeakOptions = {}): Promise<string[]> {
  const leaks: string[] = [];
  const base = hostNamespace(host);
  for (const ns of await netnsList()) {
    if (ns === base || ns.startsWith(`${base}-`) || ns === o.publicNamespace) leaks.push(`namespace ${ns}`);
  }
  for (const l of await linkList(null)) {
    if (OUR_LINK.test(l.name)) leaks.push(`link ${l.name} in the default namespace`);
  }
  const tables = JSON.parse((await exec('nft', ['-j', 'list', 'tables'], { timeoutMs: 10_000 })).stdout) as { nftables?: { table?: { family: string; name: string } }[] };
  for (const e of tables.nftables ?? []) {
    if (e.table && /^nephos/.test(e.table.name)) leaks.push(`nft table ${e.table.family} ${e.table.name} in the default namespace`);
  }
  const dhcpDir = o.dhcpDir ?? defaultDhcpDir(host);
  const runDir = o.dhcpDir ?? dirname(dhcpDir);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    } catch {
      continue; // gone meanwhile
    }
    const program = argv[0]?.split('/').pop();
    if ((program === 'dnsmasq' || program === 'haproxy') && argv.some((a) => a.includes(`${runDir}/`))) leaks.push(`process ${program} (pid ${entry})`);
  }
  if (existsSync(runDir)) leaks.push(`directory ${runDir}`);
  return leaks;
}

/** Fails with the list of leaks of `host`, if any. */
export async function assertNoLeaks(host: string, o: LeakOptions = {}): Promise<void> {
  assert.deepEqual(await hostLeaks(host, o), [], `host objects of ${host} leaked`);
}
