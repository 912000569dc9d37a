/**
 * Where image bytes live. A store only moves bytes: which image owns which location, and in
 * which state, is the image service's business. The `file` store is the default; an object-store
 * backend implements the same interface later.
 */
import type { Readable } from 'node:stream';

/** An inclusive byte range, as HTTP Range headers count. */
export interface ByteRange { readonly start: number; readonly end: number }

export interface WriteOptions {
  /**
   * Runs once every byte is durably in a not-yet-visible place, with the byte count. Throwing
   * (e.g. a Fault refusing the data) discards everything written; nothing becomes visible.
   */
  readonly beforeCommit?: (size: number) => void | Promise<void>;
  /** Aborting discards what was written and rejects the write. */
  readonly signal?: AbortSignal;
  /**
   * Replace data already stored under this image id. Off by default, so of two concurrent
   * uploads to one image the second to finish fails with 409 and the first stays intact.
   */
  readonly replace?: boolean;
}

export interface StoredData { readonly location: string; readonly size: number }

/**
 * A write in progress (`ImageStore.openWrite`): the caller appends slab slots, several in
 * flight, then commits once every write is done. Nothing is visible before `commit` succeeds.
 */
export interface DataWriter {
  /**
   * Appends the first `length` bytes of `slot`, a slot of a slab (`./slab.ts`); every write but
   * the last is a whole slot. `done` runs once the slot is no longer used.
   */
  write(slot: Buffer, length: number, done: (err: Error | null) => void): void;
  /** After the last write completed: makes the `size` bytes durable, runs `beforeCommit`, then makes them visible. Fails → nothing kept. */
  commit(size: number): Promise<StoredData>;
  /** Discards everything written; idempotent, also after a failed commit. */
  abort(): Promise<void>;
}

export interface OpenWriteOptions extends WriteOptions {
  /** The slots written will be page-aligned (the store may then bypass the page cache). */
  readonly aligned?: boolean;
}

/** One `/v2/info/stores` entry. */
export interface StoreDescription { readonly id: string; readonly description: string; readonly default?: true }

export interface ImageStore {
  readonly id: string;
  describe(): StoreDescription;
  /**
   * Streams `data` into the store under `imageId`. The data becomes visible (and the location
   * valid) only if the stream ends cleanly and `beforeCommit` passes; on any failure nothing is
   * kept and the promise rejects with the cause.
   */
  write(imageId: string, data: Readable, opts?: WriteOptions): Promise<StoredData>;
  /** The same as `write`, driven slot by slot by the caller (the upload pipeline). */
  openWrite(imageId: string, opts?: OpenWriteOptions): Promise<DataWriter>;
  /** The bytes at `location`, opened before resolving (so a 404 Fault comes before any header); `range` limits them. */
  read(location: string, range?: ByteRange): Promise<Readable>;
  /** Size in bytes, or null when nothing is stored there. */
  stat(location: string): Promise<{ size: number } | null>;
  /** Removes the data; removing what is already gone succeeds. */
  delete(location: string): Promise<void>;
  /** Whether this store is the one that wrote `location` (its scheme and place). */
  owns(location: string): boolean;
}
