/** Streams and checks shared by the data tests (not a test file itself). */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/**
 * `total` bytes where byte i is (i + 7·seed) mod 251, in fresh `chunk`-sized buffers (fresh, so
 * anything that holds on to chunks shows in memory); errors instead of passing `failAt`.
 */
export function pattern(total: number, opts: { chunk?: number; failAt?: number; seed?: number } = {}): Readable {
  const chunk = opts.chunk ?? 65536;
  const base = Buffer.allocUnsafe(chunk + 251);
  for (let i = 0; i < base.length; i++) base[i] = i % 251;
  let sent = 0;
  return new Readable({
    read() {
      if (opts.failAt !== undefined && sent >= opts.failAt) { this.destroy(new Error('client went away')); return; }
      if (sent >= total) { this.push(null); return; }
      const n = Math.min(chunk, total - sent);
      const from = (sent + 7 * (opts.seed ?? 0)) % 251;
      const b = Buffer.allocUnsafe(n);
      base.copy(b, 0, from, from + n);
      sent += n;
      this.push(b);
    },
  });
}

/** What the store directory holds besides the (empty) partial area. */
export async function leftovers(dir: string): Promise<string[]> {
  const top = (await readdir(dir)).filter((n) => n !== '.partial');
  const partial = await readdir(join(dir, '.partial'));
  return [...top, ...partial.map((n) => `.partial/${n}`)];
}

