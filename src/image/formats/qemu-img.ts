/**
 * qemu-img wrappers. The source format is always passed explicitly (`-f`): letting qemu probe
 * untrusted data is what makes a "raw" qcow2 dangerous. Paths are made absolute so a name like
 * `json:{…}` or `nbd:…` can never be read as a qemu protocol.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatInspector } from './inspector.js';
import { formatMismatch } from './mismatch.js';
import type { Inspection } from './types.js';

const QEMU_IMG = 'qemu-img';
const DEFAULT_CONVERT_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_INFO_TIMEOUT_MS = 30_000;

/** qemu's driver name for a Glance disk_format (or a detected format). */
export function qemuFormat(format: string): string {
  switch (format) {
    case 'vhd': return 'vpc';
    case 'ploop': return 'parallels';
    case 'iso': case 'aki': case 'ari': case 'ami': return 'raw';
    default: return format;
  }
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    execFile(QEMU_IMG, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return done(stdout);
      const what = `qemu-img ${args[0]}`;
      if ((err as { killed?: boolean }).killed) return fail(new Error(`${what} timed out after ${Math.round(timeoutMs / 1000)} s`));
      const code = (err as { code?: unknown }).code;
      const detail = String(stderr).trim() || err.message;
      fail(new Error(`${what} failed (exit ${String(code)}): ${detail}`));
    });
  });
}

export interface QemuImgInfo {
  readonly format: string;
  readonly 'virtual-size': number;
  readonly 'actual-size'?: number;
  readonly 'backing-filename'?: string;
  readonly [key: string]: unknown;
}

/** `qemu-img info --output=json`; pass `format` for untrusted files (no probing, no backing chain). */
export async function qemuImgInfo(path: string, opts: { format?: string; timeoutMs?: number } = {}): Promise<QemuImgInfo> {
  const args = ['info', '--output=json'];
  if (opts.format) args.push('-f', qemuFormat(opts.format));
  args.push(resolve(path));
  return JSON.parse(await run(args, opts.timeoutMs ?? DEFAULT_INFO_TIMEOUT_MS)) as QemuImgInfo;
}

/** Streams a file through the FormatInspector. */
export async function inspectFile(path: string): Promise<Inspection> {
  const ins = new FormatInspector();
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) ins.push(chunk as Buffer);
  return ins.finish();
}

/**
 * Converts `srcPath` to a raw image at `dstPath` (written to a temp name, renamed when complete).
 * The source is inspected first: unsafe data is refused, and so is data that is not
 * `sourceFormat` (default: the detected format).
 */
export async function convertToRaw(
  srcPath: string, dstPath: string, opts: { sourceFormat?: string; timeoutMs?: number } = {},
): Promise<void> {
  const src = resolve(srcPath);
  const dst = resolve(dstPath);
  const ins = await inspectFile(src);
  const declared = opts.sourceFormat ?? ins.format;
  const reasons = [...ins.problems, formatMismatch(declared, ins)].filter((r): r is string => r !== null);
  if (reasons.length) throw new Error(`Refusing to convert ${basename(src)}: ${reasons.join('; ')}`);

  const tmp = join(dirname(dst), `.${basename(dst)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await run(['convert', '-q', '-f', qemuFormat(declared), '-O', 'raw', src, tmp], opts.timeoutMs ?? DEFAULT_CONVERT_TIMEOUT_MS);
    const fh = await open(tmp, 'r+');
    try { await fh.datasync(); } finally { await fh.close(); }
    await rename(tmp, dst);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
