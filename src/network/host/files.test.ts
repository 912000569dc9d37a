import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertTraversableByOthers, ensureDir, writeIfChanged } from './files.js';

test('writeIfChanged writes only a different content or mode, leaving no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-files-'));
  try {
    const f = join(dir, 'host');
    assert.equal(await writeIfChanged(f, 'a\n', 0o644), true);
    assert.equal(await writeIfChanged(f, 'a\n', 0o644), false);
    assert.equal(await writeIfChanged(f, 'a\n', 0o600), true);
    assert.equal((await stat(f)).mode & 0o777, 0o600);
    assert.equal(await writeIfChanged(f, 'b\n', 0o600), true);
    assert.equal(await readFile(f, 'utf8'), 'b\n');
    assert.deepEqual(await readdir(dir), ['host']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a private ancestor is reported; an open chain passes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-files-'));
  try {
    await ensureDir(join(dir, 'a', 'b'), 0o755);
    await assert.rejects(assertTraversableByOthers(join(dir, 'a', 'b')), (err: Error) => err.message.startsWith(`${dir} (mode 700)`));
    await chmod(dir, 0o755);
    await assertTraversableByOthers(join(dir, 'a', 'b'));
    await mkdir(join(dir, 'p'), { mode: 0o700 });
    await chmod(join(dir, 'p'), 0o700);
    await assert.rejects(assertTraversableByOthers(join(dir, 'p')), /is not traversable by other users/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
