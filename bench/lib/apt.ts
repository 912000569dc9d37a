import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { runCommand } from './proc.js';

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** Debian packages from `names` that dpkg does not report as installed. */
export async function missingDebianPackages(names: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    try {
      const { stdout } = await runCommand('dpkg-query', ['-W', '-f=${Status}', name]);
      if (!stdout.includes('install ok installed')) missing.push(name);
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

/**
 * Installs the missing packages from `names` with apt-get.
 * A policy-rc.d that denies service starts is in place during the install so package scripts
 * do not launch system daemons; it is removed afterwards only if this function created it.
 */
export async function ensureDebianPackages(names: readonly string[]): Promise<string[]> {
  const missing = await missingDebianPackages(names);
  if (missing.length === 0) return [];
  const created = !existsSync(POLICY_RC_D);
  if (created) writeFileSync(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Other benches and setup scripts may hold the dpkg lock: wait for it instead of failing.
  const install = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-q', '--no-install-recommends', ...missing];
  try {
    try {
      await runCommand('apt-get', install, { env, timeoutMs: 900_000 });
    } catch {
      // A stale package list is the usual cause; refresh once and retry.
      await runCommand('apt-get', ['update', '-q'], { env, timeoutMs: 600_000 });
      await runCommand('apt-get', install, { env, timeoutMs: 900_000 });
    }
  } finally {
    if (created && existsSync(POLICY_RC_D)) unlinkSync(POLICY_RC_D);
  }
  return missing;
}
