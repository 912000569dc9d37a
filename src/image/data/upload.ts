/**
 * Streams an image upload into a store while computing `checksum` (md5) and `os_hash_value`
 * (sha512), each on its own worker thread, and the format inspection, all overlapped with the
 * disk writes. Memory stays flat: one slab of slots per upload, the stream paused while every
 * slot is busy, and the inspector keeps only bounded bytes. Any failure (client gone, quota,
 * size mismatch, a refusal by `accept`) leaves nothing in the store.
 */
import type { Readable } from 'node:stream';
import { badRequest, Fault } from '../../platform/http/faults.js';
import { FormatInspector, type Inspection } from '../formats/index.js';
import { OffThreadHash } from './off-thread-hash.js';
import { giveBackSlab, takeSlab } from './slab.js';
import { pumpThroughSlab } from './slab-pump.js';
import type { DataWriter, ImageStore } from './store.js';

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

/** Slots the upload streams through: each full one is written and hashed (twice) in parallel. */
const SLOT = 2 << 20;
const SLOTS = 4;
/** The hash algorithms an upload computes, each on its own worker thread. */
export const UPLOAD_HASHES = ['md5', 'sha512'] as const;

/**
 * Receives `body` (a request stream, chunked or with Content-Length) into `opts.store`. On failure
 * rejects (with a Fault for client errors) and `body` is left unconsumed but not destroyed, so
 * the HTTP layer can still answer the client.
 *
 * The bytes are copied once, from the request's chunks into the slots of a shared slab; from
 * there the store writes them (O_DIRECT), while md5 and sha512 each read them on their own
 * worker thread, and the format inspector sees every chunk on the way in. The main thread only
 * moves bytes; no buffer is allocated per chunk beyond the HTTP parser's own.
 */
export async function receiveImageData(body: Readable, opts: ReceiveOptions): Promise<ReceivedData> {
  const slab = takeSlab(SLOT, SLOTS, true);
  const hashes: OffThreadHash[] = [];
  const inspector = new FormatInspector();
  let writer: DataWriter | null = null;
  try {
    for (const algo of UPLOAD_HASHES) hashes.push(new OffThreadHash(algo, slab));
    const [md5, sha512] = hashes;
    let received: Omit<ReceivedData, 'location'> | null = null;
    const w = writer = await opts.store.openWrite(opts.imageId, {
      signal: opts.signal,
      replace: opts.replace,
      aligned: slab.aligned,
      beforeCommit: async (size) => {
        if (received === null || received.size !== size) throw new Error(`the store committed ${size} bytes, not what was received`);
        if (opts.expectedSize !== undefined && size !== opts.expectedSize) throw sizeMismatch(size, opts.expectedSize);
        await opts.accept?.(received);
      },
    });
    let seen = 0;
    const size = await pumpThroughSlab(body, {
      slab,
      sinks: [
        (slot, _offset, length, done) => w.write(slot, length, done),
        (_slot, offset, length, done) => md5.update(offset, length, done),
        (_slot, offset, length, done) => sha512.update(offset, length, done),
      ],
      onChunk: (chunk) => {
        seen += chunk.length;
        if (opts.maxBytes !== undefined && seen > opts.maxBytes) throw overQuota(opts.maxBytes);
        if (opts.expectedSize !== undefined && seen > opts.expectedSize) throw sizeMismatch(seen, opts.expectedSize, true);
        inspector.push(chunk);
      },
      interrupted,
      signal: opts.signal,
    });
    const [checksum, osHashValue] = await Promise.all([md5.digest(), sha512.digest()]);
    received = { size, checksum, osHashAlgo: 'sha512', osHashValue, inspection: inspector.finish() };
    const stored = await w.commit(size);
    return { ...received, location: stored.location };
  } catch (e) {
    for (const h of hashes) h.abort();
    await writer?.abort();
    throw e;
  } finally {
    giveBackSlab(slab); // the pump settles only once no write and no worker reads the slab
  }
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
