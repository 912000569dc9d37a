// A writer for the "newc" cpio format the Linux kernel unpacks as its initramfs. Written here
// rather than by running cpio so that device nodes and owners need no root and the archive is
// byte-for-byte reproducible (fixed mtimes, sorted entries).

export type CpioEntry =
  | { readonly path: string; readonly type: 'file'; readonly mode: number; readonly data: Buffer }
  | { readonly path: string; readonly type: 'dir'; readonly mode: number }
  | { readonly path: string; readonly type: 'symlink'; readonly target: string }
  | { readonly path: string; readonly type: 'char'; readonly mode: number; readonly major: number; readonly minor: number };

const S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function record(ino: number, mode: number, name: string, data: Buffer, rdev = { major: 0, minor: 0 }, nlink = 1): Buffer[] {
  const nameBuf = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev.major, rdev.minor, nameBuf.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return [header, nameBuf, pad4(header.length + nameBuf.length), data, pad4(data.length)];
}

/** Normalizes a path to the archive's form: relative, no leading "/" or "./". */
function clean(p: string): string {
  const parts = p.split('/').filter((s) => s && s !== '.');
  if (parts.some((s) => s === '..')) throw new Error(`cpio: path escapes the archive: ${p}`);
  return parts.join('/');
}

/**
 * The archive of `entries`: parent directories are added (mode 0755) when not listed, entries
 * are sorted so that a directory precedes its contents; a later entry for the same path wins.
 */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const byPath = new Map<string, CpioEntry>();
  for (const e of entries) {
    const path = clean(e.path);
    if (!path) continue;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, type: 'dir', mode: 0o755 });
    }
    byPath.set(path, { ...e, path });
  }
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const path of [...byPath.keys()].sort()) {
    const e = byPath.get(path)!;
    switch (e.type) {
      case 'file': chunks.push(...record(ino++, S_IFREG | (e.mode & 0o7777), path, e.data)); break;
      case 'dir': chunks.push(...record(ino++, S_IFDIR | (e.mode & 0o7777), path, Buffer.alloc(0), undefined, 2)); break;
      case 'symlink': chunks.push(...record(ino++, S_IFLNK | 0o777, path, Buffer.from(e.target))); break;
      case 'char': chunks.push(...record(ino++, S_IFCHR | (e.mode & 0o7777), path, Buffer.alloc(0), e)); break;
    }
  }
  chunks.push(...record(0, 0, 'TRAILER!!!', Buffer.alloc(0), undefined, 1));
  return Buffer.concat(chunks);
}
