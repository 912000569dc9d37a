// The guest's bootable disk, built without mounting anything (no root, no loop devices): one
// MBR partition holding a FAT file system with SYSLINUX, the kernel and the initramfs. SeaBIOS
// runs the MBR code, which chains to SYSLINUX in the partition, which loads the kernel.
import { writeFileSync, readFileSync, openSync, writeSync, closeSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.js';

const SECTOR = 512;
const PART_START = 2048; // sectors: the usual 1 MiB alignment
const MIB = 1024 * 1024;
const SYSLINUX_MBR = '/usr/lib/syslinux/mbr/mbr.bin';

/** The first sector: SYSLINUX's MBR code, a fixed disk signature and one bootable FAT16 (LBA) partition. */
export function mbrSector(bootCode: Buffer, partSectors: number): Buffer {
  if (bootCode.length > 440) throw new Error(`MBR boot code is ${bootCode.length} bytes (at most 440)`);
  const mbr = Buffer.alloc(SECTOR);
  bootCode.copy(mbr, 0);
  mbr.writeUInt32LE(0x4e455048, 440); // disk signature "NEPH"
  const p = 446;
  mbr[p] = 0x80; // bootable
  Buffer.from([0xfe, 0xff, 0xff]).copy(mbr, p + 1); // CHS: beyond CHS range, use LBA
  mbr[p + 4] = 0x0e; // FAT16 with LBA addressing
  Buffer.from([0xfe, 0xff, 0xff]).copy(mbr, p + 5);
  mbr.writeUInt32LE(PART_START, p + 8);
  mbr.writeUInt32LE(partSectors, p + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

export interface DiskInputs { readonly kernel: string; readonly initrd: string; readonly syslinuxCfg: string; readonly workDir: string }

/** Writes a raw bootable disk image to `out` and returns its size in bytes. */
export async function buildRawDisk(inp: DiskInputs, out: string): Promise<number> {
  const payload = statSync(inp.kernel).size + statSync(inp.initrd).size;
  // FAT overhead + SYSLINUX (~120 KiB) + room for the file system's own slack.
  const partMiB = Math.ceil(payload / MIB) + 3;
  const part = join(inp.workDir, 'part.img');
  const cfg = join(inp.workDir, 'syslinux.cfg');
  writeFileSync(cfg, inp.syslinuxCfg);
  rmSync(part, { force: true });
  // -h: hidden sectors = the partition's start, which SYSLINUX's boot sector relies on.
  await run('mkfs.vfat', ['-C', '-F', '16', '-n', 'NEPHOS', '-i', '4e455048', '-h', String(PART_START), part, String(partMiB * 1024)]);
  await run('syslinux', ['--install', part]);
  await run('mcopy', ['-i', part, inp.kernel, '::/vmlinuz']);
  await run('mcopy', ['-i', part, inp.initrd, '::/initrd']);
  await run('mcopy', ['-i', part, cfg, '::/syslinux.cfg']);
  const partBytes = statSync(part).size;
  const fd = openSync(out, 'w');
  try {
    writeSync(fd, mbrSector(readFileSync(SYSLINUX_MBR), partBytes / SECTOR), 0, SECTOR, 0);
    writeSync(fd, readFileSync(part), 0, partBytes, PART_START * SECTOR);
  } finally {
    closeSync(fd);
  }
  rmSync(part);
  rmSync(cfg);
  return statSync(out).size;
}

/** Converts the raw disk to qcow2 (uncompressed: compression would slow every boot for ~nothing, the payload is compressed already). */
export async function toQcow2(raw: string, out: string): Promise<void> {
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, out], { timeoutMs: 120_000 });
}
