/**
 * Writes one image into its partial file, slot by slot, with several writes in flight (each at
 * its own offset). With O_DIRECT (page-aligned slab slots) the bytes go from the slot to the
 * disk: no copy into the page cache and no writeback afterwards, which on this kind of virtual
 * disk costs more CPU than the hashing (figures in throughput.md). The last partial slot is padded
 * to the alignment and the file truncated back. Without O_DIRECT (a filesystem refusing it, or
 * memory that is not aligned) writes are buffered and an fdatasync is started every
 * WRITEBACK_EVERY bytes, so writeback overlaps the upload and the final fsync waits only for the tail.
 */
import { close, constants, fdatasync, fsync, ftruncate, open, write } from 'node:fs';
import { promisify } from 'node:util';
import { DIRECT_ALIGN, roundUp } from './slab.js';

const WRITEBACK_EVERY = 64 << 20;
const openAsync = promisify(open);
const closeAsync = promisify(close);
const fsyncAsync = promisify(fsync);
const ftruncateAsync = promisify(ftruncate);

export class FileWriter {
  private pos = 0;
  private padded = false;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private sinceSync = 0;
  private syncing = false;
  private closed = false;
  /** Every fd opened on the file (a buffered one joins after an O_DIRECT write was refused). */
  private readonly fds: number[];
  private buffered: Promise<number> | null = null;
  private readonly openedDirect: boolean;

  private constructor(private fd: number, private direct: boolean) {
    this.fds = [fd];
    this.openedDirect = direct;
  }

  /** Creates `path` (which must not exist), 0600; with O_DIRECT when `direct` and the filesystem allows it. */
  static async create(path: string, direct: boolean): Promise<FileWriter> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    if (direct && constants.O_DIRECT !== undefined) {
      try {
        return new FileWriter(await openAsync(path, flags | constants.O_DIRECT, 0o600), true);
      } catch (e) {
        // EINVAL: no O_DIRECT on this filesystem (the file may have been created all the same).
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        return new FileWriter(await openAsync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600), false);
      }
    }
    return new FileWriter(await openAsync(path, flags, 0o600), false);
  }

  /** Whether writes bypass the page cache. */
  get isDirect(): boolean { return this.direct; }

  /**
   * Appends the first `length` bytes of `slot` at the end of what was written so far. Direct:
   * `slot` is page-aligned and `length` a multiple of DIRECT_ALIGN, except for the last write,
   * which zero-pads the slot up to it. `done` runs once the slot is no longer used.
   */
  write(slot: Buffer, length: number, done: (err: Error | null) => void): void {
    if (this.closed || this.padded) { queueMicrotask(() => done(new Error('write after the end of the image data'))); return; }
    const at = this.pos;
    this.pos += length;
    let n = length;
    if (this.direct && length % DIRECT_ALIGN !== 0) {
      n = roundUp(length, DIRECT_ALIGN);
      if (n > slot.length) { queueMicrotask(() => done(new Error('slot too small to pad the last block'))); return; }
      slot.fill(0, length, n);
      this.padded = true;
    }
    this.inFlight++;
    this.writeAll(slot, 0, n, at, (err) => {
      this.release();
      done(err);
    });
    if (!this.direct) this.startWriteback(n);
  }

  private writeAll(buf: Buffer, off: number, len: number, at: number, cb: (err: Error | null) => void): void {
    const fd = this.fd;
    write(fd, buf, off, len, at, (err, n) => {
      if (err?.code === 'EINVAL' && this.openedDirect && fd === this.fds[0]) {
        // O_DIRECT refused this memory or length after all: this and every later write go through the page cache.
        this.toBuffered().then(() => this.writeAll(buf, off, len, at, cb), cb);
        return;
      }
      if (err) { cb(err); return; }
      if (n === len) { cb(null); return; }
      if (n === 0) { cb(new Error('write wrote nothing')); return; }
      this.writeAll(buf, off + n, len - n, at + n, cb); // short write (e.g. a signal): the rest
    });
  }

  private toBuffered(): Promise<void> {
    this.buffered ??= openAsync(`/proc/self/fd/${this.fds[0]}`, constants.O_WRONLY).then((fd) => {
      this.fds.push(fd);
      this.fd = fd;
      this.direct = false;
      return fd;
    });
    return this.buffered.then(() => undefined);
  }

  /** Buffered only: at most one fdatasync at a time, never awaited, every WRITEBACK_EVERY bytes. */
  private startWriteback(n: number): void {
    this.sinceSync += n;
    if (this.sinceSync < WRITEBACK_EVERY || this.syncing) return;
    this.sinceSync = 0;
    this.syncing = true;
    this.inFlight++; // the fd stays open until it returns
    fdatasync(this.fd, () => {
      this.syncing = false;
      this.release();
    });
  }

  /** One operation on the fd ended: wakes `settled()` when it was the last. */
  private release(): void {
    if (--this.inFlight === 0 && this.idle) { const i = this.idle; this.idle = null; i(); }
  }

  /** Waits for writes in flight, cuts the padding off, fsyncs and closes. */
  async finish(size: number): Promise<void> {
    await this.settled();
    if (this.pos !== size) throw new Error(`wrote ${this.pos} bytes, ${size} were expected`);
    if (this.padded) await ftruncateAsync(this.fd, size);
    for (const fd of this.fds) await fsyncAsync(fd);
    await this.close();
  }

  /** Closes the fd once nothing uses it (also after a failure); idempotent. */
  async close(): Promise<void> {
    await this.settled();
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) await closeAsync(fd);
  }

  private settled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const prev = this.idle;
      this.idle = () => { prev?.(); resolve(); };
    });
  }
}
