/**
 * A Keystone-compatible Fernet key repository: a directory (mode 0700) of files named by
 * number (mode 0600), each holding one urlsafe base64 key. `0` is the staged key, the highest
 * number the primary (used to encrypt), the rest secondaries; every key decrypts. A repository
 * written by `keystone-manage fernet_setup`/`fernet_rotate` can be used as is, and back.
 */
import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { FernetKey, generateKey } from './fernet.js';

/** How often {@link load} looks at the directory by default. */
export const DEFAULT_RECHECK_MS = 1000;
/** Keystone's default for `[fernet_tokens] max_active_keys`. */
export const DEFAULT_MAX_ACTIVE_KEYS = 3;
const KEY_FILE_NAME = /^(0|[1-9][0-9]{0,8})$/;
const STAGED = '0';
/** A directory changed this recently may change again within the same timestamp tick. */
const RACY_WINDOW_NS = 2_000_000_000n;
const LOAD_ATTEMPTS = 5;
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** A missing, unreadable, empty or damaged key repository, or a failed rotation. */
export class KeyRepositoryError extends Error {
  override readonly name = 'KeyRepositoryError';
}

/** The keys of a repository, primary first. */
export interface KeyRing {
  /** The absolute path of the repository. */
  readonly dir: string;
  /** Key file numbers in the order of `keys`: descending, so the primary first and staged 0 last. */
  readonly ids: readonly number[];
  /** Parsed keys; `keys[0]` encrypts, all of them decrypt. */
  readonly keys: readonly FernetKey[];
}

/** What {@link rotate} did. */
export interface RotationResult {
  /** The number the staged key was promoted to. */
  primary: number;
  /** Numbers of the secondary keys deleted. */
  purged: number[];
}

interface CacheEntry {
  ring: KeyRing;
  texts: readonly string[];
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  /** False while the directory's mtime is too recent to prove nothing changed since. */
  stable: boolean;
  checkedAtMs: number;
}

const cache = new Map<string, CacheEntry>();

/**
 * Creates the directory (0700) if missing and, when it holds no keys, a staged key 0 and a
 * primary key 1. When keys exist but no staged key, adds one. Never overwrites a key file.
 * Returns whether any key was written.
 */
export function initialize(dir: string): boolean {
  const abs = resolve(dir);
  invalidate(abs);
  try {
    if (mkdirSync(abs, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(abs, 0o700);
  } catch (err) {
    throw new KeyRepositoryError(`cannot create key repository ${abs}`, { cause: err });
  }
  const ids = listKeyIds(abs);
  let created = false;
  if (ids.length === 0) created = placeNewKey(abs, '1');
  if (!ids.includes(0)) created = placeNewKey(abs, STAGED) || created;
  if (created) syncDir(abs);
  return created;
}

/**
 * Keystone's rotation: the staged key 0 becomes the primary (highest number + 1), a new staged
 * key 0 replaces it atomically, and the lowest secondaries are deleted so that at most
 * `maxActiveKeys` keys remain, counting the staged one.
 */
export function rotate(dir: string, maxActiveKeys: number = DEFAULT_MAX_ACTIVE_KEYS): RotationResult {
  // Keystone's arithmetic would delete the new primary with fewer than 2.
  if (!Number.isInteger(maxActiveKeys) || maxActiveKeys < 2) throw new RangeError('maxActiveKeys must be an integer of at least 2');
  const abs = resolve(dir);
  invalidate(abs);
  const ids = listKeyIds(abs);
  if (!ids.includes(0)) throw new KeyRepositoryError(`no staged key 0 in ${abs}; initialize the repository first`);
  const primary = Math.max(...ids) + 1;
  const tmp = writeTempKey(abs);
  try {
    promote(abs, String(primary));
    renameSync(tmp, join(abs, STAGED));
  } catch (err) {
    removeQuietly(tmp);
    if (err instanceof KeyRepositoryError) throw err;
    throw new KeyRepositoryError(`key rotation in ${abs} failed`, { cause: err });
  }
  const secondaries = [primary, ...ids.filter((id) => id !== 0)].sort((a, b) => b - a);
  const purged = secondaries.slice(maxActiveKeys - 1);
  for (const id of purged) removeQuietly(join(abs, String(id)));
  syncDir(abs);
  return { primary, purged };
}

/** Options for {@link load}. */
export interface LoadOptions {
  /**
   * How long a cached ring is served before the directory is looked at again; default
   * {@link DEFAULT_RECHECK_MS}. 0 checks on every call. Changes made through this module in
   * this process are seen at once regardless.
   */
  recheckMs?: number;
}

/**
 * The repository's keys, primary first. Cached per directory: once `recheckMs` has passed, a
 * call costs one stat of the directory, and re-reads it only if its mtime, ctime or inode moved
 * (or changed too recently to be sure), so a rotation by another process, which renames files,
 * is picked up without a restart. Keys rewritten in place without touching the directory are
 * not noticed. Throws {@link KeyRepositoryError} when there is no usable key.
 */
export function load(dir: string, options?: LoadOptions): KeyRing {
  const abs = resolve(dir);
  const cached = cache.get(abs);
  const nowMs = Date.now();
  if (cached && nowMs - cached.checkedAtMs < (options?.recheckMs ?? DEFAULT_RECHECK_MS)) return cached.ring;
  const st = statDir(abs);
  if (cached && cached.stable && sameDir(cached, st)) {
    cached.checkedAtMs = nowMs;
    return cached.ring;
  }

  const { ids, texts } = readKeyTexts(abs);
  const entry: CacheEntry = {
    ring: cached && sameTexts(cached, ids, texts) ? cached.ring : makeRing(abs, ids, texts),
    texts,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: st.ino,
    stable: BigInt(nowMs) * 1_000_000n - st.mtimeNs > RACY_WINDOW_NS,
    checkedAtMs: nowMs,
  };
  cache.set(abs, entry);
  return entry.ring;
}

/** Makes the next load of the directory look at it again. */
function invalidate(abs: string): void {
  const entry = cache.get(abs);
  if (entry) {
    entry.checkedAtMs = -Infinity;
    entry.stable = false;
  }
}

type DirStat = { mtimeNs: bigint; ctimeNs: bigint; ino: bigint };

function statDir(abs: string): DirStat {
  try {
    const st = statSync(abs, { bigint: true });
    if (!st.isDirectory()) throw new KeyRepositoryError(`key repository ${abs} is not a directory`);
    return st;
  } catch (err) {
    if (err instanceof KeyRepositoryError) throw err;
    throw new KeyRepositoryError(`cannot read key repository ${abs}`, { cause: err });
  }
}

function sameDir(entry: CacheEntry, st: DirStat): boolean {
  return entry.mtimeNs === st.mtimeNs && entry.ctimeNs === st.ctimeNs && entry.ino === st.ino;
}

function sameTexts(entry: CacheEntry, ids: readonly number[], texts: readonly string[]): boolean {
  return entry.ring.ids.length === ids.length && ids.every((id, i) => entry.ring.ids[i] === id && entry.texts[i] === texts[i]);
}

function makeRing(abs: string, ids: readonly number[], texts: readonly string[]): KeyRing {
  const keys = texts.map((text, i) => {
    try {
      return FernetKey.from(text);
    } catch (err) {
      throw new KeyRepositoryError(`key file ${join(abs, String(ids[i]))} does not hold a Fernet key`, { cause: err });
    }
  });
  return Object.freeze({ dir: abs, ids: Object.freeze([...ids]), keys: Object.freeze(keys) });
}

/** Key file contents by descending number; retried when a rotation moves files mid-read. */
function readKeyTexts(abs: string): { ids: number[]; texts: string[] } {
  for (let attempt = 1; ; attempt++) {
    try {
      const ids: number[] = [];
      const texts: string[] = [];
      for (const id of listKeyIds(abs, true).sort((a, b) => b - a)) {
        const path = join(abs, String(id));
        if (!statSync(path).isFile()) continue;
        // Keystone skips empty key files too.
        const text = readFileSync(path, 'utf8').trim();
        if (text === '') continue;
        ids.push(id);
        texts.push(text);
      }
      if (ids.length === 0) throw new KeyRepositoryError(`no keys in key repository ${abs}; initialize it first`);
      return { ids, texts };
    } catch (err) {
      if (err instanceof KeyRepositoryError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < LOAD_ATTEMPTS) continue;
      throw new KeyRepositoryError(`cannot read key repository ${abs}`, { cause: err });
    }
  }
}

function listKeyIds(abs: string, rethrow = false): number[] {
  try {
    return readdirSync(abs)
      .filter((name) => KEY_FILE_NAME.test(name))
      .map(Number);
  } catch (err) {
    if (rethrow) throw err;
    throw new KeyRepositoryError(`cannot read key repository ${abs}`, { cause: err });
  }
}

/** Writes a fresh key to a private temporary file in the directory and returns its path. */
function writeTempKey(abs: string): string {
  const tmp = join(abs, `${STAGED}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (err) {
    throw new KeyRepositoryError(`cannot write a key in ${abs}`, { cause: err });
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, generateKey());
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(tmp);
    throw new KeyRepositoryError(`cannot write a key in ${abs}`, { cause: err });
  }
  closeSync(fd);
  return tmp;
}

/** Writes a new key under `name` unless that file already exists; returns whether it wrote. */
function placeNewKey(abs: string, name: string): boolean {
  const tmp = writeTempKey(abs);
  try {
    return linkNoReplace(tmp, join(abs, name), () => {
      renameSync(tmp, join(abs, name));
    });
  } catch (err) {
    throw new KeyRepositoryError(`cannot write key ${join(abs, name)}`, { cause: err });
  } finally {
    removeQuietly(tmp);
  }
}

/** Gives the staged key its primary number too; a hard link, so a concurrent rotation cannot overwrite a key. */
function promote(abs: string, name: string): void {
  const staged = join(abs, STAGED);
  const target = join(abs, name);
  const linked = linkNoReplace(staged, target, () => {
    renameSync(staged, target);
  });
  if (!linked) throw new KeyRepositoryError(`key ${target} appeared during rotation; is another rotation running?`);
}

/**
 * Hard-links src to dst, failing (false) when dst exists. On file systems without hard links,
 * runs `fallback` after an existence check (a small race Keystone's plain rename also has).
 */
function linkNoReplace(src: string, dst: string, fallback: () => void): boolean {
  try {
    linkSync(src, dst);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
  }
  if (existsSync(dst)) return false;
  fallback();
  return true;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}

/** Makes the renames durable; best effort where directories cannot be opened. */
function syncDir(abs: string): void {
  try {
    const fd = openSync(abs, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the renames still happened.
  }
}
