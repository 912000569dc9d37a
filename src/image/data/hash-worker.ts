/**
 * Worker thread entry: hashes batches the main thread transfers in, and transfers each batch
 * back for reuse. One worker serves many concurrent jobs, keyed by id.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export type ToWorker =
  | { op: 'start'; id: number; algo: string }
  | { op: 'data'; id: number; buf: ArrayBuffer; len: number }
  | { op: 'end'; id: number }
  | { op: 'abort'; id: number };

export type FromWorker =
  | { op: 'ack'; id: number; buf: ArrayBuffer; len: number }
  | { op: 'digest'; id: number; hex: string }
  | { op: 'error'; id: number; message: string };

const port = parentPort;
if (port !== null) {
  const jobs = new Map<number, Hash>();
  const reply = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  port.on('message', (m: ToWorker) => {
    try {
      switch (m.op) {
        case 'start': jobs.set(m.id, createHash(m.algo)); break;
        case 'data':
          jobs.get(m.id)?.update(new Uint8Array(m.buf, 0, m.len));
          reply({ op: 'ack', id: m.id, buf: m.buf, len: m.len }, [m.buf]);
          break;
        case 'end': {
          const h = jobs.get(m.id);
          jobs.delete(m.id);
          if (h) reply({ op: 'digest', id: m.id, hex: h.digest('hex') });
          else reply({ op: 'error', id: m.id, message: 'unknown hash job' });
          break;
        }
        case 'abort': jobs.delete(m.id); break;
      }
    } catch (e) {
      jobs.delete(m.id);
      reply({ op: 'error', id: m.id, message: (e as Error).message });
    }
  });
}
