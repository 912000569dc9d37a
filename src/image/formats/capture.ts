/**
 * Bounded capture of a streamed file: fixed byte ranges ("regions") and the last bytes ("tail").
 * Each push costs O(regions + tail size), never O(chunk), so inspecting an upload does not slow it.
 */

/** A byte range [offset, offset + length) of the stream, filled as the chunks that cover it go by. */
export class Region {
  private readonly buf: Buffer;
  private filled = 0;

  constructor(readonly offset: number, length: number) {
    this.buf = Buffer.alloc(Math.max(0, length));
  }

  get complete(): boolean { return this.filled === this.buf.length; }
  /** The bytes captured so far; shorter than asked when the stream ended early (or began after it). */
  get data(): Buffer { return this.buf.subarray(0, this.filled); }
  get retainedBytes(): number { return this.buf.length; }

  /** Copies the part of `chunk` (which starts at stream offset `chunkStart`) that continues this region. */
  feed(chunk: Buffer, chunkStart: number): void {
    if (this.complete) return;
    const want = this.offset + this.filled;
    const chunkEnd = chunkStart + chunk.length;
    // A region whose next byte went by before it was created can never complete: it stays short.
    if (want < chunkStart || want >= chunkEnd) return;
    const n = Math.min(chunkEnd - want, this.buf.length - this.filled);
    chunk.copy(this.buf, this.filled, want - chunkStart, want - chunkStart + n);
    this.filled += n;
  }
}

/** The last `size` bytes of the stream, kept in a ring so each push copies at most `size` bytes. */
export class Tail {
  private readonly ring: Buffer;
  private total = 0;

  constructor(readonly size: number) { this.ring = Buffer.alloc(size); }

  push(chunk: Buffer): void {
    const n = Math.min(chunk.length, this.size);
    const src = chunk.length - n;
    const pos = (this.total + src) % this.size;
    const first = Math.min(n, this.size - pos);
    chunk.copy(this.ring, pos, src, src + first);
    if (first < n) chunk.copy(this.ring, 0, src + first, src + n);
    this.total += chunk.length;
  }

  /** The last min(size, total) bytes, in stream order. */
  bytes(): Buffer {
    const n = Math.min(this.total, this.size);
    const start = (this.total - n) % this.size;
    const out = Buffer.alloc(n);
    const first = Math.min(n, this.size - start);
    this.ring.copy(out, 0, start, start + first);
    if (first < n) this.ring.copy(out, first, 0, n - first);
    return out;
  }
}
