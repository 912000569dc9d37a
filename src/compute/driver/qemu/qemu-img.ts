/**
 * The slice of `qemu-img` the QEMU driver uses: info, create (plain and copy-on-write overlays),
 * convert, resize, check. Argument arrays, time bounds, failures as HostCommandError (with stderr).
 */
import { exec } from '../../../platform/host/exec.js';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** What `qemu-img info` says of an image file. */
export interface ImageFileInfo {
  /** The format QEMU reads (probed from the content unless `format` was given). */
  readonly format: string;
  readonly virtualSize: number;
  /** Bytes allocated on disk. */
  readonly actualSize: number;
  readonly backingFile: string | null;
  /** qcow2's external data file, if any. */
  readonly dataFile: string | null;
  readonly encrypted: boolean;
}

interface RawInfo {
  format: string;
  'virtual-size': number;
  'actual-size'?: number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  encrypted?: boolean;
  'format-specific'?: { type?: string; data?: { 'data-file'?: string } };
}

const LONG_MS = 3_600_000;

/**
 * `qemu-img info`. Without `format` the format is probed from the content (what an image really
 * is); `forceShare` reads an image a running QEMU holds (-U).
 */
export async function imageInfo(path: string, o: { readonly format?: string; readonly forceShare?: boolean } = {}): Promise<ImageFileInfo> {
  const args = ['info', '--output=json'];
  if (o.format) args.push('-f', o.format);
  if (o.forceShare) args.push('-U');
  args.push(path);
  const raw = JSON.parse((await exec('qemu-img', args, { timeoutMs: 60_000 })).stdout) as RawInfo;
  return {
    format: raw.format,
    virtualSize: raw['virtual-size'],
    actualSize: raw['actual-size'] ?? 0,
    backingFile: raw['full-backing-filename'] ?? raw['backing-filename'] ?? null,
    dataFile: raw['format-specific']?.data?.['data-file'] ?? null,
    encrypted: raw.encrypted === true,
  };
}

/** A new empty image of `format` and `sizeBytes`. */
export async function createImage(path: string, format: 'raw' | 'qcow2', sizeBytes: number): Promise<void> {
  await exec('qemu-img', ['create', '-q', '-f', format, path, String(sizeBytes)], { timeoutMs: 60_000 });
}

/** A qcow2 copy-on-write overlay on `backing`; `sizeBytes` grows it beyond the backing image's size. */
export async function createOverlay(path: string, backing: string, backingFormat: 'raw' | 'qcow2', sizeBytes?: number): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backing, path];
  if (sizeBytes !== undefined) args.push(String(sizeBytes));
  await exec('qemu-img', args, { timeoutMs: 60_000 });
}

/** Copies `src` into a new standalone `dst` (backing chains flattened); `forceShare` reads an image in use (-U). */
export async function convertImage(src: string, srcFormat: string, dst: string, dstFormat: 'raw' | 'qcow2', o: { readonly forceShare?: boolean } = {}): Promise<void> {
  const args = ['convert', '-f', srcFormat, '-O', dstFormat];
  if (o.forceShare) args.push('-U');
  args.push(src, dst);
  await exec('qemu-img', args, { timeoutMs: LONG_MS });
}

/** Grows (never shrinks: qemu-img refuses without --shrink) an image to `sizeBytes`. */
export async function resizeImage(path: string, format: 'raw' | 'qcow2', sizeBytes: number): Promise<void> {
  await exec('qemu-img', ['resize', '-q', '-f', format, path, String(sizeBytes)], { timeoutMs: 60_000 });
}

/** `qemu-img check`: throws when a qcow2 image's metadata is corrupt. */
export async function checkImage(path: string, format: 'qcow2'): Promise<void> {
  await exec('qemu-img', ['check', '-q', '-f', format, path], { timeoutMs: LONG_MS });
}
