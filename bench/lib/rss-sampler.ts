import { treeRssKiB } from './rss.js';

/** A running RSS sampler; `stop()` returns the highest summed RSS seen (KiB). */
export interface RssSampler {
  stop(): { peakKiB: number; samples: number };
}

/**
 * Samples the summed RSS of `pids` (and their children) every `intervalMs` until stopped, so a
 * transfer's peak is seen even when memory is released again before it ends.
 */
export function sampleRss(pids: readonly number[], intervalMs = 25): RssSampler {
  let peakKiB = treeRssKiB(pids);
  let samples = 1;
  const timer = setInterval(() => {
    peakKiB = Math.max(peakKiB, treeRssKiB(pids));
    samples++;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peakKiB = Math.max(peakKiB, treeRssKiB(pids));
      return { peakKiB, samples: samples + 1 };
    },
  };
}
