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
  /** Other services the suite's tests use, marked available in tempest.conf (and probed, for network). */
  alsoAvailable?: readonly TempestService[];
}

/** Suites the runner knows. */
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
  // All of tempest.api.compute against real servers (QEMU under TCG); tests of what this cloud has
  // no service for (volumes) or does not do (migrations, consoles) skip by tempest.conf. The CI
  // subset is the API foundation plus a representative set of server tests.
  compute: {
    service: 'compute',
    regex: '^tempest\\.api\\.compute\\.',
    subsetFile: 'compute-subset.txt',
    alsoAvailable: ['image', 'network'],
  },
};

/** Test ids from a subset list: one per line, `#` comments and blank lines ignored. */
export function parseTestList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.length > 0);
}
