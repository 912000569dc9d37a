/**
 * Formats recognised from one header (or footer) in the captured head/tail bytes.
 * Offsets come from the formats' public descriptions (qemu block drivers, MS VHD spec, ISO 9660).
 */
import { safeU64, type Parsed } from './types.js';

export const VHD_MAGIC = Buffer.from('conectix', 'latin1');
export const QED_MAGIC = Buffer.from('QED\0', 'latin1');
export const LUKS_MAGIC = Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]); // "LUKS\xba\xbe"
export const PLOOP_MAGICS = [Buffer.from('WithoutFreeSpace', 'latin1'), Buffer.from('WithouFreSpacExt', 'latin1')];
const VDI_MAGIC = 0xbeda107f;
const SECTOR = 512;

export function startsWith(buf: Buffer, magic: Buffer, at = 0): boolean {
  return buf.length >= at + magic.length && buf.subarray(at, at + magic.length).equals(magic);
}

/**
 * VHD footer (big-endian, 512 bytes; a copy heads dynamic disks). Like qemu, sizes from Virtual PC
 * and old qemu come from the CHS geometry, others from "current size" @48.
 */
export function parseVhdFooter(footer: Buffer): Parsed {
  if (footer.length < 64) return { virtualSize: null, problems: ['The VHD footer is truncated'] };
  const problems: string[] = [];
  if (footer.readUInt32BE(60) === 4) problems.push('The VHD image is a differencing disk that refers to a parent file');
  const creator = footer.toString('latin1', 28, 32);
  const cylinders = footer.readUInt16BE(56);
  const heads = footer[58];
  const sectors = footer[59];
  const chsMax = cylinders === 65535 && heads === 16 && sectors === 255;
  const useChs = (creator === 'vpc ' || creator === 'qemu') && !chsMax;
  const virtualSize = useChs ? cylinders * heads * sectors * SECTOR : safeU64(footer.readBigUInt64BE(48));
  return { virtualSize, problems };
}

export function isVdi(head: Buffer): boolean {
  return head.length >= 0x44 && head.readUInt32LE(0x40) === VDI_MAGIC;
}

export function parseVdi(head: Buffer): Parsed {
  if (head.length < 0x178) return { virtualSize: null, problems: ['The VDI header is truncated'] };
  return { virtualSize: safeU64(head.readBigUInt64LE(0x170)), problems: [] };
}

/** QED: recognised only to refuse it (no one supports it; it can name a backing file). */
export function parseQed(head: Buffer): Parsed {
  const virtualSize = head.length >= 56 ? safeU64(head.readBigUInt64LE(48)) : null;
  return { virtualSize, problems: ['QED images are not supported'] };
}

/** Parallels/Virtuozzo ("ploop") image: sector count u64 LE @36. */
export function parsePloop(head: Buffer): Parsed {
  if (head.length < 44) return { virtualSize: null, problems: ['The ploop header is truncated'] };
  return { virtualSize: safeU64(head.readBigUInt64LE(36) * BigInt(SECTOR)), problems: [] };
}

/** LUKS: LUKS1 data starts at the payload offset (sectors, u32 BE @104); LUKS2 sizes need its JSON area. */
export function parseLuks(head: Buffer, total: number): Parsed {
  if (head.length < 108 || head.readUInt16BE(6) !== 1) return { virtualSize: null, problems: [] };
  const payload = head.readUInt32BE(104) * SECTOR;
  return { virtualSize: total >= payload ? total - payload : null, problems: [] };
}

/** ISO 9660 / UDF volume descriptors start in the sector at 32 KiB (and the next two). */
export function isIso(head: Buffer): boolean {
  return [0x8001, 0x8801, 0x9001].some((at) => {
    const id = head.toString('latin1', at, at + 5);
    return id === 'CD001' || id === 'NSR02' || id === 'NSR03';
  });
}

/** GPT ("EFI PART" in LBA 1) or a classic MBR partition table. */
export function partitionTable(head: Buffer): 'gpt' | 'mbr' | null {
  if (head.toString('latin1', 512, 520) === 'EFI PART') return 'gpt';
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return null;
  for (let i = 0; i < 4; i++) {
    const entry = 446 + i * 16;
    if ((head[entry] === 0x00 || head[entry] === 0x80) && head[entry + 4] !== 0) return 'mbr';
  }
  return null;
}
