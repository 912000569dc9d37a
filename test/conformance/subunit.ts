import { execFile } from 'node:child_process';
import { conformanceFile } from './repo-root.js';

/** Final status of one test as recorded in a subunit v2 stream. */
export interface SubunitTest {
  id: string;
  /** success, fail, skip, xfail, uxsuccess, exists or inprogress. */
  status: string;
  reason: string;
}

/** Per-test outcome after fixture entries (setUpClass/tearDownClass) are folded in. */
export interface TestOutcome {
  id: string;
  outcome: 'passed' | 'failed' | 'skipped';
  reason: string;
}

/** Counts and failures of one run. */
export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  outcomes: TestOutcome[];
}

/** The Python that decodes subunit: Debian's, which has python3-subunit. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Decodes a subunit v2 file into per-test records using the python `subunit` library. */
export function readSubunit(file: string): Promise<SubunitTest[]> {
  return new Promise((resolve, reject) => {
    execFile(
      DEBIAN_PYTHON,
      [conformanceFile('subunit_results.py'), file],
      { maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`decoding ${file} failed: ${err.message}\n${stderr}`));
          return;
        }
        resolve(
          stdout
            .split('\n')
            .filter((l) => l.trim().startsWith('{'))
            .map((l) => JSON.parse(l) as SubunitTest),
        );
      },
    );
  });
}

const FIXTURE = /^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$/;

/** Class path of a test id: `a.b.Cls.test_x[id-…]` -> `a.b.Cls`. */
export function classOf(testId: string): string {
  const bare = testId.replace(/\[.*\]$/, '');
  return bare.slice(0, bare.lastIndexOf('.'));
}

/**
 * Folds fixture entries into test outcomes: tests left at `exists`/`inprogress` take the
 * outcome of their class's setUpClass (skip -> skipped, failure -> failed); tests that
 * never ran for no recorded reason count as failed. A failing fixture that covers no
 * listed test is reported as one failure of its own. `expected` adds ids that must appear
 * even if the stream never mentions them (e.g. a subset list).
 */
export function summarize(records: readonly SubunitTest[], expected: readonly string[] = []): RunSummary {
  const classFixture = new Map<string, SubunitTest>();
  const tests = new Map<string, SubunitTest>();
  const fixtures: { scope: string; rec: SubunitTest }[] = [];
  for (const rec of records) {
    const m = FIXTURE.exec(rec.id);
    if (m) {
      fixtures.push({ scope: m[2], rec });
      if (m[1] === 'setUpClass') classFixture.set(m[2], rec);
      continue;
    }
    const prev = tests.get(rec.id);
    // A later terminal status wins over `exists`/`inprogress`.
    if (!prev || !isPending(rec.status)) tests.set(rec.id, rec);
  }
  for (const id of expected) if (!tests.has(id)) tests.set(id, { id, status: 'exists', reason: '' });

  const outcomes: TestOutcome[] = [];
  for (const rec of [...tests.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    outcomes.push(outcomeOf(rec, classFixture.get(classOf(rec.id))));
  }
  for (const { scope, rec } of fixtures) {
    const failedFixture = rec.status === 'fail' || rec.status === 'uxsuccess';
    const covers = [...tests.keys()].some((id) => classOf(id) === scope || id.startsWith(`${scope}.`));
    const isSetUp = rec.id.startsWith('setUp');
    if (failedFixture && (!isSetUp || !covers)) outcomes.push({ id: rec.id, outcome: 'failed', reason: rec.reason });
  }
  const count = (o: TestOutcome['outcome']) => outcomes.filter((x) => x.outcome === o).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), outcomes };
}

function isPending(status: string): boolean {
  return status === 'exists' || status === 'inprogress';
}

function outcomeOf(rec: SubunitTest, setUp: SubunitTest | undefined): TestOutcome {
  switch (rec.status) {
    case 'success':
    case 'xfail':
      return { id: rec.id, outcome: 'passed', reason: '' };
    case 'skip':
      return { id: rec.id, outcome: 'skipped', reason: rec.reason };
    case 'fail':
    case 'uxsuccess':
      return { id: rec.id, outcome: 'failed', reason: rec.reason || rec.status };
    default:
      if (setUp?.status === 'skip') return { id: rec.id, outcome: 'skipped', reason: `setUpClass: ${setUp.reason}` };
      if (setUp && setUp.status !== 'success') return { id: rec.id, outcome: 'failed', reason: `setUpClass: ${setUp.reason}` };
      return { id: rec.id, outcome: 'failed', reason: 'did not run' };
  }
}
