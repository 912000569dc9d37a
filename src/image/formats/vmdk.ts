/**
 * VMDK checks. A VMDK descriptor (text) lists "extents", the files holding the data; qemu opens
 * whatever files they name, and a `parentFileNameHint` names a backing file. Only the single-file
 * sparse variants are accepted (Glance's `vmdk_allowed_types`): their one extent is the image itself.
 * Sparse header layout (little-endian): magic "KDMV", version u32 @4, capacity u64 @12 (sectors),
 * descriptor offset u64 @28 and size u64 @36 (sectors).
 */
import { safeU64, type Parsed } from './types.js';

export const VMDK_MAGIC = Buffer.from('KDMV', 'latin1');
export const VMDK3_MAGIC = Buffer.from('COWD', 'latin1');
export const ALLOWED_CREATE_TYPES: readonly string[] = ['monolithicSparse', 'streamOptimized'];
/** qemu reads at most this much descriptor text (from the descriptor offset to the first NUL). */
export const DESCRIPTOR_MAX = (1 << 20) - 1;

const SECTOR = 512;
const REFERS_TO_FILES = 'The VMDK descriptor refers to other files';

/** Where the embedded descriptor lies, or null when the header has none. */
export function vmdkDescriptorLocation(head: Buffer): { offset: number; length: number } | null {
  if (head.length < 44) return null;
  const sector = safeU64(head.readBigUInt64LE(28));
  const sectors = head.readBigUInt64LE(36);
  if (!sector || sectors === 0n || sector > Number.MAX_SAFE_INTEGER / SECTOR) return null;
  return { offset: sector * SECTOR, length: DESCRIPTOR_MAX };
}

/** A sparse VMDK ("KDMV"): `descriptor` is the text captured at the descriptor offset (null if none). */
export function parseSparseVmdk(head: Buffer, descriptor: Buffer | null): Parsed {
  if (head.length < 64) return { virtualSize: null, problems: ['The VMDK header is truncated'] };
  const problems: string[] = [];
  const version = head.readUInt32LE(4);
  if (version < 1 || version > 3) problems.push(`VMDK version ${version} is not supported`);
  const capacity = head.readBigUInt64LE(12);
  const virtualSize = capacity === 0n ? null : safeU64(capacity * BigInt(SECTOR));
  // With a zero capacity qemu treats the embedded descriptor like a descriptor file and opens its extents.
  if (capacity === 0n) problems.push('The VMDK header has no capacity, so its descriptor would name the data files');
  if (!vmdkDescriptorLocation(head)) {
    problems.push('The VMDK image has no embedded descriptor (it is one part of a multi-file VMDK)');
  } else if (!descriptor || descriptor.length === 0) {
    problems.push('The VMDK descriptor could not be read');
  } else if (descriptorText(descriptor).trim() === '') {
    problems.push('The VMDK image has no embedded descriptor (it is one part of a multi-file VMDK)');
  } else {
    problems.push(...checkDescriptor(descriptor, true).problems);
  }
  return { virtualSize, problems };
}

/** A plain-text descriptor file: never acceptable, its data lives in the files it names. */
export function parseDescriptorFile(text: Buffer): Parsed {
  const d = checkDescriptor(text, false);
  const problems = d.problems.includes(REFERS_TO_FILES) ? d.problems : [REFERS_TO_FILES, ...d.problems];
  return { virtualSize: d.sectors === null ? null : d.sectors * SECTOR, problems };
}

/**
 * qemu's own test for a text descriptor: after comment lines and lines of spaces, the first line
 * is exactly `version=1|2|3`. Data that passes it would be opened as VMDK by a probing qemu.
 */
export function looksLikeDescriptorFile(head: Buffer): boolean {
  const text = head.subarray(0, 2048).toString('latin1');
  if (text.startsWith('# Disk DescriptorFile')) return true;
  let p = 0;
  while (p < text.length) {
    if (text[p] === '#') {
      const nl = text.indexOf('\n', p);
      if (nl < 0) return false;
      p = nl + 1;
      continue;
    }
    if (text[p] === ' ') {
      while (text[p] === ' ') p++;
      if (text[p] === '\r') p++;
      if (text[p] !== '\n') return false;
      p++;
      continue;
    }
    return /^version=[123]\r?\n/.test(text.slice(p, p + 11));
  }
  return false;
}

/** Descriptor text as qemu sees it: up to the first NUL. */
function descriptorText(raw: Buffer): string {
  const nul = raw.indexOf(0);
  return (nul < 0 ? raw : raw.subarray(0, nul)).toString('latin1');
}

interface DescriptorCheck { problems: string[]; sectors: number | null }

const EXTENT = /^(rw|rdonly|noaccess)\s+(\d+)\s+([a-z0-9_]+)(?:\s+"([^"]*)"(?:\s+\d+)?)?$/i;
const FIELD = /^([a-z][a-z0-9_]*)\s*=\s*(.*)$/i;

/** Parses descriptor text cautiously: every line must be understood (as Glance does). */
function checkDescriptor(raw: Buffer, embedded: boolean): DescriptorCheck {
  const text = descriptorText(raw);
  const problems: string[] = [];
  if (/[^\t\n\r\x20-\x7e]/.test(text)) return { problems: ['The VMDK descriptor is not plain text'], sectors: null };

  const fields = new Map<string, string>();
  const extents: { sectors: number; type: string; file: string | undefined }[] = [];
  let badLine = false;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || line.toLowerCase().startsWith('ddb.')) continue;
    const extent = EXTENT.exec(line);
    const field = extent ? null : FIELD.exec(line);
    if (extent) extents.push({ sectors: Number(extent[2]), type: extent[3].toUpperCase(), file: extent[4] });
    else if (field) fields.set(field[1].toLowerCase(), field[2].replace(/^"(.*)"$/, '$1'));
    else badLine = true;
  }
  if (badLine) problems.push('The VMDK descriptor contains lines that are not understood');

  const createType = fields.get('createtype');
  if (createType === undefined) problems.push('The VMDK descriptor has no createType');
  else if (!ALLOWED_CREATE_TYPES.includes(createType)) {
    problems.push(`VMDK create type "${createType.slice(0, 64)}" is not allowed (only ${ALLOWED_CREATE_TYPES.join(' and ')})`);
  }
  if (fields.has('parentfilenamehint')) problems.push('The VMDK image refers to a parent (backing) file');

  const selfOnly = extents.length === 1 && extents[0].type === 'SPARSE' && !/[/\\]/.test(extents[0].file ?? '');
  if (!embedded ? extents.some((e) => e.file !== undefined) : !selfOnly) problems.push(REFERS_TO_FILES);
  const sectors = extents.length ? extents.reduce((sum, e) => sum + e.sectors, 0) : null;
  return { problems, sectors };
}
