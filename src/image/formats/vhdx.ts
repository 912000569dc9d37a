/**
 * VHDX virtual size (MS-VHDX; little-endian). The size lives three hops into the file: the region
 * table at 192 KiB names the metadata region; its table names the "virtual disk size" item.
 * The inspector captures each hop as a 64 KiB region once the previous one is complete.
 */
import { safeU64 } from './types.js';

export const VHDX_MAGIC = Buffer.from('vhdxfile', 'latin1');
export const REGION_TABLE_OFFSET = 192 * 1024;
export const TABLE_BYTES = 64 * 1024;
const MAX_ENTRIES = 2047;

/** GUIDs as stored on disk (first three groups little-endian). */
const METADATA_REGION = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VIRTUAL_DISK_SIZE = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

/** File offset of the metadata region, from the captured region table; null if absent or invalid. */
export function metadataRegionOffset(table: Buffer): number | null {
  if (table.length < 16 || table.toString('latin1', 0, 4) !== 'regi') return null;
  const count = table.readUInt32LE(8);
  if (count > MAX_ENTRIES) return null;
  for (let i = 0; i < count; i++) {
    const at = 16 + i * 32;
    if (at + 32 > table.length) return null;
    if (table.subarray(at, at + 16).equals(METADATA_REGION)) return safeU64(table.readBigUInt64LE(at + 16));
  }
  return null;
}

/** Offset of the virtual-disk-size item relative to the metadata region; null if absent or invalid. */
export function virtualSizeItemOffset(meta: Buffer): number | null {
  if (meta.length < 32 || meta.toString('latin1', 0, 8) !== 'metadata') return null;
  const count = meta.readUInt16LE(10);
  if (count > MAX_ENTRIES) return null;
  for (let i = 0; i < count; i++) {
    const at = 32 + i * 32;
    if (at + 32 > meta.length) return null;
    if (meta.subarray(at, at + 16).equals(VIRTUAL_DISK_SIZE)) return meta.readUInt32LE(at + 16);
  }
  return null;
}

export function vhdxVirtualSize(item: Buffer | null): number | null {
  return item && item.length === 8 ? safeU64(item.readBigUInt64LE(0)) : null;
}
