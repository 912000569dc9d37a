/**
 * A hash computed on another core: `update()` copies the chunk into a 4 MiB batch and transfers
 * full batches to a shared worker thread, which hands them back for reuse. Bounded memory: at most
 * MAX_IN_FLIGHT bytes wait for the worker; past that `update()` returns a promise to await
 * (backpressure). The copy costs ~0.1 ms/MB, far less than the hash it moves off the main thread.
 */
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './hash-worker.js';

const BATCH = 4 << 20;
const MAX_IN_FLIGHT = 4 * BATCH;

interface Job {
  onAck(buf: ArrayBuffer, len: number): void;
  onDigest(hex: string): void;
  onError(err: Error): void;
}

/** The one worker; started on first use, kept while jobs run, never holds the process open when idle. */
class HashThread {
  private static current: HashThread | null = null;
  static get(): HashThread { return (HashThread.current ??= new HashThread()); }

  private readonly worker = new Worker(new URL('./hash-worker.js', import.meta.url));
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  private constructor() {
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      if (m.op === 'ack') job.onAck(m.buf, m.len);
      else if (m.op === 'digest') { this.release(m.id); job.onDigest(m.hex); }
      else { this.release(m.id); job.onError(new Error(`hash worker: ${m.message}`)); }
    });
    const fail = (err: Error): void => {
      if (HashThread.current === this) HashThread.current = null;
      for (const [id, job] of this.jobs) { this.jobs.delete(id); job.onError(err); }
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
  }

  start(algo: string, job: Job): number {
    const id = this.nextId++;
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(id, job);
    this.send({ op: 'start', id, algo });
    return id;
  }

  send(m: ToWorker, transfer: ArrayBuffer[] = []): void { this.worker.postMessage(m, transfer); }

  release(id: number): void {
    if (this.jobs.delete(id) && this.jobs.size === 0) this.worker.unref();
  }
}

export class OffThreadHash {
  private readonly thread = HashThread.get();
  private readonly id: number;
  private readonly spare: ArrayBuffer[] = [];
  private batch: Uint8Array;
  private fill = 0;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private failure: Error | null = null;
  private result: { resolve(hex: string): void; reject(e: Error): void } | null = null;
  private done = false;

  constructor(algo: string) {
    this.batch = new Uint8Array(BATCH);
    this.id = this.thread.start(algo, {
      onAck: (buf, len) => {
        this.inFlight -= len;
        this.spare.push(buf);
        if (this.drained && this.inFlight <= MAX_IN_FLIGHT / 2) { const d = this.drained; this.drained = null; d(); }
      },
      onDigest: (hex) => this.result?.resolve(hex),
      onError: (err) => {
        this.failure = err;
        this.result?.reject(err);
        if (this.drained) { const d = this.drained; this.drained = null; d(); }
      },
    });
  }

  /** Adds bytes; a returned promise means: wait for it before the next update. */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, BATCH - this.fill);
      this.batch.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === BATCH) this.flush();
    }
    if (this.inFlight <= MAX_IN_FLIGHT) return undefined;
    return new Promise<void>((resolve) => { this.drained = resolve; });
  }

  /** The hex digest of everything added. */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.done) return Promise.reject(new Error('digest already taken'));
    this.done = true;
    this.flush();
    return new Promise<string>((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.send({ op: 'end', id: this.id });
    });
  }

  /** Drops the job (after a failed upload). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.thread.send({ op: 'abort', id: this.id });
    this.thread.release(this.id);
  }

  private flush(): void {
    if (this.fill === 0) return;
    const buf = this.batch.buffer as ArrayBuffer;
    this.thread.send({ op: 'data', id: this.id, buf, len: this.fill }, [buf]);
    this.inFlight += this.fill;
    const reuse = this.spare.pop();
    this.batch = reuse ? new Uint8Array(reuse) : new Uint8Array(BATCH);
    this.fill = 0;
  }
}
