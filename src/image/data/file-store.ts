/**
 * The `file` store: one file per image, `<dir>/<imageId>`, location `file://<dir>/<imageId>`
 * (Glance's filesystem store layout).
 *
 * Crash safety: bytes stream into `<dir>/.partial/<imageId>.<random>`, are fsync'ed once at the
 * end (the write stream's `flush` on close), and only then get their real name (link, or rename
 * with `replace`), followed by an fsync of the directory. So a visible `<dir>/<imageId>` is always complete and durable; a crash
 * mid-upload leaves only a partial file, which `sweepPartials()` removes at the next start.
 * Glance does not sync at all; one fsync per image costs little next to the write itself
 * (figures in throughput.md).
 */
import { createReadStream, createWriteStream, fdatasync, type WriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { badRequest, conflict, Fault, notFound } from '../../platform/http/faults.js';
import type { ByteRange, ImageStore, StoreDescription, StoredData, WriteOptions } from './store.js';

/** Big writes: fewer syscalls, while memory per upload stays bounded by this. */
const WRITE_HIGH_WATER = 4 << 20;
const READ_HIGH_WATER = 1 << 20;
const WRITEBACK_EVERY = 64 << 20;
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
    const final = this.pathOf(imageId);
    await this.init();
    const partial = join(this.dir, PARTIAL, `${imageId}.${randomBytes(8).toString('hex')}`);
    // The stream owns its fd: it fsyncs (`flush`) and closes it itself, also when destroyed, so no
    // other handle to the same fd number can close it twice (fd numbers are reused at once).
    const out = createWriteStream(partial, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: WRITE_HIGH_WATER });
    try {
      await pipeline(data, startWriteback(out), out, opts.signal ? { signal: opts.signal } : {}); // resolves once synced and closed
      const size = out.bytesWritten;
      await opts.beforeCommit?.(size);
      opts.signal?.throwIfAborted();
      await this.commit(partial, final, opts.replace === true);
      return { location: `file://${final}`, size };
    } catch (e) {
      await settled(out);
      await rm(partial, { force: true });
      throw storageFault(e);
    }
  }

  async read(location: string, range?: ByteRange): Promise<Readable> {
    const fh = await open(this.existing(location), 'r').catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? notFound('Image data not found.') : e;
    });
    return createReadStream('', {
      fd: fh, highWaterMark: READ_HIGH_WATER,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
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

/**
 * Passes chunks through and, every WRITEBACK_EVERY bytes, starts an fdatasync of what is written
 * so far (at most one at a time, never awaited). Without it the whole image sits dirty in the
 * page cache and the final fsync writes it all after the upload; with it the disk works while
 * the upload streams, and the final fsync only waits for the tail.
 */
function startWriteback(out: WriteStream): Transform {
  let since = 0;
  let syncing = false;
  const fdOf = (): unknown => (out as unknown as { fd: unknown }).fd; // set once opened; not in the typings
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      since += chunk.length;
      const fd = fdOf();
      if (since >= WRITEBACK_EVERY && !syncing && typeof fd === 'number') {
        since = 0;
        syncing = true;
        // Harmless even if the fd were closed and reused meanwhile: syncing any file changes no data.
        fdatasync(fd, () => { syncing = false; });
      }
      cb(null, chunk);
    },
  });
}

function settled(stream: Writable): Promise<void> {
  if (stream.closed) return Promise.resolve(); // a write still in flight would finish first
  const closed = once(stream, 'close').then(() => undefined, () => undefined);
  stream.destroy();
  return closed;
}

/** Disk full or over the filesystem quota is the client's 413, as in Glance; the rest passes through. */
function storageFault(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new Fault(413, 'Image storage media is full.', {}, 'TooLarge');
  return e;
}
