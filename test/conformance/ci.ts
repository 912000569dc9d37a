/**
 * Self-contained conformance run: starts a Nephos identity service on a free loopback port with
 * the security-compliance settings tempest's defaults expect (lockout after 2 failures for 5 s,
 * password history 2), runs tempest against it through run.js, and stops it.
 *
 *   node dist/test/conformance/ci.js identity            # CI subset, checked against the baseline
 *   node dist/test/conformance/ci.js identity --full     # all 138 identity v3 tests
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startIdentity } from '../lib/identity-harness.js';

async function main(): Promise<number> {
  const [service = 'identity', ...rest] = process.argv.slice(2);
  if (service !== 'identity') {
    console.error(`conformance: only 'identity' is served by this build (asked for ${service})`);
    return 2;
  }
  const full = rest.includes('--full');
  const h = await startIdentity({
    overrides: {
      identity: {
        password_hash_rounds: 12, lockout_failure_attempts: 2, lockout_duration: 5,
        unique_last_password_count: 2, minimum_password_age: 0,
      },
    },
  });
  try {
    const runner = join(dirname(fileURLToPath(import.meta.url)), 'run.js');
    const args = [runner, service, '--url', `${h.url}/v3`, '--admin-password', h.adminPassword, '--concurrency', '4',
      ...(full ? ['--full'] : ['--baseline-check']), ...rest.filter((a) => a !== '--full')];
    // Asynchronously: the identity service answers tempest from this very process.
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await h.close();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
