import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Credentials for one `openstack` invocation (explicit flags; OS_* from the environment are dropped). */
export interface CliAuth {
  readonly authUrl: string;
  readonly username?: string;
  readonly password?: string;
  readonly projectName?: string;
  readonly userDomain?: string;
  readonly projectDomain?: string;
  readonly domainName?: string;
  readonly appCredId?: string;
  readonly appCredSecret?: string;
  readonly token?: string;
}

/** Result of a CLI call: exit code, output, and stdout parsed as JSON when it is. */
export interface CliResult { code: number; stdout: string; stderr: string; json: any }

function authArgs(a: CliAuth): string[] {
  const args = ['--os-auth-url', a.authUrl, '--os-identity-api-version', '3', '--os-region-name', 'RegionOne', '--os-interface', 'public'];
  if (a.appCredId) return [...args, '--os-auth-type', 'v3applicationcredential', '--os-application-credential-id', a.appCredId, '--os-application-credential-secret', a.appCredSecret ?? ''];
  if (a.token) return [...args, '--os-auth-type', 'v3token', '--os-token', a.token, '--os-project-name', a.projectName ?? 'admin', '--os-project-domain-name', a.projectDomain ?? 'Default'];
  args.push('--os-auth-type', 'password', '--os-username', a.username ?? 'admin', '--os-password', a.password ?? '', '--os-user-domain-name', a.userDomain ?? 'Default');
  if (a.domainName) args.push('--os-domain-name', a.domainName);
  else args.push('--os-project-name', a.projectName ?? 'admin', '--os-project-domain-name', a.projectDomain ?? 'Default');
  return args;
}

/**
 * Runs Debian's unmodified `openstack` CLI (python-openstackclient) against a Nephos cloud.
 * Never throws on a non-zero exit: tests assert on `code` and `stderr`.
 */
export async function openstack(auth: CliAuth, ...cmd: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  env.PATH = `/usr/bin:/bin:${process.env.PATH ?? ''}`;
  try {
    const { stdout, stderr } = await run('/usr/bin/openstack', [...authArgs(auth), ...cmd], { env, timeout: 60_000, maxBuffer: 8 << 20 });
    let json: unknown;
    try { json = stdout.trim() ? JSON.parse(stdout) : undefined; } catch { /* table or empty */ }
    return { code: 0, stdout, stderr, json };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e), json: undefined };
  }
}
