/**
 * Machine baselines for the image bench (sequential disk write with dd, single-core hash rates)
 * and the small statistics shared by every throughput figure. MB is 10^6 bytes, as dd prints.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './proc.js';

export const MIB = 1024 * 1024;

/** Megabytes (10^6 bytes) per second. */
export const mbps = (bytes: number, seconds: number): number => (seconds > 0 ? bytes / 1e6 / seconds : 0);

/** Best (highest) and median of a list of rates. */
export function summarize(rates: readonly number[]): { best: number; median: number; runs: number } {
  if (rates.length === 0) return { best: 0, median: 0, runs: 0 };
  const sorted = [...rates].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { best: sorted[sorted.length - 1], median, runs: rates.length };
}

/** Bytes and seconds from GNU dd's final status line ("N bytes (…) copied, S s, R MB/s"). */
export function parseDdStatus(stderr: string): { bytes: number; seconds: number } {
  const m = /^(\d+) bytes\b.*copied, ([\d.,]+) s\b/m.exec(stderr);
  if (!m) throw new Error(`cannot read dd's status line from: ${stderr.trim().slice(-200)}`);
  return { bytes: Number(m[1]), seconds: Number(m[2].replace(',', '.')) };
}

/**
 * Writes `bytes` (a multiple of 4 MiB) into `dir` with `dd bs=4M conv=fdatasync`, so the figure
 * includes getting the data onto the disk, and removes the file. Returns MB/s.
 */
export async function ddWriteRate(dir: string, bytes: number): Promise<number> {
  const file = join(dir, `nephos-bench-dd-${randomBytes(4).toString('hex')}`);
  try {
    const { stderr } = await runCommand('dd', ['if=/dev/zero', `of=${file}`, 'bs=4M', `count=${Math.ceil(bytes / (4 * MIB))}`, 'conv=fdatasync'], { timeoutMs: 600_000 });
    const r = parseDdStatus(stderr);
    return mbps(r.bytes, r.seconds);
  } finally {
    rmSync(file, { force: true });
  }
}

/** The rate of one hash on this thread and the digest of the data it saw. */
export interface HashRun {
  algorithm: string;
  bytes: number;
  seconds: number;
  mbps: number;
  hex: string;
}

/**
 * Hashes every chunk with one core, counting only the time spent inside the hash (not producing
 * the chunks). Doubles as the way to know the digests a server must report for the same data.
 */
export function hashRate(algorithm: string, chunks: Iterable<Buffer>): HashRun {
  const hash = createHash(algorithm);
  let bytes = 0;
  let ns = 0n;
  for (const chunk of chunks) {
    const t0 = process.hrtime.bigint();
    hash.update(chunk);
    ns += process.hrtime.bigint() - t0;
    bytes += chunk.length;
  }
  const t0 = process.hrtime.bigint();
  const hex = hash.digest('hex');
  ns += process.hrtime.bigint() - t0;
  const seconds = Number(ns) / 1e9;
  return { algorithm, bytes, seconds, mbps: mbps(bytes, seconds), hex };
}
