/**
 * nftables inside a namespace: a table is the unit the agent owns (one per port filter, router
 * NAT, …) and is always replaced whole, in one `nft -f -` transaction, so packets never see a
 * half-applied rule set and a failed apply leaves the previous table in place.
 *
 * The transaction starts with `table F N {}` (creates it when absent, a no-op otherwise) followed
 * by `delete table F N`, so deleting never fails on a missing table and needs no stderr matching.
 * Conntrack state lives outside tables: established flows survive a replace.
 */
import { exec } from '../../platform/host/exec.js';

const TIMEOUT_MS = 10_000;

/** nftables address families. */
export type NftFamily = 'inet' | 'ip' | 'ip6' | 'bridge' | 'arp' | 'netdev';

/** A table by family and name. */
export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function ref(t: NftTable): string {
  // The name is spliced into nft's own language: keep it to identifiers nft accepts unquoted.
  if (!NAME_RE.test(t.name)) throw new Error(`invalid nftables table name: ${JSON.stringify(t.name)}`);
  return `${t.family} ${t.name}`;
}

async function nft(ns: string, args: readonly string[], input?: string): Promise<string> {
  return (await exec('nft', args, { netns: ns, input, timeoutMs: TIMEOUT_MS })).stdout;
}

/**
 * Replaces table `t` in namespace `ns` with `body` — the text that goes inside
 * `table <family> <name> { … }` (chains, sets, maps) — atomically.
 */
export async function nftApplyTable(ns: string, t: NftTable, body: string): Promise<void> {
  const r = ref(t);
  await nft(ns, ['-f', '-'], `table ${r} {}\ndelete table ${r}\ntable ${r} {\n${body}\n}\n`);
}

/** Deletes table `t` in `ns`; a missing table is not an error. */
export async function nftDeleteTable(ns: string, t: NftTable): Promise<void> {
  const r = ref(t);
  await nft(ns, ['-f', '-'], `table ${r} {}\ndelete table ${r}\n`);
}

/** Tables of a namespace. */
export async function nftListTables(ns: string): Promise<NftTable[]> {
  const out = await nft(ns, ['-j', 'list', 'tables']);
  const doc = JSON.parse(out) as { nftables?: { table?: { family: NftFamily; name: string } }[] };
  return (doc.nftables ?? []).flatMap((e) => (e.table ? [{ family: e.table.family, name: e.table.name }] : []));
}

/** A table's rule set as nft prints it (for logs and tests), or null when it does not exist. */
export async function nftShowTable(ns: string, t: NftTable): Promise<string | null> {
  const r = ref(t);
  if (!(await nftListTables(ns)).some((x) => `${x.family} ${x.name}` === r)) return null;
  return nft(ns, ['list', 'table', t.family, t.name]);
}
