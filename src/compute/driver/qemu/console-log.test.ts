import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { consoleTail, trimConsole } from './console-log.js';

test('console tail: last N lines, a byte bound, NULs dropped, absent file empty', async () => {
  const dir = mkdtempSync('/tmp/nephos-console-test-');
  try {
    const f = join(dir, 'console.log');
    assert.equal(await consoleTail(f), '');
    writeFileSync(f, 'one\ntwo\0\nthree\nfour\n');
    assert.equal(await consoleTail(f), 'one\ntwo\nthree\nfour\n');
    assert.equal(await consoleTail(f, 2), 'three\nfour\n');
    assert.equal(await consoleTail(f, 0), '');
    assert.equal(await consoleTail(f, 99), 'one\ntwo\nthree\nfour\n');
    writeFileSync(f, 'partial line\nwhole\n');
    assert.equal(await consoleTail(f, undefined, 8), 'whole\n', 'a cut first line is dropped');
    writeFileSync(f, 'x'.repeat(3000) + '\nlast\n');
    assert.equal(await trimConsole(f, 1000, 100), true);
    assert.equal(await consoleTail(f), 'last\n');
    assert.ok(statSync(f).size < 100);
    assert.equal(await trimConsole(f, 1000, 100), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
