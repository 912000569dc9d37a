/**
 * Runs the Nephos all-in-one (`startCloud`) in its own process for a bench, configured only by
 * NEPHOS_* environment variables (the parent passes NEPHOS_CONFIG=/dev/null), so the load
 * generator never shares an event loop or a core with the server it measures, and the server's
 * RSS is its own. Prints one line `NEPHOS_READY {json}` once every API listens; SIGTERM stops it.
 * Unlike `nephos up` it writes no clouds.yaml and no pid file.
 */
import { join } from 'node:path';
import { loadConfig } from '../../src/platform/config/config.js';
import { createLogger } from '../../src/platform/log.js';
import { startCloud } from '../../src/allinone/cloud.js';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const cloud = await startCloud(cfg, createLogger({ level: cfg.platform.log_level, file: join(cfg.platform.state_dir, 'nephos.log') }));
  console.log(`NEPHOS_READY ${JSON.stringify({ pid: process.pid, services: cloud.services })}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await cloud.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
