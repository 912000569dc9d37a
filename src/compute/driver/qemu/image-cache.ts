/**
 * The host's image cache (Nova's `_base`): one read-only base file per image, `<dir>/<image id>`,
 * inspected and copied in once, which every instance's root disk overlays (qcow2, copy-on-write).
 * Also the formatted bases of ephemeral (`ephemeral_<gb>_ext4`) and swap (`swap_<mb>`) disks.
 *
 * Inspection: the content must be what the image claims — a raw image whose bytes look like qcow2
 * (which could name a host file as its backing file) is refused, as is a qcow2 image with a backing
 * or external data file, an encrypted one, or a corrupt one. What was accepted is recorded next to
 * the base (`<id>.json`), so later spawns skip the inspection.
 *
 * Refcount-free: nothing counts the instances using a base; a cleaner must check the overlays'
 * backing files before it removes one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../../platform/log.js';
import { exec } from '../../../platform/host/exec.js';
import { ComputeDriverError } from '../errors.js';
import { KeyedLock } from './lock.js';
import { checkImage, convertImage, createOverlay, imageInfo, MiB, GiB } from './qemu-img.js';

/** A validated base image in the cache. */
export interface BaseImage {
  readonly path: string;
  readonly format: 'raw' | 'qcow2';
  readonly virtualSize: number;
}

interface Record_ { readonly format: 'raw' | 'qcow2'; readonly virtualSize: number; readonly size: number; readonly validatedAt: string }

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const exists = async (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

export class ImageCache {
  readonly #lock = new KeyedLock();
  readonly #log: Logger;

  constructor(readonly dir: string, log: Logger) {
    this.#log = log;
  }

  /** Where the base of image `id` lives. */
  basePath(id: string): string {
    if (!ID_RE.test(id)) throw new ComputeDriverError('InvalidSpec', `invalid image id ${JSON.stringify(id)}`);
    return join(this.dir, id);
  }

  /**
   * The validated base of `image`: copied from `image.path` into the cache (or, when `image.path`
   * is the base path already, inspected in place) the first time, from the record afterwards.
   */
  async ensure(image: { readonly id: string; readonly path: string; readonly format: 'raw' | 'qcow2' }): Promise<BaseImage> {
    const base = this.basePath(image.id);
    return this.#lock.run(`image:${image.id}`, async () => {
      const known = await this.#record(base);
      if (known) {
        if (known.format !== image.format) {
          throw new ComputeDriverError('ImageUnacceptable', `image ${image.id} is cached as ${known.format}, not ${image.format}`);
        }
        return { path: base, format: known.format, virtualSize: known.virtualSize };
      }
      await mkdir(this.dir, { recursive: true, mode: 0o755 });
      const src = resolve(image.path);
      await inspect(src, image.format, image.id);
      if (src !== base) {
        const part = `${base}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
        try {
          const t0 = Date.now();
          await convertImage(src, image.format, part, image.format);
          await fsyncFile(part);
          await rename(part, base);
          this.#log.info({ image: image.id, format: image.format, ms: Date.now() - t0 }, 'image cached');
        } catch (err) {
          await rm(part, { force: true });
          throw new ComputeDriverError('ImageUnacceptable', `image ${image.id}: cannot copy ${src} into the cache: ${(err as Error).message}`, { cause: err });
        }
      }
      const info = await imageInfo(base, { format: image.format });
      const rec: Record_ = { format: image.format, virtualSize: info.virtualSize, size: (await stat(base)).size, validatedAt: new Date().toISOString() };
      await writeFile(`${base}.json`, `${JSON.stringify(rec)}\n`);
      return { path: base, format: image.format, virtualSize: info.virtualSize };
    });
  }

  /** A raw base of `gb` GiB with an empty ext4 file system labelled `ephemeral0` (Nova's default for Linux). */
  async ephemeralBase(gb: number): Promise<string> {
    const path = join(this.dir, `ephemeral_${gb}_ext4`);
    return this.#formatted(path, gb * GiB, ['mkfs.ext4', '-F', '-q', '-L', 'ephemeral0']);
  }

  /** A raw base of `mb` MiB holding a swap signature labelled `swap0`. */
  async swapBase(mb: number): Promise<string> {
    const path = join(this.dir, `swap_${mb}`);
    return this.#formatted(path, mb * MiB, ['mkswap', '-L', 'swap0']);
  }

  async #formatted(path: string, bytes: number, mkfs: readonly string[]): Promise<string> {
    return this.#lock.run(`file:${path}`, async () => {
      if (await exists(path)) return path;
      await mkdir(this.dir, { recursive: true, mode: 0o755 });
      const part = `${path}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        const fh = await open(part, 'w', 0o644);
        try { await fh.truncate(bytes); } finally { await fh.close(); }
        await exec(mkfs[0]!, [...mkfs.slice(1), part], { timeoutMs: 300_000 });
        await fsyncFile(part);
        await rename(part, path);
        return path;
      } catch (err) {
        await rm(part, { force: true });
        throw new ComputeDriverError('HypervisorError', `cannot make ${path}: ${(err as Error).message}`, { cause: err });
      }
    });
  }

  async #record(base: string): Promise<Record_ | null> {
    try {
      const rec = JSON.parse(await readFile(`${base}.json`, 'utf8')) as Record_;
      // A record whose base went away (or was replaced) is not trusted.
      return (await stat(base)).size === rec.size ? rec : null;
    } catch {
      return null;
    }
  }
}

/**
 * An instance's root disk: a qcow2 overlay on `base`, of `rootGb` GiB when that is larger than the
 * image, of the image's own size when `rootGb` is 0; refused when the image does not fit.
 */
export async function createRootDisk(base: BaseImage, rootGb: number, path: string, imageId: string): Promise<void> {
  const size = rootGb * GiB;
  if (rootGb > 0 && base.virtualSize > size) {
    throw new ComputeDriverError('FlavorDiskSmallerThanImage',
      `the flavor's root disk (${rootGb} GiB) is smaller than image ${imageId} (virtual size ${base.virtualSize} bytes)`);
  }
  await createOverlay(path, base.path, base.format, rootGb > 0 && size > base.virtualSize ? size : undefined);
}

/** Refuses an image whose content is not `format`, or which could reach other files. */
async function inspect(path: string, format: 'raw' | 'qcow2', id: string): Promise<void> {
  const bad = (why: string, cause?: unknown) => new ComputeDriverError('ImageUnacceptable', `image ${id} (${path}): ${why}`, { cause });
  let probed;
  try {
    probed = await imageInfo(path);
  } catch (err) {
    throw bad(`unreadable: ${(err as Error).message}`, err);
  }
  if (probed.format !== format) throw bad(`its content is ${probed.format}, not the declared ${format}`);
  if (probed.backingFile) throw bad(`it has a backing file (${probed.backingFile})`);
  if (probed.dataFile) throw bad(`it has an external data file (${probed.dataFile})`);
  if (probed.encrypted) throw bad('it is encrypted');
  if (format === 'qcow2') {
    try {
      await checkImage(path, 'qcow2');
    } catch (err) {
      throw bad(`qemu-img check failed: ${(err as Error).message}`, err);
    }
  }
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try { await fh.sync(); } finally { await fh.close(); }
}
