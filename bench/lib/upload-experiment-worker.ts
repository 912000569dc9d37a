/**
 * Hash worker for upload-experiment.ts: hashes either transferred batches (handed back for reuse)
 * or slices of a SharedArrayBuffer ring that the main thread fills (only an index travels).
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

export type ToHashWorker =
  | { op: 'batch'; buf: ArrayBuffer; len: number }
  | { op: 'slot'; slot: number; offset: number; len: number }
  | { op: 'end' };

export type FromHashWorker = { op: 'batch'; buf: ArrayBuffer; len: number } | { op: 'slot'; slot: number } | { op: 'digest'; hex: string };

const port = parentPort;
if (port !== null) {
  const { algo, ring } = workerData as { algo: string; ring?: SharedArrayBuffer };
  const view = ring ? new Uint8Array(ring) : undefined;
  let hash = createHash(algo);
  port.on('message', (m: ToHashWorker) => {
    if (m.op === 'batch') {
      hash.update(new Uint8Array(m.buf, 0, m.len));
      port.postMessage({ op: 'batch', buf: m.buf, len: m.len } satisfies FromHashWorker, [m.buf]);
    } else if (m.op === 'slot') {
      hash.update((view as Uint8Array).subarray(m.offset, m.offset + m.len));
      port.postMessage({ op: 'slot', slot: m.slot } satisfies FromHashWorker);
    } else {
      port.postMessage({ op: 'digest', hex: hash.digest('hex') } satisfies FromHashWorker);
      hash = createHash(algo);
    }
  });
}
