// Runs a host tool with an argument array (no shell) and a time bound; failures carry stderr.
import { execFile } from 'node:child_process';

export interface RunResult { readonly stdout: string; readonly stderr: string }

export function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed (see scripts/setup.sh)' : (stderr.trim() || err.message);
          reject(new Error(`${cmd} ${args.join(' ')}: ${why}`));
        } else resolve({ stdout, stderr });
      });
  });
}
