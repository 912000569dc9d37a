/**
 * Reads a byte range of an image file. As a Readable it serves any consumer (fresh buffers);
 * `sendTo(out)` is the fast path for an HTTP response: several reads in flight into the slots of
 * one reused slab (O_DIRECT when the file was opened so), each slot written to `out` and reused
 * once that write completed. No allocation per chunk, so no garbage collection while gigabytes
 * pass, and with O_DIRECT no copy into or out of the page cache.
 */
import { close, openSync, read } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { DIRECT_ALIGN, giveBackSlab, roundUp, takeSlab, type Slab } from './slab.js';

/** Slots of the fast path: enough reads ahead to keep the disk busy while the socket drains. */
const SEND_SLOT = 2 << 20;
const SEND_SLOTS = 4;
/** Chunk size of the plain Readable; its slot has room for the alignment before the first byte. */
const READ_CHUNK = 1 << 20;
const READ_SLOT = READ_CHUNK + (64 << 10);

export class FileReadStream extends Readable {
  /** Next file offset the Readable reads. */
  private pos: number;
  private fd: number;
  private direct: boolean;
  private fdOpen = true;
  private sending = false;
  private readSlab: Slab | null = null;

  /**
   * Owns `fd` (closed on end, error or destroy). `direct`: the fd was opened with O_DIRECT, so
   * reads go through page-aligned memory at aligned offsets. Bytes [start, end) are served.
   */
  constructor(fd: number, direct: boolean, private readonly start: number, private readonly end: number) {
    super({ highWaterMark: READ_CHUNK });
    this.fd = fd;
    this.direct = direct;
    this.pos = start;
  }

  /** O_DIRECT needs aligned memory; with a slab that is not (no WebAssembly), the same file is reopened buffered. */
  private useSlab(slab: Slab): Slab {
    if (this.direct && !slab.aligned) {
      const buffered = openSync(`/proc/self/fd/${this.fd}`, 'r');
      close(this.fd, () => undefined);
      this.fd = buffered;
      this.direct = false;
    }
    return slab;
  }

  override _read(): void {
    if (this.pos >= this.end) { this.push(null); return; }
    const want = Math.min(READ_CHUNK, this.end - this.pos);
    if (!this.direct) {
      const buf = Buffer.allocUnsafe(want);
      read(this.fd, buf, 0, want, this.pos, (err, n) => {
        if (err) { this.destroy(err); return; }
        if (n === 0) { this.destroy(shortFile()); return; }
        this.pos += n;
        this.push(n === want ? buf : buf.subarray(0, n));
      });
      return;
    }
    this.readSlab ??= this.useSlab(takeSlab(READ_SLOT, 1, false));
    if (!this.direct) { this._read(); return; }
    const slot = this.readSlab.slot(0);
    const at = this.pos - (this.pos % DIRECT_ALIGN);
    const skip = this.pos - at;
    read(this.fd, slot, 0, roundUp(skip + want, DIRECT_ALIGN), at, (err, n) => {
      if (err) { this.destroy(err); return; }
      const got = Math.min(n - skip, want);
      if (got <= 0) { this.destroy(shortFile()); return; }
      this.pos += got;
      this.push(Buffer.from(slot.subarray(skip, skip + got))); // a copy: the slot is read into again
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.sending) { cb(err); return; } // sendTo closes the fd once its reads are done
    this.closeFd(() => cb(err));
  }

  /**
   * Writes the range into `out` (an HTTP response whose head is sent or set), then ends it.
   * Resolves when done or when `out` closed early (client gone); rejects on a read error, after
   * destroying `out` (its client then sees the body cut short, as with any failed download).
   */
  sendTo(out: Writable): Promise<void> {
    if (this.sending || this.readableDidRead) return Promise.reject(new Error('FileReadStream: already consumed'));
    this.sending = true;
    let slab: Slab;
    try { slab = this.useSlab(takeSlab(SEND_SLOT, SEND_SLOTS, false)); } catch (e) { this.sending = false; this.destroy(); return Promise.reject(e); }
    const align = this.direct ? DIRECT_ALIGN : 1;
    const first = this.start - (this.start % align);
    return new Promise<void>((resolve, reject) => {
      // Slot i % SEND_SLOTS carries the i-th block; blocks are read ahead and sent in order.
      const length = new Array<number>(SEND_SLOTS).fill(-1); // bytes read into the slot, -1 while busy
      const fileAt = new Array<number>(SEND_SLOTS).fill(0);
      let nextRead = 0;
      let nextSend = 0;
      let written = 0; // blocks whose write completed
      let readPos = first;
      let reads = 0;
      let writes = 0;
      let failure: Error | null = null;
      let closed = false;
      let ended = false;
      let over = false;

      /** Once no read and no write uses the slab any more: hand it back, close, settle (once). */
      const finish = (): void => {
        if (over || reads > 0 || (writes > 0 && !closed)) return;
        over = true;
        out.off('close', onClose);
        giveBackSlab(slab);
        this.closeFd(() => {
          this.sending = false;
          this.destroy();
          if (failure) { out.destroy(); reject(failure); } else resolve(); // no error event: the caller reports it
        });
      };
      const stop = (err: Error | null): void => {
        if (err && !failure) failure = err;
        ended = true;
        finish();
      };
      const onClose = (): void => {
        // The connection is gone: its pending writes are cancelled, no slot is in use by it any more.
        closed = true;
        if (!ended) stop(null); else finish();
      };
      out.on('close', onClose);

      const issueReads = (): void => {
        while (!ended && readPos < this.end && nextRead - written < SEND_SLOTS) {
          const block = nextRead++;
          const i = block % SEND_SLOTS;
          const at = readPos;
          const want = Math.min(SEND_SLOT, roundUp(this.end - at, align));
          readPos += want;
          length[i] = -1;
          fileAt[i] = at;
          reads++;
          read(this.fd, slab.slot(i), 0, want, at, (err, n) => {
            reads--;
            if (err) { stop(err); return; }
            length[i] = n;
            if (!ended) sendReady(); else finish();
          });
        }
      };

      const sendReady = (): void => {
        while (!ended && nextSend < nextRead) {
          const i = nextSend % SEND_SLOTS;
          if (length[i] < 0) return;
          const from = Math.max(0, this.start - fileAt[i]);
          const to = Math.min(length[i], this.end - fileAt[i]);
          if (to <= from) { stop(shortFile()); return; }
          const last = fileAt[i] + to >= this.end;
          const short = fileAt[i] + length[i] < Math.min(this.end, fileAt[i] + SEND_SLOT);
          nextSend++;
          writes++;
          out.write(slab.slot(i).subarray(from, to), (err) => {
            writes--;
            written++;
            if (closed || ended) { finish(); return; }
            if (err) { stop(err); return; }
            if (last) { ended = true; out.end(); finish(); return; }
            issueReads();
          });
          if (short && !last) { stop(shortFile()); return; }
        }
      };

      if (out.destroyed || out.writableEnded) { closed = true; ended = true; finish(); return; } // gone before we began
      if (this.start >= this.end) { ended = true; out.end(); finish(); return; }
      issueReads();
    });
  }

  private closeFd(cb: () => void): void {
    if (this.readSlab) { giveBackSlab(this.readSlab); this.readSlab = null; }
    if (!this.fdOpen) { cb(); return; }
    this.fdOpen = false;
    close(this.fd, () => cb());
  }
}

function shortFile(): Error {
  return new Error('Image data ended before its recorded size (the file is shorter).');
}
