import { randomBytes } from 'node:crypto';

const POOL_BYTES = 16 * 1024 * 1024;

/**
 * A large image's bytes, produced on the fly: every chunk is a slice of one random pool at a
 * rotating offset, stamped with its index, so no two chunks are equal (nothing can deduplicate
 * or compress it) and producing it costs only a memcpy. Iterating twice yields the same bytes.
 */
export class ImageData {
  private readonly pool: Buffer;

  constructor(
    readonly size: number,
    readonly chunkSize = 1024 * 1024,
    pool: Buffer = randomBytes(POOL_BYTES),
  ) {
    if (chunkSize <= 16 || chunkSize > pool.length) throw new Error(`chunk size ${chunkSize} must be in (16, ${pool.length}]`);
    this.pool = pool;
  }

  /** Fresh buffers (a writer may keep them queued), `chunkSize` each but the last. */
  *chunks(): Generator<Buffer> {
    const span = this.pool.length - this.chunkSize;
    for (let i = 0, offset = 0; offset < this.size; i++, offset += this.chunkSize) {
      const len = Math.min(this.chunkSize, this.size - offset);
      const start = span === 0 ? 0 : (i * 4099 * 4096) % span;
      const chunk = Buffer.allocUnsafe(len);
      this.pool.copy(chunk, 0, start, start + len);
      if (len >= 16) {
        chunk.writeUInt32BE(0x4e455048, 0); // "NEPH": never a qcow2/vmdk/... magic, always raw
        chunk.writeUInt32BE(i, 4);
      }
      yield chunk;
    }
  }
}
