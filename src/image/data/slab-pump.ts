/**
 * Moves a stream's bytes through the slots of a slab: chunks are copied into the current slot
 * (one memcpy; a chunk is garbage as soon as it is copied), and every full slot, and the last
 * partial one, goes to all sinks at once (e.g. the disk write and two hash workers, which then
 * run in parallel on the same memory). A slot is refilled once every sink is done with it; when
 * no slot is free the stream is paused, so memory stays at one slab whatever the size.
 */
import { finished, type Readable } from 'node:stream';
import type { Slab } from './slab.js';

/** Consumes `length` bytes at the start of `slot` (at `offset` in the slab); calls `done` once it no longer reads them. */
export type SlotSink = (slot: Buffer, offset: number, length: number, done: (err: Error | null) => void) => void;

export interface PumpOptions {
  readonly slab: Slab;
  readonly sinks: readonly SlotSink[];
  /** Sees every chunk first, in order; throwing fails the pump with that error. */
  readonly onChunk?: (chunk: Buffer) => void;
  /** Maps an error or premature close of the stream itself (e.g. a client gone). */
  readonly interrupted?: (err: Error) => Error;
  readonly signal?: AbortSignal;
}

/**
 * Resolves with the byte count once every sink finished every slot. Any failure (of the stream,
 * `onChunk`, a sink, the signal) rejects, but only once no sink uses the slab any more; the
 * stream is then left paused, not destroyed (an HTTP layer may still answer on it).
 */
export function pumpThroughSlab(body: Readable, opts: PumpOptions): Promise<number> {
  const { slab, sinks } = opts;
  const slotSize = slab.slotSize;
  return new Promise<number>((resolve, reject) => {
    const free: number[] = [];
    for (let i = slab.slots - 1; i >= 0; i--) free.push(i);
    const pending = new Array<number>(slab.slots).fill(0);
    let cur = -1;
    let fill = 0;
    let size = 0;
    let busy = 0;
    let ended = false;
    let settled = false;
    let failure: Error | null = null;
    let leftover: Buffer | null = null;
    let copying = false;
    let paused = false;

    const settle = (): void => {
      if (settled || busy > 0) return;
      if (failure) { settled = true; reject(failure); } else if (ended && leftover === null && cur < 0) { settled = true; resolve(size); }
    };
    const fail = (err: Error): void => {
      if (failure) return;
      failure = err;
      detach();
      settle();
    };

    const dispatch = (i: number, length: number): void => {
      busy++;
      pending[i] = sinks.length;
      const slot = slab.slot(i);
      const offset = slab.offsetOf(i);
      const release = (err: Error | null): void => {
        if (err) fail(err);
        if (--pending[i] > 0) return;
        busy--;
        free.push(i);
        if (failure) { settle(); return; }
        if (!copying && leftover) { const l = leftover; leftover = null; copyIn(l); }
        if (!failure && leftover === null) {
          if (ended) flushLast();
          else if (paused) { paused = false; body.resume(); }
        }
        settle();
      };
      for (const sink of sinks) {
        let called = false; // a sink calling back twice must not free the slot early
        sink(slot, offset, length, (err) => { if (!called) { called = true; release(err); } });
      }
    };

    const copyIn = (chunk: Buffer): void => {
      copying = true;
      let off = 0;
      while (off < chunk.length) {
        if (cur < 0) {
          const next = free.pop();
          if (next === undefined) { leftover = chunk.subarray(off); paused = true; body.pause(); break; }
          cur = next;
          fill = 0;
        }
        const n = Math.min(chunk.length - off, slotSize - fill);
        // fill() with a buffer of exactly the range's length is one libc memcpy; copy() into
        // shared memory takes V8's slower element-wise path (measured: ~2x the CPU).
        slab.slot(cur).fill(n === chunk.length ? chunk : chunk.subarray(off, off + n), fill, fill + n);
        fill += n;
        off += n;
        if (fill === slotSize) { const full = cur; cur = -1; dispatch(full, slotSize); }
        if (failure) break;
      }
      copying = false;
    };

    const onData = (chunk: Buffer): void => {
      if (failure) return;
      try { opts.onChunk?.(chunk); } catch (e) { fail(e as Error); return; }
      size += chunk.length;
      copyIn(chunk);
    };

    /** At the end of the stream (and of a leftover chunk), the partial slot goes out. */
    const flushLast = (): void => {
      if (cur < 0 || leftover !== null) return;
      const last = cur;
      cur = -1;
      if (fill > 0) dispatch(last, fill); else free.push(last);
    };
    const onEnd = (): void => {
      ended = true;
      flushLast();
      settle();
    };

    const onAbort = (): void => fail(opts.signal?.reason instanceof Error ? opts.signal.reason : abortError());
    const stopWatching = finished(body, { writable: false }, (err) => {
      if (failure || ended) return;
      if (err) fail(opts.interrupted ? opts.interrupted(err) : err);
      else onEnd();
    });
    function detach(): void {
      stopWatching();
      body.off('data', onData);
      opts.signal?.removeEventListener('abort', onAbort);
      if (!body.destroyed && !body.readableEnded) body.pause();
    }

    if (opts.signal?.aborted) { onAbort(); return; }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData);
    if (body.readableFlowing === false) body.resume(); // paused explicitly before: a 'data' listener alone does not restart it
  });
}

function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}
