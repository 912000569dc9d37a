import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every `everyMs` until it returns a truthy value, which it returns; fails the test after `ms`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined | null | false>, ms: number, everyMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
