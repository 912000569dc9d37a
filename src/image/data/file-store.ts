/**
 * The `file` store: one file per image, `<dir>/<imageId>`, location `file://<dir>/<imageId>`
 * (Glance's filesystem store layout).
 *
 * Crash safety: bytes stream into `<dir>/.partial/<imageId>.<random>` (with O_DIRECT where the
 * filesystem allows, see FileWriter), are fsync'ed once at the end, and only then get their real
 * name (link, or rename with `replace`), followed by an fsync of the directory. So a visible
 * `<dir>/<imageId>` is always complete and durable; a crash mid-upload leaves only a partial
 * file, which `sweepPartials()` removes at the next start. Glance does not sync at all; one
 * fsync per image costs little next to the write itself (figures in throughput.md).
 */
import { close, constants, fstat, open as openCb } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { badRequest, conflict, Fault, notFound } from '../../platform/http/faults.js';
import { FileWriter } from './file-writer.js';
import { FileReadStream } from './read-stream.js';
import { giveBackSlab, takeSlab } from './slab.js';
import { pumpThroughSlab } from './slab-pump.js';
import type { ByteRange, DataWriter, ImageStore, OpenWriteOptions, StoreDescription, StoredData, WriteOptions } from './store.js';

/** Slots of `write` (a Readable in): big writes, memory per write bounded by the slab. */
const WRITE_SLOT = 4 << 20;
const WRITE_SLOTS = 2;
/** Reads bypass the page cache where O_DIRECT exists (Linux). */
const DIRECT_READS = constants.O_DIRECT !== undefined;
const openAsync = promisify(openCb);
const fstatAsync = promisify(fstat);
const PARTIAL = '.partial';
/** Image ids are UUIDs; anything that could escape the directory or hide as a dotfile is refused. */
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

export interface FileStoreOptions {
  readonly dir: string;
  readonly id?: string;
  readonly description?: string;
  readonly isDefault?: boolean;
}

export class FileStore implements ImageStore {
  readonly id: string;
  readonly dir: string;
  private readonly description: string;
  private readonly isDefault: boolean;
  private ready: Promise<void> | null = null;

  constructor(opts: FileStoreOptions) {
    this.dir = resolve(opts.dir);
    this.id = opts.id ?? 'file';
    this.description = opts.description ?? 'Filesystem store';
    this.isDefault = opts.isDefault ?? true;
  }

  describe(): StoreDescription {
    return this.isDefault
      ? { id: this.id, description: this.description, default: true }
      : { id: this.id, description: this.description };
  }

  /** Creates the directories (0700) once. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.dir, PARTIAL), { recursive: true, mode: 0o700 });
    })().catch((e: unknown) => { this.ready = null; throw e; });
    return this.ready;
  }

  /** Removes partial files a crash left behind; returns how many. Only partials older than `olderThanMs` go
   *  (0 at single-process start-up; a positive age when other processes may be uploading into the same dir). */
  async sweepPartials(olderThanMs = 0): Promise<number> {
    await this.init();
    const root = join(this.dir, PARTIAL);
    let removed = 0;
    for (const name of await readdir(root)) {
      const path = join(root, name);
      const st = await stat(path).catch(() => null);
      if (st === null || Date.now() - st.mtimeMs < olderThanMs) continue;
      await rm(path, { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  /** Ids of all images with committed data (to reconcile with the database after a crash). */
  async storedIds(): Promise<string[]> {
    await this.init();
    return (await readdir(this.dir)).filter((n) => SAFE_ID.test(n)).sort();
  }

  locationOf(imageId: string): string { return `file://${this.pathOf(imageId)}`; }

  /** The local file behind a location of this store (for qemu-img), or a Fault for foreign ones. */
  pathFor(location: string): string {
    const path = this.parse(location);
    if (path === null) throw badRequest(`Location is not in store '${this.id}'.`);
    return path;
  }

  owns(location: string): boolean { return this.parse(location) !== null; }

  async write(imageId: string, data: Readable, opts: WriteOptions = {}): Promise<StoredData> {
    const slab = takeSlab(WRITE_SLOT, WRITE_SLOTS, false);
    try {
      const writer = await this.openWrite(imageId, { ...opts, aligned: slab.aligned });
      try {
        const size = await pumpThroughSlab(data, { slab, sinks: [(slot, _offset, length, done) => writer.write(slot, length, done)], signal: opts.signal });
        return await writer.commit(size);
      } catch (e) {
        await writer.abort();
        throw storageFault(e);
      }
    } finally {
      giveBackSlab(slab); // the pump settles only once no write uses the slab
    }
  }

  async openWrite(imageId: string, opts: OpenWriteOptions = {}): Promise<DataWriter> {
    const final = this.pathOf(imageId);
    await this.init();
    const partial = join(this.dir, PARTIAL, `${imageId}.${randomBytes(8).toString('hex')}`);
    const file = await FileWriter.create(partial, opts.aligned === true).catch((e: unknown) => { throw storageFault(e); });
    let over = false;
    const abort = async (): Promise<void> => {
      if (over) return;
      over = true;
      await file.close().catch(() => undefined);
      await rm(partial, { force: true });
    };
    return {
      write: (slot, length, done) => file.write(slot, length, (err) => done(err && (storageFault(err) as Error))),
      commit: async (size) => {
        try {
          await file.finish(size); // synced and closed
          await opts.beforeCommit?.(size);
          opts.signal?.throwIfAborted();
          await this.commit(partial, final, opts.replace === true);
          over = true;
          return { location: `file://${final}`, size };
        } catch (e) {
          await abort();
          throw storageFault(e);
        }
      },
      abort,
    };
  }

  /** O_DIRECT reads when the filesystem allows them (see FileReadStream); the range is inclusive. */
  async read(location: string, range?: ByteRange): Promise<Readable> {
    const path = this.existing(location);
    const missing = (e: NodeJS.ErrnoException): never => { throw e.code === 'ENOENT' ? notFound('Image data not found.') : e; };
    let fd: number;
    let direct = DIRECT_READS;
    try {
      fd = await openAsync(path, constants.O_RDONLY | (direct ? constants.O_DIRECT : 0));
    } catch (e) {
      if (!direct || (e as NodeJS.ErrnoException).code !== 'EINVAL') return missing(e as NodeJS.ErrnoException);
      direct = false;
      fd = await openAsync(path, constants.O_RDONLY).catch(missing);
    }
    try {
      const end = range ? range.end + 1 : (await fstatAsync(fd)).size;
      return new FileReadStream(fd, direct, range?.start ?? 0, end);
    } catch (e) {
      close(fd, () => undefined);
      throw e;
    }
  }

  async stat(location: string): Promise<{ size: number } | null> {
    const st = await stat(this.existing(location)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    return st === null ? null : { size: st.size };
  }

  async delete(location: string): Promise<void> {
    await rm(this.existing(location), { force: true });
  }

  /** Makes the partial file visible under its final name, durably. */
  private async commit(partial: string, final: string, replace: boolean): Promise<void> {
    if (replace) {
      await rename(partial, final);
    } else {
      // link() refuses an existing target atomically, unlike rename().
      await link(partial, final).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EEXIST' ? conflict('Image data already exists for this image.') : e;
      });
      await unlink(partial);
    }
    const dir = await open(this.dir, 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  }

  private pathOf(imageId: string): string {
    if (!SAFE_ID.test(imageId)) throw badRequest(`Invalid image id for store '${this.id}'.`);
    return join(this.dir, imageId);
  }

  private parse(location: string): string | null {
    if (!location.startsWith('file://')) return null;
    const path = resolve(location.slice('file://'.length));
    return dirname(path) === this.dir && SAFE_ID.test(basename(path)) ? path : null;
  }

  private existing(location: string): string {
    const path = this.parse(location);
    if (path === null) throw notFound(`Image location is not in store '${this.id}'.`);
    return path;
  }
}

/** Disk full or over the filesystem quota is the client's 413, as in Glance; the rest passes through. */
function storageFault(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new Fault(413, 'Image storage media is full.', {}, 'TooLarge');
  return e;
}
