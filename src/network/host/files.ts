/**
 * Config files of the daemons the agent runs (dnsmasq, haproxy). Written atomically (temporary file
 * then rename) so a daemon re-reading on SIGHUP never sees half a file, and only when the content
 * differs, so the caller knows whether anything changed (a reconciler must not reload for nothing).
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Writes `content` to `path` with `mode` when it differs from what is there; true when it wrote. */
export async function writeIfChanged(path: string, content: string, mode: number): Promise<boolean> {
  let same = false;
  try {
    same = (await readFile(path, 'utf8')) === content && ((await stat(path)).mode & 0o777) === mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (same) return false;
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode); // the umask may have narrowed it
  await rename(tmp, path);
  return true;
}

/** Creates a directory (and parents) and gives the directory itself `mode`. */
export async function ensureDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  if (((await stat(path)).mode & 0o777) !== mode) await chmod(path, mode);
}

/**
 * Throws unless every directory from `/` down to `path` lets other users through (o+x). dnsmasq and
 * haproxy drop to `nobody` and then (re)read their files, so a private ancestor (the 0700 state
 * directory, a mkdtemp directory) would make them silently serve nothing.
 */
export async function assertTraversableByOthers(path: string): Promise<void> {
  let dir = resolve(path);
  for (let i = 0; i < 256; i++) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(`${dir} (mode ${(mode & 0o777).toString(8)}) is not traversable by other users: `
        + `dnsmasq/haproxy run as nobody and could not read their files under ${path}`);
    }
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}
