import { readFileSync, writeFileSync, existsSync, rmSync, openSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfig, describeConfig, type Config } from '../platform/config/config.js';
import { createLogger } from '../platform/log.js';
import { openDatabase } from '../platform/db/connect.js';
import { startCloud, cloudPasswords, runningServices, REGION } from '../allinone/cloud.js';
import { mergeCloudsYaml, defaultCloudsYaml } from '../allinone/clouds-yaml.js';
import { migrateIdentity } from '../identity/service.js';
import { migrateImage } from '../image/service.js';
import { migrateNetwork } from '../network/service.js';
import { migratePlacement } from '../placement/service.js';
import { migrateCompute } from '../compute/service.js';
import { rotate, initialize } from '../identity/tokens/key-repository.js';
import { imageBuildCommand } from '../guest/cli.js';
import { networkCleanupCommand } from '../network/cli.js';

const usage = `nephos — an OpenStack-compatible cloud

  nephos up [--detach]        start the all-in-one (foreground, or background with a pid file)
  nephos down                 stop what 'nephos up' started
  nephos status               services and their health
  nephos bootstrap            (re)create the bootstrap objects and clouds.yaml entries
  nephos config show          the effective configuration (secrets masked)
  nephos db sync              apply database migrations
  nephos identity rotate-keys rotate the token key repository
  nephos image build [--out DIR]  build the Nephos guest image (default DIR: <state_dir>/guest)
  nephos public-exec -- CMD…  run CMD in the public client namespace (the outside of network 'public'),
                              e.g. nephos public-exec -- ssh cirros@203.0.113.15
  nephos network cleanup [--host H]
                              remove every network host object of host H (default: this host, then
                              also the public namespace): namespaces, dnsmasq/haproxy, runtime files
`;

const pidFile = (cfg: Config) => join(cfg.platform.state_dir, 'nephos.pid');
const logFile = (cfg: Config) => join(cfg.platform.state_dir, 'nephos.log');

function readPid(cfg: Config): number | undefined {
  if (!existsSync(pidFile(cfg))) return undefined;
  const pid = Number(readFileSync(pidFile(cfg), 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when pid is alive and is a nephos process (not a recycled pid). */
function isOurs(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('nephos') || cmd.includes('cli/main.js');
  } catch {
    return false;
  }
}

async function health(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.status < 500 ? `up (HTTP ${r.status})` : `failing (HTTP ${r.status})`;
  } catch (e) {
    return `down (${(e as Error).message})`;
  }
}

function summary(cfg: Config, passwords: { admin: string; demo: string }): string {
  const lines = ['', 'Nephos is up. Endpoints:'];
  for (const s of runningServices(cfg)) lines.push(`  ${s.type.padEnd(10)} ${s.url}`);
  lines.push('', `clouds.yaml: entries 'nephos' (admin) and 'nephos-demo' (demo) in ${defaultCloudsYaml()}`,
    `admin password: ${passwords.admin === cfg.identity.admin_password ? '(as configured)' : join(cfg.platform.state_dir, 'admin-password')}`,
    '', 'Try:', '  export OS_CLOUD=nephos', '  openstack token issue', '  openstack catalog list', '');
  return lines.join('\n');
}

function writeClouds(cfg: Config): { admin: string; demo: string } {
  const passwords = cloudPasswords(cfg);
  const authUrl = `http://${cfg.platform.public_host}:${cfg.identity.port}/v3`;
  mergeCloudsYaml({
    nephos: { authUrl, username: 'admin', password: passwords.admin, projectName: 'admin', region: REGION },
    'nephos-demo': { authUrl, username: 'demo', password: passwords.demo, projectName: 'demo', region: REGION },
  });
  return passwords;
}

async function up(cfg: Config, detach: boolean): Promise<number> {
  const existing = readPid(cfg);
  if (existing && existing !== process.pid && isOurs(existing)) {
    console.error(`nephos is already running (pid ${existing}); 'nephos down' stops it.`);
    return 1;
  }
  if (detach) {
    mkdirSync(cfg.platform.state_dir, { recursive: true, mode: 0o700 });
    const out = openSync(logFile(cfg), 'a');
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'up'], { detached: true, stdio: ['ignore', out, out], env: process.env });
    child.unref();
    writeFileSync(pidFile(cfg), `${child.pid}\n`);
    const url = `http://${cfg.platform.bind_host === '0.0.0.0' ? '127.0.0.1' : cfg.platform.bind_host}:${cfg.identity.port}/v3`;
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null || !isOurs(child.pid!)) {
        console.error(`nephos failed to start; see ${logFile(cfg)}`);
        return 1;
      }
      if ((await health(url)).startsWith('up')) {
        console.log(summary(cfg, writeClouds(cfg)));
        console.log(`Running in the background: pid ${child.pid}, log ${logFile(cfg)}. Stop it with 'nephos down'.`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.error(`nephos did not answer within 60 s; see ${logFile(cfg)}`);
    return 1;
  }
  const log = createLogger({ level: cfg.platform.log_level });
  const cloud = await startCloud(cfg, log);
  if (!existsSync(pidFile(cfg)) || readPid(cfg) !== process.pid) writeFileSync(pidFile(cfg), `${process.pid}\n`);
  console.log(summary(cfg, writeClouds(cfg)));
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => { log.info({ signal: sig }, 'stopping'); resolve(); };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await cloud.close();
  if (readPid(cfg) === process.pid) rmSync(pidFile(cfg), { force: true });
  return 0;
}

async function down(cfg: Config): Promise<number> {
  const pid = readPid(cfg);
  if (!pid || !isOurs(pid)) {
    rmSync(pidFile(cfg), { force: true });
    console.log('nephos is not running.');
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 150 && isOurs(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isOurs(pid)) process.kill(pid, 'SIGKILL');
  rmSync(pidFile(cfg), { force: true });
  console.log(`nephos stopped (pid ${pid}).`);
  return 0;
}

async function status(cfg: Config): Promise<number> {
  const pid = readPid(cfg);
  const running = !!pid && isOurs(pid);
  console.log(`nephos: ${running ? `running (pid ${pid})` : 'not running'}`);
  let ok = running;
  for (const s of runningServices(cfg)) {
    const h = await health(s.url);
    if (!h.startsWith('up')) ok = false;
    console.log(`  ${s.type.padEnd(10)} ${s.url.padEnd(34)} ${h}`);
  }
  return ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const cfg = loadConfig();
  const [cmd, sub] = argv;
  switch (cmd) {
    case 'up': return up(cfg, argv.includes('--detach') || argv.includes('-d'));
    case 'down': return down(cfg);
    case 'status': return status(cfg);
    case 'bootstrap': {
      const cloud = await startCloud(cfg, createLogger({ level: 'warn' }), { listen: false });
      await cloud.close();
      console.log(summary(cfg, writeClouds(cfg)));
      return 0;
    }
    case 'config':
      if (sub !== 'show') break;
      process.stdout.write(stringify(describeConfig(cfg)));
      return 0;
    case 'db': {
      if (sub !== 'sync') break;
      const database = await openDatabase(cfg.database.url!);
      try {
        const applied = [
          ...await migrateIdentity(database), ...(await migrateImage(database)).map((m) => `image/${m}`),
          ...(await migrateNetwork(database)).map((m) => `network/${m}`),
          ...(await migratePlacement(database)).map((m) => `placement/${m}`),
          ...(await migrateCompute(database)).map((m) => `compute/${m}`),
        ];
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally { await database.close(); }
      return 0;
    }
    case 'identity': {
      if (sub !== 'rotate-keys') break;
      const dir = cfg.identity.key_repository!;
      initialize(dir);
      const r = rotate(dir, cfg.identity.max_active_keys);
      console.log(`rotated ${dir}: ${JSON.stringify(r)}`);
      return 0;
    }
    case 'image':
      if (sub !== 'build') break;
      return imageBuildCommand(argv.slice(2), cfg.platform.state_dir);
    case 'network': {
      if (sub !== 'cleanup') break;
      const pid = readPid(cfg);
      return networkCleanupCommand(argv.slice(2), cfg, { cloudRunning: pid !== undefined && isOurs(pid) });
    }
    case 'public-exec': {
      const cmd = argv.slice(argv[1] === '--' ? 2 : 1);
      if (cmd.length === 0) break;
      const child = spawn('ip', ['netns', 'exec', cfg.network.public_namespace, ...cmd], { stdio: 'inherit' });
      return new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    }
    case undefined: case 'help': case '--help': case '-h':
      console.log(usage);
      return 0;
    default: break;
  }
  console.error(usage);
  return 2;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  console.error(`nephos: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
