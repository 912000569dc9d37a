/**
 * Reusable blocks of memory for the image data path: a slab is `slots` equal slots of `slotSize`
 * bytes in one page-aligned allocation, so slots can be written and read with O_DIRECT, and (when
 * shared) hashed by worker threads without copies or transfers. Slabs come from a small pool:
 * a transfer takes one, uses it for every chunk, gives it back; so 1 GB passing through costs
 * no allocation (and so no garbage collection), and memory stays at one slab per transfer.
 */

/** O_DIRECT wants addresses, offsets and lengths aligned to the device's logical block (≤ 4 KiB). */
export const DIRECT_ALIGN = 4096;

/** Memory pages of WebAssembly, the unit a wasm memory is sized in. */
const WASM_PAGE = 64 * 1024;
/** Idle slabs kept per shape for the next transfer; more are left to the garbage collector. */
const KEEP_IDLE = 2;

export class Slab {
  /** The whole slab; `slot(i)` are views into it. */
  readonly bytes: Buffer;
  /** The memory, to hand to worker threads (a SharedArrayBuffer when shared). */
  readonly memory: ArrayBufferLike;
  /** Whether the memory is page-aligned (then slots suit O_DIRECT). */
  readonly aligned: boolean;
  private readonly views: Buffer[];

  constructor(readonly slotSize: number, readonly slots: number, readonly shared: boolean) {
    const size = slotSize * slots;
    const { memory, aligned } = allocate(size, shared);
    this.memory = memory;
    this.aligned = aligned;
    this.bytes = Buffer.from(memory, 0, size);
    this.views = Array.from({ length: slots }, (_, i) => this.bytes.subarray(i * slotSize, (i + 1) * slotSize));
  }

  /** Slot `i` (a view, `slotSize` bytes). */
  slot(i: number): Buffer { return this.views[i]; }
  /** Byte offset of slot `i` in `memory`. */
  offsetOf(i: number): number { return i * this.slotSize; }
}

/**
 * Page-aligned memory: a WebAssembly memory's buffer starts on a page (V8 maps it with mmap),
 * whereas an ordinary ArrayBuffer comes from malloc with no alignment promise. Without
 * WebAssembly (node --jitless) the slab is unaligned and callers fall back to buffered I/O.
 */
function allocate(size: number, shared: boolean): { memory: ArrayBufferLike; aligned: boolean } {
  if (size % WASM_PAGE === 0 && typeof WebAssembly === 'object') {
    try {
      const pages = size / WASM_PAGE;
      return { memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared }).buffer, aligned: true };
    } catch {
      // Out of address space for wasm memories, or wasm disabled: plain memory below.
    }
  }
  return { memory: shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size), aligned: false };
}

const idle = new Map<string, Slab[]>();
const keyOf = (slotSize: number, slots: number, shared: boolean): string => `${slotSize}:${slots}:${shared}`;

/** A slab of this shape, reused when one is idle. */
export function takeSlab(slotSize: number, slots: number, shared: boolean): Slab {
  return idle.get(keyOf(slotSize, slots, shared))?.pop() ?? new Slab(slotSize, slots, shared);
}

/** Returns a slab nobody uses any more (no write, read or worker still on any of its slots). */
export function giveBackSlab(slab: Slab): void {
  const key = keyOf(slab.slotSize, slab.slots, slab.shared);
  const list = idle.get(key) ?? [];
  if (list.length < KEEP_IDLE) list.push(slab);
  idle.set(key, list);
}

export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
