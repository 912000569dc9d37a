import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, encrypt, FernetKey } from './fernet.js';
import { initialize, KeyRepositoryError, load, rotate } from './key-repository.js';

const root = mkdtempSync(join(tmpdir(), 'nephos-keyrepo-'));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const freshDir = (): string => join(root, `repo-${++seq}`);

const listing = (dir: string): string[] => readdirSync(dir).sort();
const keyText = (dir: string, id: number | string): string => readFileSync(join(dir, String(id)), 'utf8');
const mode = (path: string): number => statSync(path).mode & 0o777;
/** Makes the directory look untouched for a while, so load() trusts its cache. */
const settle = (dir: string): void => utimesSync(dir, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

test('initialize creates a private directory with staged key 0 and primary key 1, once', () => {
  const dir = join(freshDir(), 'nested', 'fernet-keys');
  assert.equal(initialize(dir), true);
  assert.deepEqual(listing(dir), ['0', '1']);
  assert.equal(mode(dir), 0o700);
  for (const f of ['0', '1']) {
    assert.equal(mode(join(dir, f)), 0o600);
    assert.match(keyText(dir, f), /^[A-Za-z0-9_-]{43}=$/);
    FernetKey.from(keyText(dir, f));
  }
  assert.notEqual(keyText(dir, 0), keyText(dir, 1));
  const before = [keyText(dir, 0), keyText(dir, 1)];
  assert.equal(initialize(dir), false);
  assert.deepEqual([keyText(dir, 0), keyText(dir, 1)], before);
  assert.deepEqual(listing(dir), ['0', '1']);
});

test('initialize only adds a missing staged key to a repository that has keys', () => {
  const dir = freshDir();
  initialize(dir);
  rotate(dir);
  const two = keyText(dir, 2);
  rmSync(join(dir, '0'));
  assert.equal(initialize(dir), true);
  assert.deepEqual(listing(dir), ['0', '1', '2']);
  assert.equal(keyText(dir, 2), two);
});

test('rotate promotes the staged key, stages a new one and prunes the oldest beyond maxActiveKeys', () => {
  const dir = freshDir();
  initialize(dir);
  const [staged, first] = [keyText(dir, 0), keyText(dir, 1)];

  assert.deepEqual(rotate(dir, 3), { primary: 2, purged: [] });
  assert.deepEqual(listing(dir), ['0', '1', '2']);
  assert.equal(keyText(dir, 2), staged, 'the staged key becomes the primary');
  assert.equal(keyText(dir, 1), first);
  assert.ok(![staged, first].includes(keyText(dir, 0)), 'a new staged key');
  assert.equal(mode(join(dir, '0')), 0o600);

  const staged2 = keyText(dir, 0);
  assert.deepEqual(rotate(dir), { primary: 3, purged: [1] });
  assert.deepEqual(listing(dir), ['0', '2', '3']);
  assert.equal(keyText(dir, 3), staged2);

  assert.deepEqual(rotate(dir, 5), { primary: 4, purged: [] });
  assert.deepEqual(rotate(dir, 5), { primary: 5, purged: [] });
  assert.deepEqual(listing(dir), ['0', '2', '3', '4', '5']);
  assert.deepEqual(rotate(dir, 2), { primary: 6, purged: [5, 4, 3, 2] });
  assert.deepEqual(listing(dir), ['0', '6'], 'no temporary files are left behind');

  assert.throws(() => rotate(dir, 1), RangeError);
  rmSync(join(dir, '0'));
  assert.throws(() => rotate(dir), KeyRepositoryError);
});

test('load orders keys primary first, then descending, staged last; all decrypt', () => {
  const dir = freshDir();
  initialize(dir);
  rotate(dir);
  rotate(dir);
  const ring = load(dir);
  assert.deepEqual(ring.ids, [3, 2, 0]);
  assert.equal(ring.keys.length, 3);
  const token = encrypt(ring.keys, 'x');
  assert.equal(decrypt(token, [keyText(dir, 3)]).plaintext.toString(), 'x', 'keys[0] is file 3');
  assert.throws(() => decrypt(token, [keyText(dir, 2), keyText(dir, 0)]));
  ring.ids.forEach((id, i) => {
    const t = encrypt(keyText(dir, id), 'y');
    assert.equal(decrypt(t, [ring.keys[i] as FernetKey]).plaintext.toString(), 'y');
  });
});

test('load caches per directory and sees rotations made behind its back', () => {
  const dir = freshDir();
  initialize(dir);
  const always = { recheckMs: 0 };
  const first = load(dir, always);
  assert.equal(load(dir, always), first, 'unchanged contents keep the same ring, even while the directory is fresh');

  settle(dir);
  const settled = load(dir, always);
  assert.equal(settled, first);
  // A key rewritten in place leaves the directory alone, so the cached ring is still served:
  // proof that a settled directory costs only a stat.
  writeFileSync(join(dir, '1'), encodeKey());
  assert.equal(load(dir, always), settled);

  // Another process's rotation, done with plain file operations.
  renameSync(join(dir, '0'), join(dir, '2'));
  writeFileSync(join(dir, '0.tmp'), encodeKey(), { mode: 0o600 });
  renameSync(join(dir, '0.tmp'), join(dir, '0'));
  assert.equal(load(dir, { recheckMs: 60_000 }), settled, 'within recheckMs the directory is not looked at');
  const rotated = load(dir, always);
  assert.notEqual(rotated, first);
  assert.deepEqual(rotated.ids, [2, 1, 0]);
  assert.equal(decrypt(encrypt(rotated.keys, 'z'), [keyText(dir, 2)]).plaintext.toString(), 'z');
  assert.equal(decrypt(encrypt(keyText(dir, 1), 'z'), rotated.keys).plaintext.toString(), 'z', 'the rewritten key 1 is read too');

  settle(dir);
  assert.equal(load(dir, always), rotated);
  rotate(dir);
  assert.deepEqual(load(dir, { recheckMs: 60_000 }).ids, [3, 2, 0], 'rotations in this process are seen at once');
});

test('load refuses missing, empty and damaged repositories; ignores other files', () => {
  assert.throws(() => load(join(root, 'absent')), KeyRepositoryError);
  const dir = freshDir();
  mkdirSync(dir, { mode: 0o700 });
  assert.throws(() => load(dir), KeyRepositoryError);
  writeFileSync(join(dir, '1'), `${encodeKey()}\n`);
  writeFileSync(join(dir, '0'), '');
  writeFileSync(join(dir, '0.tmp'), 'junk');
  writeFileSync(join(dir, 'README'), 'junk');
  writeFileSync(join(dir, '07'), 'junk');
  mkdirSync(join(dir, '9'));
  assert.deepEqual(load(dir).ids, [1], 'empty key files, directories and other names are skipped');
  writeFileSync(join(dir, '2'), 'not a key');
  assert.throws(() => load(dir, { recheckMs: 0 }), (err) => err instanceof KeyRepositoryError && /2 does not hold a Fernet key/.test(err.message));
});

const encodeKey = (): string => `${Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64url')}=`;

const KEYSTONE_SCRIPT = `
import sys, json
from keystone.common import fernet_utils
import keystone.conf
keystone.conf.CONF([], project='keystone', default_config_files=[])
u = fernet_utils.FernetUtils(sys.argv[1], 3, 'fernet_tokens')
if sys.argv[2] == 'rotate':
    u.rotate_keys()
json.dump(u.load_keys(), sys.stdout)
`;

function keystone(dir: string, action: 'load' | 'rotate'): string[] {
  const run = spawnSync('/usr/bin/python3', ['-c', KEYSTONE_SCRIPT, dir, action], { encoding: 'utf8' });
  if (run.error) assert.fail(`/usr/bin/python3 with keystone is needed for the key repository cross-check: ${run.error.message}`);
  if (run.status !== 0) assert.fail(`keystone FernetUtils failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

test("Keystone's FernetUtils reads and rotates our repositories, and we follow", () => {
  const dir = freshDir();
  initialize(dir);
  rotate(dir);
  const ours = (): string[] => load(dir, { recheckMs: 0 }).ids.map((id) => keyText(dir, id));
  assert.deepEqual(keystone(dir, 'load'), ours());

  const staged = keyText(dir, 0);
  const afterKeystone = keystone(dir, 'rotate');
  assert.deepEqual(listing(dir), ['0', '2', '3']);
  assert.equal(keyText(dir, 3), staged);
  assert.deepEqual(ours(), afterKeystone);
  assert.equal(load(dir, { recheckMs: 0 }).ids[0], 3);

  rotate(dir);
  assert.deepEqual(keystone(dir, 'load'), ours());
});
