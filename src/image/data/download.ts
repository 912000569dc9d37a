/**
 * Image data download with Glance's range semantics:
 * - `Range: bytes=a-b`, `bytes=a-`, `bytes=-n` → 206 with `Content-Range: bytes a-b/size`; an end
 *   past the data is clamped; a suffix at least as long as the data serves it all (still 206).
 * - a start at or past the end, an unparsable header, `b < a` → 416; several ranges → 400
 *   (Glance: "make multiple single-range requests instead").
 * - the legacy request header `Content-Range: bytes a-b/len` is honoured the same way when no
 *   `Range` is given, as Glance does.
 * - otherwise 200; `Content-MD5` carries the md5 hex `checksum`, as Glance sends it.
 */
import type { Readable } from 'node:stream';
import { badRequest, Fault } from '../../platform/http/faults.js';
import type { ByteRange, ImageStore } from './store.js';

export interface Download {
  readonly status: 200 | 206;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

export async function imageDownload(
  store: ImageStore, location: string, size: number, checksum: string | null | undefined,
  rangeHeader?: string, contentRangeHeader?: string,
): Promise<Download> {
  const range = rangeHeader !== undefined ? parseRange(rangeHeader, size)
    : contentRangeHeader !== undefined ? parseContentRange(contentRangeHeader, size)
      : null;
  const body = await store.read(location, range ?? undefined);
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (checksum) headers['Content-MD5'] = checksum;
  if (range === null) {
    headers['Content-Length'] = String(size);
    return { status: 200, headers, body };
  }
  headers['Content-Length'] = String(range.end - range.start + 1);
  headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  return { status: 206, headers, body };
}

/** The inclusive byte range a `Range` header asks of `size` bytes; Faults as Glance answers. */
export function parseRange(header: string, size: number): ByteRange {
  if (header.includes(',')) {
    throw badRequest('Requests with multiple ranges are not supported. You may make multiple single-range requests instead.');
  }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable('Invalid Range header.', size);
  if (m[1] === '') { // suffix: the last n bytes
    const n = Number(m[2]);
    if (size === 0) throw unsatisfiable('Invalid start position in Range header.', size);
    return { start: n < size ? size - n : 0, end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (end < start) throw unsatisfiable('Invalid Range header.', size);
  if (start >= size) throw unsatisfiable(`Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`, size);
  return { start, end: Math.min(end, size - 1) };
}

/** The legacy request form `Content-Range: bytes a-b/len` (len may be `*`). */
export function parseContentRange(header: string, size: number): ByteRange {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (!m) throw unsatisfiable('Invalid Content-Range header.', size);
  const start = Number(m[1]);
  const end = Number(m[2]);
  const len = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (len !== null && end >= len)) throw unsatisfiable('Invalid Content-Range header.', size);
  if (start >= size) throw unsatisfiable(`Invalid start position in Content-Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`, size);
  if (end >= size) throw unsatisfiable(`Invalid stop position in Content-Range header. The stop position MUST be in the inclusive range [0, ${size - 1}].`, size);
  return { start, end };
}

function unsatisfiable(msg: string, size: number): Fault {
  return new Fault(416, msg, { 'Content-Range': `bytes */${size}` }, 'RangeNotSatisfiable');
}
