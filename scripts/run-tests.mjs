// Runs every test: lint, unit tests (beside the code), API and end-to-end suites (test/), then the
// identity, network and compute conformance subsets and the whole image suite (tempest) against a freshly started
// all-in-one, checked against the committed baselines. `node scripts/run-tests.mjs unit` runs only the unit and API tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts }).status ?? 1;

function testFiles(dir) {
  const out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    // Heavy suites (`*.full.test.js`) run on demand: NEPHOS_TEST_FULL=1 npm test, or node --test on the file.
    else if (e.endsWith('.test.js') && (!e.endsWith('.full.test.js') || process.env.NEPHOS_TEST_FULL === '1')) out.push(p);
  }
  return out.sort();
}

let failed = 0;
if (!only) {
  console.log('== lint');
  failed |= run('npx', ['eslint', '.']);
}
const unit = testFiles(join(root, 'dist/src'));
const suites = only === 'unit' ? testFiles(join(root, 'dist/test/identity')) : [...testFiles(join(root, 'dist/test')), ...testFiles(join(root, 'dist/bench'))];
console.log(`== node tests (${unit.length + suites.length} files)`);
failed |= run(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...unit, ...suites]);
if (!only) {
  console.log('== identity conformance (tempest subset, baseline check)');
  failed |= run(process.execPath, ['dist/test/conformance/ci.js', 'identity']);
  console.log('== image conformance (all tempest image v2 tests, baseline check)');
  failed |= run(process.execPath, ['dist/test/conformance/ci.js', 'image']);
  console.log('== network conformance (tempest network subset, baseline check)');
  failed |= run(process.execPath, ['dist/test/conformance/ci.js', 'network']);
  console.log('== compute conformance (tempest compute subset, baseline check)');
  failed |= run(process.execPath, ['dist/test/conformance/ci.js', 'compute']);
}
process.exit(failed ? 1 : 0);
