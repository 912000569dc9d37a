/**
 * Tempest conformance runner.
 *
 *   node dist/test/conformance/run.js identity [--full] [--url http://127.0.0.1:5000/v3]
 *        [--admin-password X] [--cloud nephos] [--baseline-check] [--feature name=bool]...
 *        [--conf section.option=value]... [--concurrency 4] [--subunit-out FILE] [--keep-workspace]
 *
 * Prints each failed test with a one-line reason, then `identity: N passed, M failed, K skipped`.
 *
 * Validated against a real Keystone (Debian keystone 2:22.0.2, uwsgi http router, 2 workers,
 * SQLite, memcached; see bench/peers/keystone.ts) with:
 *
 *   npx tsc -p tsconfig.json
 *   node dist/bench/run.js keystone-peer --port 35357 --bcrypt-rounds 4 --write-env /tmp/kpeer.env &
 *   PEER=$!; while [ ! -s /tmp/kpeer.env ]; do sleep 1; done; . /tmp/kpeer.env
 *   node dist/test/conformance/run.js identity --full --url "$KEYSTONE_PEER_URL" \
 *     --admin-password "$KEYSTONE_PEER_PASSWORD" --feature security_compliance=false
 *   kill $PEER; wait $PEER
 *
 * Result (tempest 33): `identity: 133 passed, 1 failed, 4 skipped` in 2-4 min. The 4 skips are the
 * security-compliance tests (the peer's defaults lack those settings); the failure is
 * test_credentials_create_get_update_delete: tempest 33 sends project_id/type on credential
 * update, which Keystone 22's schema rejects (400). The subset (no --full) gives 40 passed, 1 skipped
 * in 1-2 min.
 *
 * `run.js network` runs the whole `tempest.api.network` (264 tests). Before tempest starts, the
 * cloud itself is asked (cloud-probe.ts) for its network endpoint (none → the run is refused),
 * its `GET /v2.0/extensions` (written as `[network-feature-enabled] api_extensions`, so the list
 * is truthful by construction) and its external network (`[network] public_network_id`: the one
 * named `public`, else the first).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { baselineFor, readBaseline } from './baseline.js';
import { probeCloud } from './cloud-probe.js';
import { cloudPassword } from './clouds.js';
import { conformanceFile } from './repo-root.js';
import { readSubunit, summarize } from './subunit.js';
import type { RunSummary } from './subunit.js';
import { parseTestList, SUITES } from './suites.js';
import type { NetworkFacts, TempestService } from './tempest-conf.js';
import { writeTempestConf } from './tempest-conf.js';

const USAGE =
  'usage: run.js <service> [--full] [--url URL] [--admin-password X] [--cloud NAME] [--baseline-check] ' +
  '[--feature name=true|false]... [--conf section.option=value]... [--concurrency N] [--subunit-out FILE] [--keep-workspace] [--timeout-min N] [--show-skips]';

interface RunOptions {
  service: TempestService;
  full: boolean;
  url: string;
  password: string;
  features: Record<string, boolean>;
  extra: Record<string, Record<string, string>>;
  concurrency: number;
  subunitOut?: string;
  keepWorkspace: boolean;
  timeoutMs: number;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      full: { type: 'boolean', default: false },
      url: { type: 'string', default: 'http://127.0.0.1:5000/v3' },
      'admin-password': { type: 'string' },
      cloud: { type: 'string', default: 'nephos' },
      'baseline-check': { type: 'boolean', default: false },
      feature: { type: 'string', multiple: true, default: [] },
      conf: { type: 'string', multiple: true, default: [] },
      concurrency: { type: 'string', default: '4' },
      'subunit-out': { type: 'string' },
      'keep-workspace': { type: 'boolean', default: false },
      'timeout-min': { type: 'string', default: '45' },
      'show-skips': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const service = positionals[0] as TempestService;
  if (!SUITES[service]) {
    console.error(`no tempest suite configured for "${service}" (known: ${Object.keys(SUITES).join(', ')})`);
    return 2;
  }
  const password = values['admin-password'] ?? cloudPassword(values.cloud);
  if (!password) {
    console.error(`no admin password: pass --admin-password or add clouds.${values.cloud}.auth.password to clouds.yaml`);
    return 2;
  }
  const opts: RunOptions = {
    service,
    // A suite without a subset list always runs whole (and is checked against its full baseline).
    full: values.full || !SUITES[service]?.subsetFile,
    url: values.url.replace(/\/+$/, ''),
    password,
    features: parseFeatures(values.feature),
    extra: parseConf(values.conf),
    concurrency: Number(values.concurrency),
    subunitOut: values['subunit-out'],
    keepWorkspace: values['keep-workspace'],
    timeoutMs: Number(values['timeout-min']) * 60_000,
  };
  const summary = await runSuite(opts);
  for (const o of summary.outcomes.filter((x) => x.outcome === 'failed')) console.log(`FAILED ${o.id}: ${o.reason}`);
  if (values['show-skips']) for (const o of summary.outcomes.filter((x) => x.outcome === 'skipped')) console.log(`SKIPPED ${o.id}: ${(o.reason ?? '').slice(0, 160)}`);
  console.log(`${service}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);

  if (summary.passed + summary.failed + summary.skipped === 0) return 1;
  if (values['baseline-check']) {
    const mode = opts.full ? 'full' : 'subset';
    const min = baselineFor(readBaseline(conformanceFile('baseline.json')), service, mode);
    if (summary.passed < min) {
      console.error(`baseline check failed: ${summary.passed} passed < ${min} (${service} ${mode})`);
      return 1;
    }
  }
  return 0;
}

function parseFeatures(items: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const item of items) {
    const m = /^([a-z0-9_]+)=(true|false)$/.exec(item);
    if (!m) throw new Error(`--feature expects name=true|false, got "${item}"`);
    out[m[1]] = m[2] === 'true';
  }
  return out;
}

function parseConf(items: readonly string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const item of items) {
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(item);
    if (!m) throw new Error(`--conf expects section.option=value, got "${item}"`);
    (out[m[1]] ??= {})[m[2]] = m[3];
  }
  return out;
}

/** Creates a throw-away tempest workspace, runs the suite and summarises its subunit stream. */
async function runSuite(opts: RunOptions): Promise<RunSummary> {
  const suite = SUITES[opts.service];
  if (!suite) throw new Error(`no suite for ${opts.service}`);
  const tmp = mkdtempSync(join(tmpdir(), 'nephos-tempest-'));
  const ws = join(tmp, 'workspace');
  try {
    // A private workspace registry keeps ~/.tempest/workspace.yaml untouched.
    await runTempest(['init', '--workspace-path', join(tmp, 'workspaces.yaml'), ws], tmp, join(tmp, 'init.log'), undefined, 120_000);
    const admin = { username: 'admin', password: opts.password, projectName: 'admin', domainName: 'Default' };
    const region = 'RegionOne';
    // Suites that use the network service ask the cloud about it; identity and image tests use none.
    const usesNetwork = opts.service === 'network' || (suite.alsoAvailable ?? []).includes('network');
    const network = usesNetwork ? await cloudNetworkFacts(opts.url, admin, region) : undefined;
    writeTempestConf(join(ws, 'etc', 'tempest.conf'), {
      service: opts.service,
      alsoAvailable: suite.alsoAvailable,
      workspace: ws,
      identityUri: opts.url,
      admin,
      region,
      features: opts.features,
      extra: opts.extra,
      network,
    });

    const args = ['run', '--regex', suite.regex, '--parallel', '--concurrency', String(opts.concurrency), '--subunit'];
    let expected: string[] = [];
    if (!opts.full && suite.subsetFile) {
      expected = parseTestList(readFileSync(conformanceFile(suite.subsetFile), 'utf8'));
      const listFile = join(tmp, 'subset.txt');
      writeFileSync(listFile, `${expected.join('\n')}\n`);
      args.push('--load-list', listFile);
    }
    const stream = opts.subunitOut ?? join(tmp, 'results.subunit');
    const stderrLog = join(tmp, 'tempest-run.log');
    const code = await runTempest(args, ws, stderrLog, stream, opts.timeoutMs);
    const records = await readSubunit(stream);
    if (records.length === 0) {
      const log = readFileSync(stderrLog, 'utf8').trim().split('\n').slice(-30).join('\n');
      throw new Error(`tempest produced no results (exit ${code}):\n${log}`);
    }
    return summarize(records, expected);
  } finally {
    if (opts.keepWorkspace) console.error(`workspace kept in ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Asks the cloud for its network service: the extensions it advertises and the external network
 * tempest should use, so that `api_extensions` says exactly what the cloud offers. A catalog
 * without a network endpoint is an error (tempest would only skip all 264 tests).
 */
async function cloudNetworkFacts(
  identityUri: string,
  admin: { username: string; password: string; projectName: string; domainName: string },
  region: string,
): Promise<NetworkFacts> {
  const facts = await probeCloud({ identityUri, admin, region });
  if (!facts.networkUrl) throw new Error(`the cloud's catalog has no network endpoint (it has: ${facts.services.join(', ') || 'nothing'})`);
  const exts = facts.networkExtensions ?? [];
  const pub = facts.publicNetwork;
  console.error(`network: ${facts.networkUrl}, ${exts.length} extensions, external network ${pub ? `${pub.name} (${pub.id})` : 'none'}`);
  return { apiExtensions: exts, publicNetworkId: pub?.id, floatingNetworkName: pub?.name || undefined };
}

/**
 * Runs `tempest ARGS` in its own process group with stdout to `stdoutFile` (or the log) and
 * stderr to `logFile`; the whole group is killed if it outlives `timeoutMs`.
 */
function runTempest(args: string[], cwd: string, logFile: string, stdoutFile: string | undefined, timeoutMs: number): Promise<number> {
  const err = openSync(logFile, 'a');
  const out = stdoutFile ? openSync(stdoutFile, 'w') : err;
  const child = spawn('tempest', args, { cwd, detached: true, stdio: ['ignore', out, err] });
  closeSync(err);
  if (out !== err) closeSync(out);
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(killGroup, timeoutMs);
  process.once('SIGINT', killGroup);
  process.once('SIGTERM', killGroup);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      process.off('SIGINT', killGroup);
      process.off('SIGTERM', killGroup);
      if (args[0] === 'init' && code !== 0) reject(new Error(`tempest init failed (${code ?? sig}); see ${logFile}`));
      else resolve(code ?? 1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
