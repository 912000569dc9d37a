/**
 * Image benchmark: upload and download of one large image against Nephos and a real glance-api,
 * beside the machine's own limits (dd to the same disk, one core's md5 and sha512). Runs of the
 * two sides alternate so a change in the machine's load hits both alike; no two transfers overlap.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs, promisify } from 'node:util';
import { adminToken, createImage, deleteImage, downloadWithCurl, uploadWithCurl, listImages, showImage, uploadImage } from './lib/image-client.js';
import type { ImageTarget } from './lib/image-client.js';
import { measureCpu, waitForQuiet } from './lib/cpu.js';
import type { CpuSplit } from './lib/cpu.js';
import { ImageData } from './lib/image-data.js';
import { freePort } from './lib/net.js';
import { startNephosProcess } from './lib/nephos-process.js';
import { treeRssKiB } from './lib/rss.js';
import { sampleRss } from './lib/rss-sampler.js';
import { MIB, ddWriteRate, hashRate, mbps, summarize } from './lib/throughput.js';
import type { HashRun } from './lib/throughput.js';
import { startGlancePeer } from './peers/glance.js';
import { startKeystonePeer } from './peers/keystone.js';

const execFileP = promisify(execFile);

/** One cloud to measure. `rssPids` are the server processes whose memory is tracked. */
export interface ImageSide {
  name: string;
  identityUrl: string;
  password: string;
  /** Image API root; when absent, the catalog's image endpoint. */
  imageUrl?: string;
  rssPids: number[];
  /** Where the server keeps image files: their page cache is dropped before the cold download. */
  dataDir?: string;
}

/** Memory of the server around one transfer (KiB). */
export interface RssAround {
  before: number;
  peak: number;
  after: number;
}

/** Everything measured for one side. */
export interface SideResult {
  name: string;
  upload: number[];
  download: number[];
  /** Downloads with the image's page cache dropped first (both servers read the disk). */
  coldDownload: number[];
  uploadRss: RssAround[];
  downloadRss: RssAround[];
  uploadCpu: CpuSplit[];
  downloadCpu: CpuSplit[];
  /** Problems seen (wrong checksum, size, short download): the figures are then suspect. */
  problems: string[];
}

/** Digests of the bench data, which each server must report after the upload. */
export interface Expected {
  size: number;
  md5: string;
  sha512: string;
}

/** Summed RSS of the server processes and their children (glance-api's forked workers). */
const rssOf = (pids: readonly number[]): number => treeRssKiB(pids);

/** A side ready for runs: a token, the image URL and an empty result. */
export interface PreparedSide {
  side: ImageSide;
  target: ImageTarget;
  result: SideResult;
}

export async function prepareSide(side: ImageSide): Promise<PreparedSide> {
  const auth = await adminToken(side.identityUrl, side.password);
  const url = side.imageUrl ?? auth.imageUrl;
  if (!url) throw new Error(`${side.name}: no image endpoint in the catalog`);
  return {
    side,
    target: { url, token: auth.token },
    result: { name: side.name, upload: [], download: [], coldDownload: [], uploadRss: [], downloadRss: [], uploadCpu: [], downloadCpu: [], problems: [] },
  };
}

/**
 * One run on one side: create, upload (timed, RSS sampled), check what the server recorded,
 * download (timed, RSS sampled), delete. The token is used a few times first so that a server
 * that validates it remotely (glance via keystonemiddleware) has it cached in every worker.
 */
/** Where upload bytes come from: a file curl sends, or the generator Node's client streams. */
export type UploadSource = { file: string } | { data: ImageData };

export async function runOnce(p: PreparedSide, source: UploadSource, expected: Expected, run: number, quiet: Quiet): Promise<void> {
  const { target, result, side } = p;
  for (let i = 0; i < 6; i++) await listImages(target);
  const id = await createImage(target, `bench-${side.name}-${run}`);
  try {
    await waitForQuiet(quiet.maxBusy, quiet.maxWaitMs);
    const before = rssOf(side.rssPids);
    const sampler = sampleRss(side.rssPids);
    const cpu = measureCpu(side.rssPids);
    const up = 'file' in source ? await uploadWithCurl(target, id, source.file) : await uploadImage(target, id, source.data.chunks());
    result.uploadCpu.push(cpu.stop());
    const peak = sampler.stop().peakKiB;
    result.upload.push(mbps(up.bytes, up.seconds));
    result.uploadRss.push({ before, peak, after: rssOf(side.rssPids) });

    const facts = await showImage(target, id);
    if (facts.status !== 'active') result.problems.push(`run ${run}: status ${facts.status} after upload`);
    if (facts.size !== expected.size) result.problems.push(`run ${run}: size ${facts.size}, expected ${expected.size}`);
    if (facts.checksum !== expected.md5) result.problems.push(`run ${run}: checksum ${facts.checksum}, expected ${expected.md5}`);
    if (facts.os_hash_algo !== 'sha512' || facts.os_hash_value !== expected.sha512) {
      result.problems.push(`run ${run}: os_hash ${facts.os_hash_algo}:${facts.os_hash_value?.slice(0, 16)}…, expected sha512:${expected.sha512.slice(0, 16)}…`);
    }

    for (let i = 0; i < 2; i++) await listImages(target);
    await waitForQuiet(quiet.maxBusy, quiet.maxWaitMs);
    const dBefore = rssOf(side.rssPids);
    const dSampler = sampleRss(side.rssPids);
    const dCpu = measureCpu(side.rssPids);
    const down = await downloadWithCurl(target, id);
    result.downloadCpu.push(dCpu.stop());
    const dPeak = dSampler.stop().peakKiB;
    result.download.push(mbps(down.bytes, down.seconds));
    result.downloadRss.push({ before: dBefore, peak: dPeak, after: rssOf(side.rssPids) });
    if (down.bytes !== expected.size) result.problems.push(`run ${run}: downloaded ${down.bytes} bytes, expected ${expected.size}`);

    // Again from the disk: glance-api's buffered write left the image in the page cache, Nephos's
    // O_DIRECT write did not, so the download above compares unlike states.
    if (side.dataDir) {
      await dropPageCache(side.dataDir);
      await waitForQuiet(quiet.maxBusy, quiet.maxWaitMs);
      const cold = await downloadWithCurl(target, id);
      result.coldDownload.push(mbps(cold.bytes, cold.seconds));
      if (cold.bytes !== expected.size) result.problems.push(`run ${run}: cold download ${cold.bytes} bytes, expected ${expected.size}`);
    }
  } finally {
    await deleteImage(target, id);
  }
}

/**
 * Drops the page cache of every file under `dir` (written back first): `dd iflag=nocache count=0`
 * asks the kernel to forget one file's cached pages (POSIX_FADV_DONTNEED), nothing else's.
 */
async function dropPageCache(dir: string): Promise<void> {
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    await execFileP('sync', [file]);
    await execFileP('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
}

/** Before each timed transfer, wait up to `maxWaitMs` for the machine to be at most `maxBusy` busy. */
export interface Quiet {
  maxBusy: number;
  maxWaitMs: number;
}

/** The machine's baselines (MB/s). */
export interface Baselines {
  dd: number[];
  md5: number;
  sha512: number;
}

/** A target from the issue and whether this run met it. */
export interface TargetCheck {
  label: string;
  measured: number;
  required: number;
  pass: boolean;
}

/** RSS growth (KiB) over idle that still counts as flat memory for a transfer of any size. */
export const FLAT_RSS_SLACK_KIB = 64 * 1024;

/**
 * The targets, judged on medians: upload ≥ 2× glance-api and ≥ 90% of min(dd, md5 on
 * one core); download ≥ glance-api; peak RSS during upload and download at most
 * FLAT_RSS_SLACK_KIB above the RSS before it.
 */
export function checkTargets(nephos: SideResult, glance: SideResult | undefined, base: Baselines): TargetCheck[] {
  const up = summarize(nephos.upload).median;
  const down = summarize(nephos.download).median;
  const floor = Math.min(summarize(base.dd).median, base.md5);
  const out: TargetCheck[] = [];
  if (glance) {
    const gUp = summarize(glance.upload).median;
    out.push({ label: 'upload >= 2x glance-api', measured: up, required: 2 * gUp, pass: up >= 2 * gUp });
  }
  out.push({ label: 'upload >= 90% of min(dd, md5 one core)', measured: up, required: 0.9 * floor, pass: up >= 0.9 * floor });
  if (glance) {
    const gDown = summarize(glance.download).median;
    out.push({ label: 'download >= glance-api (as the upload left the page cache)', measured: down, required: gDown, pass: down >= gDown });
    if (nephos.coldDownload.length && glance.coldDownload.length) {
      const cold = summarize(nephos.coldDownload).median;
      const gCold = summarize(glance.coldDownload).median;
      out.push({ label: 'download >= glance-api (page cache dropped)', measured: cold, required: gCold, pass: cold >= gCold });
    }
  }
  const growth = (xs: RssAround[]): number => Math.max(0, ...xs.map((r) => r.peak - r.before));
  const upGrowth = growth(nephos.uploadRss);
  const downGrowth = growth(nephos.downloadRss);
  out.push({ label: 'memory flat during upload (peak - before, MiB)', measured: upGrowth / 1024, required: FLAT_RSS_SLACK_KIB / 1024, pass: upGrowth <= FLAT_RSS_SLACK_KIB });
  out.push({ label: 'memory flat during download (peak - before, MiB)', measured: downGrowth / 1024, required: FLAT_RSS_SLACK_KIB / 1024, pass: downGrowth <= FLAT_RSS_SLACK_KIB });
  return out;
}

const f0 = (n: number): string => n.toFixed(0);

/**
 * CPU seconds the server spent per GB moved (median over runs: a figure the machine's other
 * load barely changes) and how much of the machine others used meanwhile.
 */
function cpuLines(side: SideResult, sizeBytes: number): string[] {
  const gb = sizeBytes / 1e9;
  const line = (op: string, xs: CpuSplit[]): string => {
    if (xs.length === 0) return `  ${op}: no CPU figures`;
    const perGb = summarize(xs.map((x) => x.server / gb)).median;
    const client = summarize(xs.map((x) => x.client / gb)).median;
    const others = xs.map((x) => `${((100 * x.others) / x.available).toFixed(0)}%`).join(', ');
    return `  ${op}: server ${perGb.toFixed(2)} CPU s/GB, bench client ${client.toFixed(2)} CPU s/GB; other processes used ${others} of the machine`;
  };
  return [line('upload', side.uploadCpu), line('download', side.downloadCpu)];
}
const mib = (kib: number): string => (kib / 1024).toFixed(1);

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * The report: op | Nephos MB/s | glance-api MB/s | ratio (best and median of the runs), the
 * baselines, the targets with PASS/MISS and the servers' RSS around every transfer.
 */
export function formatImageReport(
  sizeBytes: number,
  base: Baselines,
  nephos: SideResult | undefined,
  glance: SideResult | undefined,
  client: 'curl' | 'node' = 'curl',
): string {
  const out: string[] = [];
  const rows: string[][] = [];
  const opName = { upload: 'upload', download: 'download', coldDownload: 'download cold' };
  for (const op of ['upload', 'download', 'coldDownload'] as const) {
    if (!nephos?.[op].length && !glance?.[op].length) continue;
    for (const stat of ['best', 'median'] as const) {
      const n = nephos?.[op].length ? summarize(nephos[op])[stat] : undefined;
      const g = glance?.[op].length ? summarize(glance[op])[stat] : undefined;
      rows.push([
        `${opName[op]} (${stat})`,
        n === undefined ? '-' : f0(n),
        g === undefined ? '-' : f0(g),
        n !== undefined && g !== undefined && g > 0 ? `${(n / g).toFixed(2)}x` : '-',
      ]);
    }
  }
  out.push(`image ${(sizeBytes / 2 ** 30).toFixed(2)} GiB (${sizeBytes} bytes); MB = 10^6 bytes`);
  out.push(...table(['op', 'Nephos MB/s', 'glance-api MB/s', 'ratio'], rows));
  out.push('');
  const dd = summarize(base.dd);
  out.push(`dd 1 GiB bs=4M conv=fdatasync, same disk: best ${f0(dd.best)} MB/s, median ${f0(dd.median)} MB/s (${dd.runs} runs: ${base.dd.map(f0).join(', ')})`);
  out.push(`md5    one core: ${f0(base.md5)} MB/s (best pass)`);
  out.push(`sha512 one core: ${f0(base.sha512)} MB/s (best pass)`);
  out.push(`clients: download curl -o /dev/null; upload ${client === 'curl' ? 'curl -T <tmpfs file>, chunked' : 'Node, chunked, 1 MiB writes'}`);
  for (const side of [nephos, glance]) {
    if (side) out.push(`${side.name} runs: upload ${side.upload.map(f0).join(', ')} MB/s; download ${side.download.map(f0).join(', ')} MB/s; cold ${side.coldDownload.map(f0).join(', ') || '-'} MB/s`);
  }
  if (nephos) {
    out.push('');
    out.push('targets (medians):');
    for (const t of checkTargets(nephos, glance, base)) {
      const cmp = t.label.startsWith('memory') ? '<=' : '>=';
      out.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.label}: ${t.measured.toFixed(1)} ${cmp} ${t.required.toFixed(1)}`);
    }
  }
  for (const side of [nephos, glance]) {
    if (!side) continue;
    out.push('');
    out.push(`${side.name} server, per run: CPU, and RSS (MiB) before / peak during / after each transfer:`);
    out.push(...cpuLines(side, sizeBytes));
    side.uploadRss.forEach((r, i) => {
      const d = side.downloadRss[i];
      const down = d ? `   download ${mib(d.before)} / ${mib(d.peak)} / ${mib(d.after)}` : '';
      out.push(`  run ${i + 1}: upload ${mib(r.before)} / ${mib(r.peak)} / ${mib(r.after)}${down}`);
    });
    for (const p of side.problems) out.push(`  ! ${p}`);
  }
  return out.join('\n');
}

/** Options of `run.js image`. */
export interface ImageBenchOptions {
  sizeBytes: number;
  runs: number;
  ddRuns: number;
  hashRuns: number;
  /** Upload client: curl from a tmpfs file (default) or Node streaming the generator. */
  client: 'curl' | 'node';
  nephos: boolean;
  glance: boolean;
  quiet: Quiet;
}

/**
 * A single core's rate for a hash is what it reaches undisturbed: the best of `runs` passes over
 * the bench data, each started in a quiet second. Also yields the digest the servers must report.
 */
async function bestHashRun(algorithm: string, data: ImageData, runs: number, quiet: Quiet): Promise<HashRun> {
  let best: HashRun | undefined;
  for (let i = 0; i < Math.max(1, runs); i++) {
    await waitForQuiet(quiet.maxBusy, quiet.maxWaitMs);
    const run = hashRate(algorithm, data.chunks());
    if (!best || run.mbps > best.mbps) best = run;
  }
  return best as HashRun;
}

/** Removes what a step created; run in reverse order at the end or on a signal. */
type Cleanup = () => Promise<void>;

/**
 * The whole bench: baselines, then both servers started side by side (idle while the other is
 * measured), alternating runs, the report. Every process, temp dir and file it made is removed.
 */
export async function runImageBench(opts: ImageBenchOptions): Promise<SideResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'nephos-bench-image-'));
  const cleanups: Cleanup[] = [async () => rmSync(root, { recursive: true, force: true })];
  const cleanAll = async (): Promise<void> => {
    while (cleanups.length > 0) await (cleanups.pop() as Cleanup)().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  };
  const onSignal = (): void => {
    void cleanAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; work dir ${root}`);
    const data = new ImageData(opts.sizeBytes);
    console.log(`hashing the ${(opts.sizeBytes / MIB).toFixed(0)} MiB bench data on one core (md5, then sha512, best of ${opts.hashRuns})…`);
    const md5 = await bestHashRun('md5', data, opts.hashRuns, opts.quiet);
    const sha512 = await bestHashRun('sha512', data, opts.hashRuns, opts.quiet);
    const expected: Expected = { size: opts.sizeBytes, md5: md5.hex, sha512: sha512.hex };
    const dd: number[] = [];
    for (let i = 0; i < opts.ddRuns; i++) {
      await waitForQuiet(opts.quiet.maxBusy, opts.quiet.maxWaitMs);
      dd.push(await ddWriteRate(root, 1024 * MIB));
    }
    const base: Baselines = { dd, md5: md5.mbps, sha512: sha512.mbps };
    console.log(`dd ${dd.map((r) => r.toFixed(0)).join(', ')} MB/s; md5 ${md5.mbps.toFixed(0)} MB/s; sha512 ${sha512.mbps.toFixed(0)} MB/s`);

    const sides: ImageSide[] = [];
    const dataDirs: string[] = [];
    if (opts.nephos) {
      const stateDir = join(root, 'nephos');
      mkdirSync(stateDir);
      const password = randomBytes(12).toString('hex');
      try {
        const nephos = await startNephosProcess({ stateDir, identityPort: await freePort(), imagePort: await freePort(), adminPassword: password });
        cleanups.push(() => nephos.stop());
        sides.push({ name: 'nephos', identityUrl: nephos.identityUrl, password, rssPids: [nephos.pid], dataDir: nephos.dataDir });
        dataDirs.push(nephos.dataDir);
        console.log(`nephos:     ${nephos.imageUrl} (all-in-one, pid ${nephos.pid})`);
      } catch (err) {
        console.error(`nephos could not be started, measuring without it: ${(err as Error).message}`);
      }
    }
    if (opts.glance) {
      const keystone = await startKeystonePeer({ port: await freePort(), workdir: join(root, 'keystone'), memcached: true, passwordHash: { algorithm: 'bcrypt', rounds: 4 } });
      cleanups.push(() => keystone.stop());
      const glance = await startGlancePeer({ port: await freePort(), workdir: join(root, 'glance'), keystone });
      cleanups.push(() => glance.stop());
      sides.push({ name: 'glance-api', identityUrl: keystone.url, password: keystone.adminPassword, imageUrl: glance.url, rssPids: glance.pids, dataDir: glance.dataDir });
      dataDirs.push(glance.dataDir);
      console.log(`glance-api: ${glance.url} (Debian Zed, file store, 2 workers, SQLite, keystonemiddleware; pid ${glance.pids[0]})`);
    }
    for (const dir of dataDirs) {
      mkdirSync(dir, { recursive: true });
      if (statSync(dir).dev !== statSync(root).dev) console.log(`! ${dir} is not on the disk dd wrote to`);
    }

    let source: UploadSource = { data };
    if (opts.client === 'curl') {
      // tmpfs: curl reads it from memory, so the disk only sees the server's writes.
      const file = join(existsSync('/dev/shm') ? '/dev/shm' : root, `nephos-bench-image-${randomBytes(4).toString('hex')}.img`);
      cleanups.push(async () => rmSync(file, { force: true }));
      await pipeline(Readable.from(data.chunks()), createWriteStream(file, { mode: 0o600 }));
      source = { file };
    }
    const prepared = [];
    for (const side of sides) prepared.push(await prepareSide(side));
    for (let run = 1; run <= opts.runs; run++) {
      for (const p of prepared) {
        await runOnce(p, source, expected, run, opts.quiet);
        const r = p.result;
        const busy = (xs: CpuSplit[]): string => `${((100 * xs[xs.length - 1].others) / xs[xs.length - 1].available).toFixed(0)}%`;
        console.log(
          `run ${run} ${p.side.name}: upload ${r.upload[r.upload.length - 1].toFixed(0)} MB/s (others ${busy(r.uploadCpu)}), ` +
            `download ${r.download[r.download.length - 1].toFixed(0)} MB/s (others ${busy(r.downloadCpu)})`,
        );
      }
    }
    const results = prepared.map((p) => p.result);
    console.log('');
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(formatImageReport(opts.sizeBytes, base, results.find((r) => r.name === 'nephos'), results.find((r) => r.name === 'glance-api'), opts.client));
    return results;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanAll();
  }
}

/**
 * `run.js image [--size-mib 1024] [--runs 3] [--dd-runs 3] [--hash-runs 3] [--client curl|node] [--no-nephos] [--no-glance]
 *               [--quiet-busy 0.3] [--quiet-wait 60]`
 * Before each timed transfer it waits up to --quiet-wait seconds for a second in which the machine
 * was at most --quiet-busy busy (the machine is shared; 0 wait disables).
 */
export async function imageBenchMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'size-mib': { type: 'string', default: '1024' },
      runs: { type: 'string', default: '3' },
      'dd-runs': { type: 'string', default: '3' },
      'hash-runs': { type: 'string', default: '3' },
      client: { type: 'string', default: 'curl' },
      'no-nephos': { type: 'boolean', default: false },
      'no-glance': { type: 'boolean', default: false },
      'quiet-busy': { type: 'string', default: '0.3' },
      'quiet-wait': { type: 'string', default: '60' },
    },
  });
  const results = await runImageBench({
    sizeBytes: Number(values['size-mib']) * MIB,
    runs: Number(values.runs),
    ddRuns: Number(values['dd-runs']),
    hashRuns: Number(values['hash-runs']),
    client: values.client === 'node' ? 'node' : 'curl',
    nephos: !values['no-nephos'],
    glance: !values['no-glance'],
    quiet: { maxBusy: Number(values['quiet-busy']), maxWaitMs: Number(values['quiet-wait']) * 1000 },
  });
  return results.some((r) => r.problems.length > 0) ? 1 : 0;
}
