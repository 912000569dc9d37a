/**
 * Runs a host tool (ip, nft, dnsmasq, …) with an argument array — never a shell string — a time
 * bound, optional standard input, and optionally inside a network namespace (`ip netns exec`).
 * A failure carries the command and its stderr, so the agent's log says exactly what the host refused.
 */
import { execFile } from 'node:child_process';

export interface ExecOptions {
  /** Run inside this network namespace (via `ip netns exec <ns>`). */
  readonly netns?: string;
  /** Written to the command's standard input. */
  readonly input?: string;
  readonly timeoutMs?: number;
}

export interface ExecResult { readonly stdout: string; readonly stderr: string }

/** A host command that failed: exit code (null when killed), stderr and the command line. */
export class HostCommandError extends Error {
  constructor(readonly command: readonly string[], readonly code: number | string | null, readonly stderr: string) {
    super(`${command.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
    this.name = 'HostCommandError';
  }
}

/** Runs `cmd args…`, resolving with its output or rejecting with a HostCommandError. */
export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, cmd, ...args] : [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), {
      timeout: opts.timeoutMs ?? 20_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      if (!err) { resolve({ stdout, stderr }); return; }
      const e = err as NodeJS.ErrnoException & { code?: number | string };
      const why = e.code === 'ENOENT' ? `${argv[0]} is not installed (see scripts/setup.sh)` : stderr;
      reject(new HostCommandError(argv, e.code ?? null, why || e.message));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
