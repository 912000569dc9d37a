import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classOf, DEBIAN_PYTHON, readSubunit, summarize } from './subunit.js';
import type { SubunitTest } from './subunit.js';

const rec = (id: string, status: string, reason = ''): SubunitTest => ({ id, status, reason });

test('classOf strips the test name and the tempest attribute list', () => {
  assert.equal(classOf('tempest.api.identity.v3.test_x.Cls.test_y[id-1,smoke]'), 'tempest.api.identity.v3.test_x.Cls');
  assert.equal(classOf('a.B.test_c'), 'a.B');
});

test('summarize: terminal statuses win over exists, xfail passes, uxsuccess fails', () => {
  const s = summarize([
    rec('a.B.test_1', 'exists'),
    rec('a.B.test_1', 'success'),
    rec('a.B.test_2', 'xfail'),
    rec('a.B.test_3', 'uxsuccess'),
    rec('a.B.test_4', 'skip', 'off'),
    rec('a.B.test_5', 'fail', 'boom'),
  ]);
  assert.deepEqual([s.passed, s.failed, s.skipped], [2, 2, 1]);
  assert.equal(s.outcomes.find((o) => o.id === 'a.B.test_5')?.reason, 'boom');
});

test('summarize: tests of a class skipped in setUpClass count as skipped, not as extra entries', () => {
  const s = summarize([rec('a.C.test_1', 'exists'), rec('a.C.test_2', 'exists'), rec('setUpClass (a.C)', 'skip', 'no service')]);
  assert.deepEqual([s.passed, s.failed, s.skipped], [0, 0, 2]);
  assert.match(s.outcomes[0].reason, /setUpClass: no service/);
});

test('summarize: setUpClass failure fails its tests; tearDownClass failure is its own entry', () => {
  const s = summarize([
    rec('a.D.test_1', 'exists'),
    rec('setUpClass (a.D)', 'fail', 'ConnectionError'),
    rec('a.E.test_1', 'success'),
    rec('tearDownClass (a.E)', 'fail', 'cleanup 404'),
  ]);
  assert.deepEqual([s.passed, s.failed, s.skipped], [1, 2, 0]);
  assert.ok(s.outcomes.some((o) => o.id === 'tearDownClass (a.E)' && o.outcome === 'failed'));
  assert.ok(s.outcomes.some((o) => o.id === 'a.D.test_1' && /ConnectionError/.test(o.reason)));
});

test('summarize: a listed test that never ran counts as failed', () => {
  const s = summarize([rec('a.B.test_1', 'success')], ['a.B.test_1', 'a.B.test_missing']);
  assert.deepEqual([s.passed, s.failed], [1, 1]);
  assert.equal(s.outcomes.find((o) => o.id === 'a.B.test_missing')?.reason, 'did not run');
});

test('readSubunit decodes a real subunit v2 stream (python-subunit)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'subunit-test-'));
  try {
    const gen = [
      'import sys',
      'from subunit import StreamResultToBytes',
      'o = StreamResultToBytes(sys.stdout.buffer)',
      'T = "text/plain; charset=utf8"',
      'o.status(test_id="p.m.Ok.test_ok[id-1]", test_status="exists")',
      'o.status(test_id="p.m.Ok.test_ok[id-1]", test_status="success")',
      'o.status(test_id="p.m.Bad.test_bad", file_name="traceback", file_bytes=b"Traceback (most recent call last):\\n  File \\"x.py\\", line 1\\nValueError: it broke\\n", mime_type=T, eof=True)',
      'o.status(test_id="p.m.Bad.test_bad", test_status="fail")',
      'o.status(test_id="p.m.Gone.test_a", test_status="exists")',
      'o.status(test_id="setUpClass (p.m.Gone)", file_name="reason", file_bytes=b"Service off.", mime_type=T, eof=True)',
      'o.status(test_id="setUpClass (p.m.Gone)", test_status="skip")',
    ].join('\n');
    const stream = execFileSync(DEBIAN_PYTHON, ['-c', gen]);
    const file = join(dir, 's.subunit');
    writeFileSync(file, stream);
    const records = await readSubunit(file);
    assert.ok(records.some((r) => r.id === 'p.m.Bad.test_bad' && r.status === 'fail' && r.reason === 'ValueError: it broke'));
    assert.ok(records.some((r) => r.id === 'setUpClass (p.m.Gone)' && r.reason === 'Service off.'));
    const s = summarize(records);
    assert.deepEqual([s.passed, s.failed, s.skipped], [1, 1, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
