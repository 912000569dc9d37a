/**
 * qcow2 header checks (layout: qemu docs/interop/qcow2.txt; big-endian).
 * A qcow2 can make qemu open other host files: a backing file, or an external data file. Both
 * are refused, as is any incompatible feature this code does not know (qemu may act on it).
 */
import { safeU64, type Parsed } from './types.js';

export const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"

const V2_HEADER_LENGTH = 72;
const V3_MIN_HEADER_LENGTH = 104;
const INCOMPAT_CORRUPT = 1n << 1n;
const INCOMPAT_DATA_FILE = 1n << 2n;
const INCOMPAT_KNOWN = 0b11111n; // dirty, corrupt, data file, compression type, extended L2
const EXT_END = 0x00000000;
const EXT_DATA_FILE = 0x44415441;

const DATA_FILE_PROBLEM = 'The qcow2 image uses an external data file';

export function parseQcow2(head: Buffer): Parsed {
  const problems: string[] = [];
  if (head.length < V2_HEADER_LENGTH) return { virtualSize: null, problems: ['The qcow2 header is truncated'] };
  const version = head.readUInt32BE(4);
  const virtualSize = safeU64(head.readBigUInt64BE(24));
  if (virtualSize === null) problems.push('The qcow2 virtual size is implausibly large');
  if (version !== 2 && version !== 3) problems.push(`qcow2 version ${version} is not supported`);
  if (head.readBigUInt64BE(8) !== 0n || head.readUInt32BE(16) !== 0) {
    problems.push('The qcow2 image refers to a backing file');
  }

  let headerLength = V2_HEADER_LENGTH;
  if (version >= 3) {
    if (head.length < V3_MIN_HEADER_LENGTH) return { virtualSize, problems: [...problems, 'The qcow2 header is truncated'] };
    const incompat = head.readBigUInt64BE(72);
    if (incompat & INCOMPAT_CORRUPT) problems.push('The qcow2 image is marked corrupt');
    if (incompat & INCOMPAT_DATA_FILE) problems.push(DATA_FILE_PROBLEM);
    const unknown = incompat & ~INCOMPAT_KNOWN;
    if (unknown) problems.push(`The qcow2 image uses unknown incompatible features (0x${unknown.toString(16)})`);
    headerLength = head.readUInt32BE(100);
    if (headerLength < V3_MIN_HEADER_LENGTH || headerLength % 8 !== 0) {
      return { virtualSize, problems: [...problems, 'The qcow2 header length is invalid'] };
    }
  }

  const clusterBits = head.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) {
    return { virtualSize, problems: [...problems, 'The qcow2 cluster size is invalid'] };
  }
  // Header extensions run from the end of the header to the end of the first cluster (or the
  // backing file name, which qemu stores after them).
  const backingOffset = head.readBigUInt64BE(8);
  let end = 2 ** clusterBits;
  if (backingOffset > BigInt(headerLength) && backingOffset < BigInt(end)) end = Number(backingOffset);
  for (let off = headerLength; off < end;) {
    if (off + 8 > head.length) {
      problems.push('The qcow2 header extensions could not be checked');
      break;
    }
    const type = head.readUInt32BE(off);
    const length = head.readUInt32BE(off + 4);
    if (type === EXT_END) break;
    if (type === EXT_DATA_FILE && !problems.includes(DATA_FILE_PROBLEM)) problems.push(DATA_FILE_PROBLEM);
    off += 8 + Math.ceil(length / 8) * 8;
  }
  return { virtualSize, problems };
}
