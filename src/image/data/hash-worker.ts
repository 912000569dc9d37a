/**
 * Worker thread entry: hashes slots of slabs shared with the main thread (no copy, no transfer)
 * and acknowledges each, in order, so the main thread can reuse the slot. One worker per hash
 * algorithm serves every upload of the process, keyed by job id.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export type ToWorker =
  | { op: 'start'; id: number; algo: string; memory: ArrayBufferLike }
  | { op: 'data'; id: number; offset: number; length: number }
  | { op: 'end'; id: number }
  | { op: 'abort'; id: number };

export type FromWorker =
  | { op: 'ack'; id: number }
  | { op: 'digest'; id: number; hex: string }
  | { op: 'error'; id: number; message: string }
  | { op: 'closed'; id: number };

interface Job { hash: Hash | null; bytes: Uint8Array; failure: string | null }

const port = parentPort;
if (port !== null) {
  const jobs = new Map<number, Job>();
  const reply = (m: FromWorker): void => port.postMessage(m);
  port.on('message', (m: ToWorker) => {
    const job = jobs.get(m.id);
    switch (m.op) {
      case 'start':
        try {
          jobs.set(m.id, { hash: createHash(m.algo), bytes: new Uint8Array(m.memory), failure: null });
        } catch (e) {
          jobs.set(m.id, { hash: null, bytes: new Uint8Array(0), failure: (e as Error).message });
        }
        break;
      case 'data':
        // Acknowledged whatever happens: the main thread waits for it before reusing the slot.
        if (job?.hash && job.failure === null) {
          try { job.hash.update(job.bytes.subarray(m.offset, m.offset + m.length)); } catch (e) { job.failure = (e as Error).message; }
        }
        reply({ op: 'ack', id: m.id });
        break;
      case 'end':
        jobs.delete(m.id);
        if (!job) reply({ op: 'error', id: m.id, message: 'unknown hash job' });
        else if (job.failure !== null || !job.hash) reply({ op: 'error', id: m.id, message: job.failure ?? 'no hash' });
        else reply({ op: 'digest', id: m.id, hex: job.hash.digest('hex') });
        break;
      case 'abort':
        jobs.delete(m.id);
        reply({ op: 'closed', id: m.id });
        break;
    }
  });
}
