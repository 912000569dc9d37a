import { execFile, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';

/** Result of a finished command. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion and rejects with the tail of its output when it exits non-zero.
 */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${tail}`));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * Starts a long-running process with stdout and stderr appended to `logFile`.
 * The caller owns the returned child and must stop it with {@link stopProcess}.
 */
export function startDaemon(
  cmd: string,
  args: readonly string[],
  opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ChildProcess {
  const fd = openSync(opts.logFile, 'a');
  const spawnOpts: SpawnOptions = { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', fd, fd] };
  try {
    const child = spawn(cmd, args, spawnOpts);
    // An 'error' event (e.g. ENOENT) must not crash the host; it surfaces as child.exitCode/pid checks.
    child.on('error', () => undefined);
    return child;
  } finally {
    closeSync(fd);
  }
}

/** True while `pid` names a live (not zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command name) is the state; Z and X are dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** PIDs of all descendants of `pid`, read from /proc (children before grandchildren). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${current}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.trim().split(/\s+/).filter(Boolean)) {
        const n = Number(c);
        if (!out.includes(n)) {
          out.push(n);
          queue.push(n);
        }
      }
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a process this program started: SIGTERM, then SIGKILL after `graceMs`.
 * Descendants recorded before the signal are killed too if they outlive it, and nothing else.
 */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  const family = [pid, ...descendants(pid)];
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && family.some(isAlive)) await sleep(100);
  for (const p of family) if (isAlive(p)) signal(p, 'SIGKILL');
  const hardDeadline = Date.now() + 5_000;
  while (Date.now() < hardDeadline && family.some(isAlive)) await sleep(50);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
