/**
 * Starts the Nephos all-in-one as a child process for a bench (see nephos-server.ts): a private
 * state directory, its own ports, the guest-image upload off, nothing read from /etc/nephos and
 * nothing written outside `stateDir`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './proc.js';

export interface NephosProcessInput {
  stateDir: string;
  identityPort: number;
  imagePort: number;
  adminPassword: string;
  logLevel?: string;
  /** Extra node options for the child (e.g. --cpu-prof, --cpu-prof-dir=DIR to profile a transfer). */
  nodeArgs?: string[];
  /** More NEPHOS_* settings for the child (e.g. NEPHOS_NETWORK_PORT for the network bench). */
  extraEnv?: Record<string, string>;
}

/** A running Nephos: base URLs (identity with /v3, image without /v2), its pid and image data dir. */
export interface NephosProcess {
  pid: number;
  identityUrl: string;
  imageUrl: string;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The child's environment: only NEPHOS_* settings of the bench plus PATH (HOME kept private). */
export function nephosEnv(input: NephosProcessInput, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    PATH: base.PATH,
    HOME: input.stateDir,
    NEPHOS_CONFIG: '/dev/null',
    NEPHOS_PLATFORM_STATE_DIR: input.stateDir,
    NEPHOS_PLATFORM_LOG_LEVEL: input.logLevel ?? 'warn',
    NEPHOS_IDENTITY_PORT: String(input.identityPort),
    NEPHOS_IDENTITY_ADMIN_PASSWORD: input.adminPassword,
    NEPHOS_IMAGE_PORT: String(input.imagePort),
    NEPHOS_IMAGE_DATA_DIR: join(input.stateDir, 'images'),
    // The bench measures raw transfers; building and uploading the guest image is not part of it.
    NEPHOS_IMAGE_UPLOAD_GUEST: 'false',
    // No data plane unless a bench asks for it (extraEnv): an agent leaves its host's namespaces,
    // dnsmasq and haproxy running when the process stops (VMs keep their network), by design.
    NEPHOS_NETWORK_AGENT_ENABLED: 'false',
    NEPHOS_NETWORK_CREATE_DEFAULTS: 'false',
    NEPHOS_COMPUTE_AGENT_ENABLED: 'false',
    ...input.extraEnv,
  };
}

const serverScript = (): string => join(dirname(fileURLToPath(import.meta.url)), 'nephos-server.js');

/** Spawns the all-in-one and resolves once it printed NEPHOS_READY (or rejects with its stderr). */
export async function startNephosProcess(input: NephosProcessInput, timeoutMs = 120_000): Promise<NephosProcess> {
  const logFile = join(input.stateDir, 'nephos-stderr.log');
  const errFd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(input.nodeArgs ?? []), serverScript()], { env: nephosEnv(input), cwd: input.stateDir, stdio: ['ignore', 'pipe', errFd] });
  closeSync(errFd);
  child.on('error', () => undefined);
  const pid = child.pid;
  const stdout = child.stdout;
  const failed = (why: string): Error => {
    const err = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n') : '';
    return new Error(`nephos ${why}\n--- stderr ---\n${err}`);
  };
  try {
    if (pid === undefined || !stdout) throw failed('did not start');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(failed(`did not become ready within ${timeoutMs} ms`)), timeoutMs);
      const lines = createInterface({ input: stdout });
      lines.on('line', (line) => {
        if (line.startsWith('NEPHOS_READY ')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(failed(`exited with ${code} before it was ready`));
      });
    });
  } catch (err) {
    if (pid !== undefined) await stopProcess(pid);
    throw err;
  }
  stdout?.resume();
  let stopping: Promise<void> | undefined;
  return {
    pid,
    identityUrl: `http://127.0.0.1:${input.identityPort}/v3`,
    imageUrl: `http://127.0.0.1:${input.imagePort}`,
    dataDir: join(input.stateDir, 'images'),
    logFile,
    stop() {
      stopping ??= stopProcess(pid, 15_000);
      return stopping;
    },
  };
}
