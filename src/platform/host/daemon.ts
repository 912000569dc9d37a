/**
 * Daemons the network agent starts (dnsmasq, haproxy) and that must outlive it: each writes a pid
 * file, and the agent finds it again on restart by that file alone. A pid is trusted only when the
 * process is alive (not a zombie), runs the expected program with the expected config file on its
 * command line, and sits in the expected network namespace — so a recycled pid, a stale file or a
 * daemon left in a namespace that was deleted and re-made is never mistaken for a healthy one,
 * and `stopDaemon` can never signal a process that is not ours.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What identifies one of our daemons. */
export interface DaemonIdentity {
  /** Its pid file. */
  readonly pidFile: string;
  /** Program name (basename of argv[0]), e.g. `dnsmasq`. */
  readonly program: string;
  /** Arguments that must all appear in its command line (e.g. `--conf-file=/…/dnsmasq.conf`). */
  readonly args: readonly string[];
  /** The named network namespace (under /run/netns) it must run in. */
  readonly netns: string;
}

const isMissing = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EINVAL';
};

/** The first pid in a pid file, or null when the file is absent or holds no number. */
export async function readPidFile(path: string): Promise<number | null> {
  try {
    const m = /^\s*(\d+)/.exec(await readFile(path, 'utf8'));
    const pid = m ? Number(m[1]) : NaN;
    return Number.isSafeInteger(pid) && pid > 1 ? pid : null;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** Alive = exists and is not a zombie (a killed daemon stays a zombie until its adoptive parent reaps it). */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain spaces or parentheses).
    const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X' && state !== '';
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

async function cmdline(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

/** Whether process `pid` is in named namespace `netns` (same namespace inode). */
async function inNetns(pid: number, netns: string): Promise<boolean> {
  try {
    const [mine, want] = await Promise.all([stat(`/proc/${pid}/ns/net`), stat(`/run/netns/${netns}`)]);
    return mine.ino === want.ino && mine.dev === want.dev;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** The pid of a live process that is the daemon `id` describes, or null. */
export async function daemonPid(id: DaemonIdentity): Promise<number | null> {
  const pid = await readPidFile(id.pidFile);
  if (pid === null || !await processAlive(pid)) return null;
  const argv = await cmdline(pid);
  if (argv.length === 0 || basename(argv[0]!) !== id.program) return null;
  if (!id.args.every((a) => argv.includes(a))) return null;
  return await inNetns(pid, id.netns) ? pid : null;
}

/** Any live process with this pid that runs `program` with all of `args` (whatever its namespace). */
export async function isOurProcess(pid: number, program: string, args: readonly string[]): Promise<boolean> {
  if (!await processAlive(pid)) return false;
  const argv = await cmdline(pid);
  return argv.length > 0 && basename(argv[0]!) === program && args.every((a) => argv.includes(a));
}

/** Sends `signal` to `pid`; false when the process is already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Waits (bounded) until `pid` is dead; true when it died in time. */
export async function waitDead(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i++) {
    if (!await processAlive(pid)) return true;
    if (Date.now() >= until) return false;
    await sleep(20);
  }
  return !await processAlive(pid);
}

/**
 * Stops `pid` if — and only if — it is still `program` with `args`: SIGTERM, then SIGKILL when it
 * has not exited within `graceMs`. Resolves true when a process was stopped.
 */
export async function stopDaemon(pid: number, program: string, args: readonly string[], graceMs = 5000): Promise<boolean> {
  if (!await isOurProcess(pid, program, args)) return false;
  if (!signalPid(pid, 'SIGTERM')) return false;
  if (await waitDead(pid, graceMs)) return true;
  signalPid(pid, 'SIGKILL');
  if (!await waitDead(pid, 2000)) throw new Error(`${program} (pid ${pid}) survived SIGKILL`);
  return true;
}
