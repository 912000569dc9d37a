/**
 * Process-wide tuning for streaming image data through Node's HTTP server. Node's HTTP parser
 * copies every request body chunk into a new buffer of up to 64 KiB (~16-32k of them per GB
 * uploaded, malloc'ed outside V8's heap), and nothing public avoids that. Two defaults made those
 * short-lived buffers expensive; both measured on 1 GiB curl uploads into the all-in-one after a
 * 25 s idle, as the image bench has between its runs (figures in throughput.md):
 *
 * - V8 swept dead ArrayBuffers on a background thread and meanwhile kept counting their bytes as
 *   external memory; after the process had been idle this forced a full mark-compact every
 *   ~200 ms for the whole upload (5.5-6.4 instead of 3.9-4.3 CPU s/GB, V8's 4 helper threads
 *   busy). With the sweep done inside the scavenge itself the accounting stays current.
 * - glibc returned the freed buffers to the kernel at every scavenge (~800 brk calls per GB) and
 *   faulted fresh zeroed pages in for the next ones: ~0.4 CPU s/GB of page faults. Freeing one
 *   large mmap'ed block makes glibc raise its mmap threshold to that size and its trim threshold
 *   to twice it (mallopt(3), "dynamic mmap threshold"), so a scavenge's worth of freed buffers
 *   stays in the heap for the next ones (12 brk calls per GB). Cost: up to ~62 MiB of freed heap
 *   kept instead of returned while idle.
 *
 * Both apply to the whole process (all services of the all-in-one): scavenges sweep their dead
 * ArrayBuffers themselves, and malloc keeps up to ~62 MiB of freed heap. A launcher that owns the
 * process could set them instead (`node --no-concurrent-array-buffer-sweeping`,
 * `MALLOC_TRIM_THRESHOLD_=67108864`). Idempotent.
 */
import { setFlagsFromString } from 'node:v8';

/** Under glibc's 32 MiB cap for the dynamic threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit). */
const MALLOC_WARM_BLOCK = 31 << 20;
let tuned = false;

export function tuneRuntimeForBulkData(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  // Never touched, so it costs no memory; freed by the next scavenge, which glibc then remembers.
  void Buffer.allocUnsafeSlow(MALLOC_WARM_BLOCK);
}
