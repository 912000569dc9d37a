/**
 * One operation at a time per key (an instance id, an image id): callers queue in arrival order.
 * In-process only — one compute agent drives a host's instances.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier `run` with the same key has finished (whether it failed or not). */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => { release = resolve; });
    const tail = prev.then(() => done);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Whether an operation on `key` is running or queued. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }
}
