import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, formatImageReport, FLAT_RSS_SLACK_KIB } from './image.js';
import type { Baselines, SideResult } from './image.js';
import { nephosEnv } from './lib/nephos-process.js';

const flat = { before: 100_000, peak: 110_000, after: 100_500 };
const side = (name: string, upload: number[], download: number[], peak = flat.peak, coldDownload: number[] = []): SideResult => ({
  name,
  upload,
  download,
  coldDownload,
  uploadRss: upload.map(() => ({ ...flat, peak })),
  downloadRss: download.map(() => flat),
  uploadCpu: upload.map(() => ({ server: 2.147483648, client: 0.5, others: 1, available: 10 })),
  downloadCpu: download.map(() => ({ server: 0.5, client: 0.25, others: 0, available: 4 })),
  problems: [],
});
const base: Baselines = { dd: [500, 700, 600], md5: 400, sha512: 800 };

test('checkTargets judges medians against glance-api, min(dd, md5) and flat memory', () => {
  const glance = side('glance-api', [150, 180, 200], [1000, 1500, 2000]);
  const good = checkTargets(side('nephos', [370, 380, 390], [1600, 1700, 1800]), glance, base);
  assert.deepEqual(good.map((t) => [t.label, t.pass]), [
    ['upload >= 2x glance-api', true],
    ['upload >= 90% of min(dd, md5 one core)', true],
    ['download >= glance-api (as the upload left the page cache)', true],
    ['memory flat during upload (peak - before, MiB)', true],
    ['memory flat during download (peak - before, MiB)', true],
  ]);
  assert.equal(good[0].required, 360);
  assert.equal(good[1].required, 360); // 0.9 * min(600 median dd, 400 md5)
  const bad = checkTargets(side('nephos', [300, 350, 900], [1000, 1400, 9000], flat.before + FLAT_RSS_SLACK_KIB + 1), glance, base);
  assert.deepEqual(bad.map((t) => t.pass), [false, false, false, false, true]);
  assert.equal(checkTargets(side('nephos', [400], [1]), undefined, base).length, 3);
});

test('formatImageReport prints the table, baselines, targets and RSS lines', () => {
  const out = formatImageReport(2 ** 30, base, side('nephos', [400, 420], [2100, 2000]), side('glance-api', [200, 180], [1800, 1900]));
  assert.match(out, /^op\s+Nephos MB\/s\s+glance-api MB\/s\s+ratio$/m);
  assert.match(out, /^upload \(best\)\s+420\s+200\s+2\.10x$/m);
  assert.match(out, /^download \(median\)\s+2050\s+1850\s+1\.11x$/m);
  assert.match(out, /dd 1 GiB bs=4M conv=fdatasync, same disk: best 700 MB\/s, median 600 MB\/s \(3 runs/);
  assert.match(out, /^md5 {4}one core: 400 MB\/s \(best pass\)$/m);
  assert.match(out, /^ {2}PASS {2}upload >= 2x glance-api: 410\.0 >= 380\.0$/m);
  assert.match(out, /^ {2}upload: server 2\.00 CPU s\/GB, bench client 0\.47 CPU s\/GB; other processes used 10%, 10% of the machine$/m);
  assert.match(out, /^ {2}download: server 0\.47 CPU s\/GB, bench client 0\.23 CPU s\/GB; other processes used 0%, 0% of the machine$/m);
  assert.match(out, /^ {2}run 2: upload 97\.7 \/ 107\.4 \/ 98\.1 {3}download 97\.7 \/ 107\.4 \/ 98\.1$/m);
  assert.match(out, /^clients: download curl -o \/dev\/null; upload curl -T <tmpfs file>, chunked$/m);
  assert.doesNotMatch(out, /download cold/, 'no cold row without cold downloads');
  const cold = formatImageReport(2 ** 30, base, side('nephos', [400], [2000], flat.peak, [1500, 1600]), side('glance-api', [200], [3000], flat.peak, [900, 1000]));
  assert.match(cold, /^download cold \(median\)\s+1550\s+950\s+1\.63x$/m);
  assert.match(cold, /^ {2}MISS {2}download >= glance-api \(as the upload left the page cache\): 2000\.0 >= 3000\.0$/m);
  assert.match(cold, /^ {2}PASS {2}download >= glance-api \(page cache dropped\): 1550\.0 >= 950\.0$/m);
  assert.match(cold, /^nephos runs: upload 400 MB\/s; download 2000 MB\/s; cold 1500, 1600 MB\/s$/m);
  const noGlance = formatImageReport(2 ** 30, base, side('nephos', [400], [2000]), undefined, 'node');
  assert.match(noGlance, /^clients: download curl -o \/dev\/null; upload Node, chunked, 1 MiB writes$/m);
  assert.match(noGlance, /^upload \(best\)\s+400\s+-\s+-$/m);
  assert.doesNotMatch(noGlance, /2x glance-api/);
});

test('nephosEnv: private state and HOME, no config file, ports, guest upload and agents off', () => {
  const env = nephosEnv({ stateDir: '/tmp/n', identityPort: 1, imagePort: 2, adminPassword: 'pw' }, { PATH: '/bin', NEPHOS_DATABASE_URL: 'postgres://x', HOME: '/root' });
  assert.deepEqual(env, {
    PATH: '/bin',
    HOME: '/tmp/n',
    NEPHOS_CONFIG: '/dev/null',
    NEPHOS_PLATFORM_STATE_DIR: '/tmp/n',
    NEPHOS_PLATFORM_LOG_LEVEL: 'warn',
    NEPHOS_IDENTITY_PORT: '1',
    NEPHOS_IDENTITY_ADMIN_PASSWORD: 'pw',
    NEPHOS_IMAGE_PORT: '2',
    NEPHOS_IMAGE_DATA_DIR: '/tmp/n/images',
    NEPHOS_IMAGE_UPLOAD_GUEST: 'false',
    NEPHOS_NETWORK_AGENT_ENABLED: 'false',
    NEPHOS_NETWORK_CREATE_DEFAULTS: 'false',
    NEPHOS_COMPUTE_AGENT_ENABLED: 'false',
  });
});
