/**
 * Test fixtures: real disk images made with qemu-img (and a hand-built ISO 9660 image), and a
 * helper that feeds a buffer to a FormatInspector in chunks of a given size.
 * Used only by the tests beside it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FormatInspector } from './inspector.js';
import type { Inspection } from './types.js';

const exec = promisify(execFile);

export async function qemuImg(...args: string[]): Promise<string> {
  return (await exec('qemu-img', args)).stdout;
}

/** Feeds `data` in `chunk`-byte pieces. */
export function inspectChunks(data: Buffer, chunk: number): Inspection {
  const ins = new FormatInspector();
  for (let i = 0; i < data.length; i += chunk) ins.push(data.subarray(i, i + chunk));
  return ins.finish();
}

/**
 * A minimal ISO 9660 image: 16 empty system sectors, a primary volume descriptor at 32 KiB, the
 * descriptor-set terminator after it, then empty sectors up to `sectors` in total.
 */
export function handmadeIso(sectors = 64): Buffer {
  const SECTOR = 2048;
  const iso = Buffer.alloc(sectors * SECTOR);
  const pvd = iso.subarray(16 * SECTOR, 17 * SECTOR);
  pvd[0] = 1; // primary volume descriptor
  pvd.write('CD001', 1, 'latin1');
  pvd[6] = 1;
  pvd.write('NEPHOS'.padEnd(32), 40, 'latin1'); // volume identifier
  pvd.writeUInt32LE(sectors, 80); // volume space size, both-endian
  pvd.writeUInt32BE(sectors, 84);
  pvd.writeUInt16LE(SECTOR, 128); // logical block size, both-endian
  pvd.writeUInt16BE(SECTOR, 130);
  const term = iso.subarray(17 * SECTOR, 18 * SECTOR);
  term[0] = 255;
  term.write('CD001', 1, 'latin1');
  term[6] = 1;
  return iso;
}

/** A raw disk with a protective MBR and a GPT header, followed by random "partition" bytes. */
export function gptDisk(bytes = 1 << 20): Buffer {
  const disk = randomBytes(bytes);
  disk.fill(0, 0, 34 * 512);
  disk[446 + 4] = 0xee; // protective partition
  disk.writeUInt32LE(1, 446 + 8);
  disk.writeUInt32LE(bytes / 512 - 1, 446 + 12);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  disk.write('EFI PART', 512, 'latin1');
  return disk;
}

/** A raw disk with one classic MBR partition (type 0x83). */
export function mbrDisk(bytes = 1 << 20): Buffer {
  const disk = randomBytes(bytes);
  disk.fill(0, 0, 512);
  disk[446] = 0x80;
  disk[446 + 4] = 0x83;
  disk.writeUInt32LE(64, 446 + 8);
  disk.writeUInt32LE(bytes / 512 - 64, 446 + 12);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  return disk;
}

export async function writeRandom(path: string, bytes: number): Promise<void> {
  await writeFile(path, randomBytes(bytes));
}

export function at(dir: string, name: string): string { return join(dir, name); }
