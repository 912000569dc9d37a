import type { TempestService } from './tempest-conf.js';

/** What the runner needs to know about one service's tempest suite. */
export interface Suite {
  service: TempestService;
  /** Regex selecting the full suite. */
  regex: string;
  /**
   * File in test/conformance listing the CI subset, one test id per line. A suite without one
   * always runs whole.
   */
  subsetFile?: string;
}

/** Suites the runner knows; compute joins later. */
export const SUITES: Partial<Record<TempestService, Suite>> = {
  identity: {
    service: 'identity',
    regex: '^tempest\\.api\\.identity\\.(admin\\.)?v3',
    subsetFile: 'identity-subset.txt',
  },
  image: {
    service: 'image',
    regex: '^tempest\\.api\\.image\\.v2',
  },
  // 264 tests in tempest 33; small enough to run whole.
  network: {
    service: 'network',
    regex: '^tempest\\.api\\.network',
    subsetFile: 'network-subset.txt',
  },
};

/** Test ids from a subset list: one per line, `#` comments and blank lines ignored. */
export function parseTestList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.length > 0);
}
