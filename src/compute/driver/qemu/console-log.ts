/**
 * The serial console's log (`console.log`, QEMU appends to it across restarts): its tail for
 * os-getConsoleOutput, and a bound on its size, trimmed before each start.
 */
import { open, rename, stat } from 'node:fs/promises';

/** The most a console output answer holds (Nova's libvirt driver: 100 KiB). */
export const MAX_CONSOLE_BYTES = 100 * 1024;

/** The last `lines` lines (all when undefined) of the last `maxBytes` of the file; '' when absent. */
export async function consoleTail(path: string, lines?: number, maxBytes = MAX_CONSOLE_BYTES): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    // NULs (a guest writing binary to its console) would end a C string in some clients.
    let text = buf.toString('utf8').replaceAll('\0', '');
    if (len < size) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
    if (lines === undefined) return text;
    if (lines <= 0) return '';
    const parts = text.split('\n');
    const trailing = parts.at(-1) === '' ? 1 : 0;
    return parts.slice(Math.max(0, parts.length - trailing - lines)).join('\n');
  } finally {
    await fh.close();
  }
}

/** Keeps the log under `maxBytes`: when larger, only its last `keepBytes` stay (call while QEMU is not running). */
export async function trimConsole(path: string, maxBytes = 1024 * 1024, keepBytes = 256 * 1024): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  const tail = await consoleTail(path, undefined, keepBytes);
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o640);
  try { await fh.writeFile(tail); } finally { await fh.close(); }
  await rename(tmp, path);
  return true;
}
