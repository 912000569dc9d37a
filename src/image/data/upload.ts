/**
 * Streams an image upload into a store while computing `checksum` (md5, on this thread),
 * `os_hash_value` (sha512, on the hash worker's core) and the format inspection, all overlapped
 * with the disk writes. Memory stays flat: chunks flow through with stream backpressure and the
 * inspector keeps only bounded bytes. Any failure (client gone, quota, size mismatch, a refusal
 * by `accept`) leaves nothing in the store.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback, finished } from 'node:stream';
import { badRequest, Fault } from '../../platform/http/faults.js';
import { FormatInspector, type Inspection } from '../formats/index.js';
import { OffThreadHash } from './off-thread-hash.js';
import type { ImageStore } from './store.js';

export interface ReceivedData {
  readonly location: string;
  readonly size: number;
  /** md5 hex, Glance's `checksum`. */
  readonly checksum: string;
  readonly osHashAlgo: 'sha512';
  readonly osHashValue: string;
  readonly inspection: Inspection;
}

export interface ReceiveOptions {
  readonly store: ImageStore;
  readonly imageId: string;
  /** Room left in the owner's storage quota, in bytes; more data → 413 and nothing kept. */
  readonly maxBytes?: number;
  /** The image's size when it was set before the upload; other data sizes → 400. */
  readonly expectedSize?: number;
  /** Last check before the data becomes visible; throw (a Fault) to refuse it, then nothing is kept. */
  readonly accept?: (r: Omit<ReceivedData, 'location'>) => void | Promise<void>;
  /** Abort the upload (e.g. the image was deleted meanwhile); nothing is kept. */
  readonly signal?: AbortSignal;
  /** Passed to the store: replace data already stored for this image id. */
  readonly replace?: boolean;
}

/**
 * Receives `body` (a request stream, chunked or with Content-Length) into `opts.store`. On failure
 * rejects (with a Fault for client errors) and `body` is left unconsumed but not destroyed, so
 * the HTTP layer can still answer the client.
 */
export async function receiveImageData(body: Readable, opts: ReceiveOptions): Promise<ReceivedData> {
  const tap = new HashingTap(opts.maxBytes, opts.expectedSize);
  // The tap may fail before the store attaches to it; the store still sees the error then.
  tap.on('error', () => undefined);
  const stopFollowing = followBody(body, tap);
  try {
    const summary: { value?: Omit<ReceivedData, 'location'> } = {};
    const stored = await opts.store.write(opts.imageId, tap, {
      signal: opts.signal,
      replace: opts.replace,
      beforeCommit: async (size) => {
        const received = await tap.summary(size);
        if (opts.expectedSize !== undefined && size !== opts.expectedSize) throw sizeMismatch(size, opts.expectedSize);
        await opts.accept?.(received);
        summary.value = received;
      },
    });
    if (summary.value === undefined) throw new Error('the store committed without calling beforeCommit');
    return { ...summary.value, location: stored.location };
  } finally {
    stopFollowing();
    tap.abort();
  }
}

/** Feeds `body` into `tap`; a body that errors or closes before its end fails the tap. */
function followBody(body: Readable, tap: Transform): () => void {
  body.pipe(tap);
  const cleanup = finished(body, { writable: false }, (err) => {
    if (err && !tap.destroyed) tap.destroy(interrupted(err));
  });
  return () => { cleanup(); body.unpipe(tap); };
}

/** Passes bytes through while counting, hashing and inspecting them. */
class HashingTap extends Transform {
  private size = 0;
  private readonly md5 = createHash('md5');
  private readonly sha512 = new OffThreadHash('sha512');
  private readonly inspector = new FormatInspector();

  constructor(private readonly maxBytes?: number, private readonly expectedSize?: number) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.size += chunk.length;
      if (this.maxBytes !== undefined && this.size > this.maxBytes) throw overQuota(this.maxBytes);
      if (this.expectedSize !== undefined && this.size > this.expectedSize) throw sizeMismatch(this.size, this.expectedSize, true);
      const wait = this.sha512.update(chunk);
      this.md5.update(chunk);
      this.inspector.push(chunk);
      if (wait) wait.then(() => cb(null, chunk), cb);
      else cb(null, chunk);
    } catch (e) {
      cb(e as Error);
    }
  }

  async summary(size: number): Promise<Omit<ReceivedData, 'location'>> {
    if (size !== this.size) throw new Error(`store wrote ${size} bytes, ${this.size} were received`);
    return {
      size,
      checksum: this.md5.digest('hex'),
      osHashAlgo: 'sha512',
      osHashValue: await this.sha512.digest(),
      inspection: this.inspector.finish(),
    };
  }

  abort(): void { this.sha512.abort(); }
}

function overQuota(maxBytes: number): Fault {
  return new Fault(413, `Image exceeds the storage quota: the upload is larger than the ${maxBytes} bytes remaining.`, {}, 'TooLarge');
}

function sizeMismatch(got: number, expected: number, atLeast = false): Fault {
  return badRequest(`Size of uploaded data (${atLeast ? 'at least ' : ''}${got} bytes) does not match the image's size (${expected} bytes).`);
}

function interrupted(err: Error): Error {
  return err instanceof Fault ? err : badRequest(`The image data upload was interrupted: ${err.message}`);
}
