/**
 * An instance's diagnostics from its running QEMU, read the way libvirt reads them for Nova:
 * vCPU times from the vCPU threads' /proc counters (the thread ids from `query-cpus-fast`),
 * block counters from `query-blockstats`, the balloon's size when there is one (else the guest
 * has all of its memory), the process' resident set, and NIC counters from the TAPs in the
 * host's namespace — swapped, so that `rx` is what the guest received. Without a process there
 * are no CPU or disk counters, and NICs show only their MAC.
 */
import { readFile } from 'node:fs/promises';
import { exec } from '../../../platform/host/exec.js';
import type { InstanceDiagnostics, PowerState } from '../types.js';
import type { InstanceConfig } from './instance-config.js';
import { withQmp } from './qmp.js';

/** Linux's USER_HZ: the unit of /proc's CPU times. */
const CLOCK_TICKS_PER_S = 100;

interface BlockStats {
  readonly device?: string;
  readonly stats: {
    readonly rd_bytes?: number; readonly wr_bytes?: number; readonly rd_operations?: number; readonly wr_operations?: number;
    readonly failed_rd_operations?: number; readonly failed_wr_operations?: number; readonly failed_flush_operations?: number;
  };
}

/** CPU time (ns) of one thread of `pid`, or null when it cannot be read. */
async function threadCpuNs(pid: number, tid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? Math.round(ticks * (1e9 / CLOCK_TICKS_PER_S)) : null;
  } catch {
    return null;
  }
}

async function rssKb(pid: number): Promise<number | null> {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface LinkStats { rx?: { bytes: number; packets: number; errors: number; dropped: number }; tx?: { bytes: number; packets: number; errors: number; dropped: number } }

/** Counters of a TAP in `ns` (null when it is not there). */
async function tapStats(ns: string, dev: string): Promise<LinkStats | null> {
  try {
    const out = (await exec('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev], { timeoutMs: 5000 })).stdout.trim();
    const [link] = JSON.parse(out || '[]') as { stats64?: LinkStats }[];
    return link?.stats64 ?? null;
  } catch {
    return null;
  }
}

/** The diagnostics of an instance whose QEMU is `pid` (null: no process) with status monitor `qmpStatus`. */
export async function qemuDiagnostics(cfg: InstanceConfig, state: PowerState, pid: number | null, qmpStatus: string): Promise<InstanceDiagnostics> {
  const maximumMb = cfg.flavor.memoryMb;
  const nicsWithoutStats = () => cfg.nics.map((n) => ({
    mac: n.mac, device: null, rxOctets: null, rxPackets: null, rxErrors: null, rxDrop: null, txOctets: null, txPackets: null, txErrors: null, txDrop: null,
  }));
  if (pid === null) return { state, cpus: [], memory: { maximumMb, usedMb: 0, rssKb: null }, disks: [], nics: nicsWithoutStats() };

  const { cpus, blocks, balloon } = await withQmp(qmpStatus, async (q) => ({
    cpus: await q.execute<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast'),
    blocks: await q.execute<BlockStats[]>('query-blockstats'),
    balloon: await q.execute<{ actual: number }>('query-balloon').catch(() => null),
  }), { timeoutMs: 10_000 });

  const disks = blocks.filter((b) => b.device?.startsWith('drive-')).map((b, i) => ({
    name: `vd${String.fromCharCode(0x61 + i)}`,
    readBytes: b.stats.rd_bytes ?? null, readRequests: b.stats.rd_operations ?? null,
    writeBytes: b.stats.wr_bytes ?? null, writeRequests: b.stats.wr_operations ?? null,
    errors: (b.stats.failed_rd_operations ?? 0) + (b.stats.failed_wr_operations ?? 0) + (b.stats.failed_flush_operations ?? 0),
  }));
  const nics = await Promise.all(cfg.nics.map(async (n) => {
    const s = await tapStats(cfg.namespace, n.tapName);
    if (!s?.rx || !s.tx) return { ...nicsWithoutStats().find((x) => x.mac === n.mac)!, device: s ? n.tapName : null };
    // The TAP's transmit side is what the guest receives.
    return {
      mac: n.mac, device: n.tapName,
      rxOctets: s.tx.bytes, rxPackets: s.tx.packets, rxErrors: s.tx.errors, rxDrop: s.tx.dropped,
      txOctets: s.rx.bytes, txPackets: s.rx.packets, txErrors: s.rx.errors, txDrop: s.rx.dropped,
    };
  }));
  return {
    state,
    cpus: await Promise.all([...cpus].sort((a, b) => a['cpu-index'] - b['cpu-index']).map(async (c) => ({ id: c['cpu-index'], timeNs: await threadCpuNs(pid, c['thread-id']) }))),
    memory: { maximumMb, usedMb: balloon ? Math.round(balloon.actual / 2 ** 20) : maximumMb, rssKb: await rssKb(pid) },
    disks,
    nics,
  };
}
