/**
 * A hash computed on another core over slots of a shared slab: `update(offset, length, done)`
 * posts only the slot's place to the algorithm's worker thread, which hashes the shared memory
 * in place and acknowledges; `done` runs then and the slot may be reused. One worker per
 * algorithm (md5 and sha512 run on different cores, beside the main thread's socket and disk
 * work), started on first use and kept while jobs run; it never holds the process open when idle.
 */
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './hash-worker.js';
import type { Slab } from './slab.js';

type Done = (err: Error | null) => void;

interface Job {
  /** Callbacks of the updates the worker has not acknowledged yet, in order. */
  readonly acks: Done[];
  onDigest(hex: string): void;
  onError(err: Error): void;
}

class HashThread {
  private static readonly threads = new Map<string, HashThread>();
  static for(algo: string): HashThread {
    let t = HashThread.threads.get(algo);
    if (!t) { t = new HashThread(algo); HashThread.threads.set(algo, t); }
    return t;
  }

  private readonly worker = new Worker(new URL('./hash-worker.js', import.meta.url));
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  private constructor(private readonly algo: string) {
    this.worker.on('message', (m: FromWorker) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      switch (m.op) {
        case 'ack': job.acks.shift()?.(null); break;
        case 'digest': this.release(m.id); job.onDigest(m.hex); break;
        case 'error': this.release(m.id); job.onError(new Error(`${this.algo} hash worker: ${m.message}`)); break;
        case 'closed': this.release(m.id); break;
      }
    });
    const fail = (err: Error): void => {
      if (HashThread.threads.get(this.algo) === this) HashThread.threads.delete(this.algo);
      for (const [id, job] of this.jobs) {
        this.jobs.delete(id);
        // The worker is gone, so none of its slots is in use any more.
        for (const done of job.acks.splice(0)) done(err);
        job.onError(err);
      }
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`${this.algo} hash worker exited (${code})`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  start(slab: Slab, job: Job): number {
    const id = this.nextId++;
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(id, job);
    this.send({ op: 'start', id, algo: this.algo, memory: slab.memory });
    return id;
  }

  send(m: ToWorker): void { this.worker.postMessage(m); }

  private release(id: number): void {
    if (this.jobs.delete(id) && this.jobs.size === 0) this.worker.unref();
  }
}

/**
 * Starts the worker threads of these algorithms now rather than on the first upload (a service
 * that will hash uploads keeps them anyway; idle they hold no event loop open).
 */
export function startHashThreads(algos: readonly string[]): void {
  for (const algo of algos) HashThread.for(algo);
}

export class OffThreadHash {
  private readonly thread: HashThread;
  private readonly id: number;
  private readonly acks: Done[] = [];
  private failure: Error | null = null;
  private result: { resolve(hex: string): void; reject(e: Error): void } | null = null;
  private done = false;

  constructor(algo: string, slab: Slab) {
    if (!slab.shared) throw new Error('OffThreadHash needs a shared slab');
    this.thread = HashThread.for(algo);
    this.id = this.thread.start(slab, {
      acks: this.acks,
      onDigest: (hex) => this.result?.resolve(hex),
      onError: (err) => {
        this.failure = err;
        this.result?.reject(err);
      },
    });
  }

  /** Hashes `length` bytes at `offset` of the slab next; `done` runs once they are no longer read. */
  update(offset: number, length: number, done: Done): void {
    if (this.failure || this.done) { queueMicrotask(() => done(this.failure ?? new Error('hash already finished'))); return; }
    this.acks.push(done);
    this.thread.send({ op: 'data', id: this.id, offset, length });
  }

  /** The hex digest of everything added (after every update). */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.done) return Promise.reject(new Error('digest already taken'));
    this.done = true;
    return new Promise<string>((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.send({ op: 'end', id: this.id });
    });
  }

  /** Drops the job (after a failed upload); updates already sent are still acknowledged. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.thread.send({ op: 'abort', id: this.id });
  }
}
