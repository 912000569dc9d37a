/**
 * Streaming disk-image inspection: fed an upload's chunks in order, it keeps only a few bounded
 * regions (the first 64 KiB, the last 512 bytes, and for VMDK/VHDX the structures their headers
 * point at), so memory does not grow with the image and each chunk costs a few small copies.
 */
import { Region, Tail } from './capture.js';
import { parseQcow2, QCOW2_MAGIC } from './qcow2.js';
import {
  isIso, isVdi, LUKS_MAGIC, parseLuks, parsePloop, parseQed, parseVdi, parseVhdFooter, partitionTable,
  PLOOP_MAGICS, QED_MAGIC, startsWith, VHD_MAGIC,
} from './simple.js';
import type { DetectedFormat, Inspection, Parsed } from './types.js';
import { metadataRegionOffset, REGION_TABLE_OFFSET, TABLE_BYTES, VHDX_MAGIC, vhdxVirtualSize, virtualSizeItemOffset } from './vhdx.js';
import {
  looksLikeDescriptorFile, parseDescriptorFile, parseSparseVmdk, VMDK3_MAGIC, VMDK_MAGIC, vmdkDescriptorLocation,
} from './vmdk.js';

/** Magic numbers, qcow2 header extensions, ISO volume descriptors (at 32 KiB) all lie in here. */
export const HEAD_BYTES = 64 * 1024;
/** A fixed VHD is raw data followed by a 512-byte footer. */
const TAIL_BYTES = 512;

type HeadKind = 'qcow2' | 'qed' | 'vmdk' | 'vmdk3' | 'vhdx' | 'vhd' | 'luks' | 'ploop' | null;

function headKind(head: Buffer): HeadKind {
  if (startsWith(head, QCOW2_MAGIC)) return 'qcow2';
  if (startsWith(head, QED_MAGIC)) return 'qed';
  if (startsWith(head, VMDK_MAGIC)) return 'vmdk';
  if (startsWith(head, VMDK3_MAGIC)) return 'vmdk3';
  if (startsWith(head, VHDX_MAGIC)) return 'vhdx';
  if (startsWith(head, VHD_MAGIC)) return 'vhd';
  if (startsWith(head, LUKS_MAGIC)) return 'luks';
  if (PLOOP_MAGICS.some((m) => startsWith(head, m))) return 'ploop';
  return null;
}

export class FormatInspector {
  private readonly head = new Region(0, HEAD_BYTES);
  private readonly tail = new Tail(TAIL_BYTES);
  /** Follow-up regions named by what the head (or an earlier region) said. */
  private readonly regions = new Map<string, Region>();
  private total = 0;
  private finished = false;
  private kind: HeadKind | undefined;
  private readonly decided = new Set<string>();

  push(chunk: Buffer): void {
    if (this.finished) throw new Error('FormatInspector.push after finish');
    if (chunk.length === 0) return;
    const start = this.total;
    this.total += chunk.length;
    this.tail.push(chunk);
    this.head.feed(chunk, start);
    for (const r of this.regions.values()) r.feed(chunk, start);
    this.plan(chunk, start);
  }

  /** Bytes held, whatever the stream size (for tests and audits). */
  get retainedBytes(): number {
    let n = this.head.retainedBytes + TAIL_BYTES;
    for (const r of this.regions.values()) n += r.retainedBytes;
    return n;
  }

  finish(): Inspection {
    this.finished = true;
    const head = this.head.data;
    const table = partitionTable(head);
    const matches = this.candidates(head);
    if (matches.length === 0) {
      return { format: 'raw', virtualSize: this.total, problems: [], size: this.total, partitionTable: table };
    }
    const format = matches[0];
    const parsed = this.parse(format, head);
    const problems = [...parsed.problems];
    if (matches.length > 1) problems.unshift(`Image data looks like more than one format (${matches.join(', ')})`);
    return { format, virtualSize: parsed.virtualSize, problems, size: this.total, partitionTable: format === 'iso' ? table : null };
  }

  /** Every format the data claims to be; more than one means crafted, ambiguous data. */
  private candidates(head: Buffer): DetectedFormat[] {
    const found: DetectedFormat[] = [];
    const kind = headKind(head);
    if (kind === 'vmdk3') found.push('vmdk');
    else if (kind) found.push(kind);
    else if (looksLikeDescriptorFile(head)) found.push('vmdk');
    if (isVdi(head)) found.push('vdi');
    if (isIso(head)) found.push('iso');
    if (found.length === 0 && this.fixedVhdFooter()) found.push('vhd');
    return found;
  }

  private fixedVhdFooter(): Buffer | null {
    const tail = this.tail.bytes();
    return this.total >= 2 * TAIL_BYTES && startsWith(tail, VHD_MAGIC) ? tail : null;
  }

  private parse(format: DetectedFormat, head: Buffer): Parsed {
    switch (format) {
      case 'qcow2': return parseQcow2(head);
      case 'qed': return parseQed(head);
      case 'vdi': return parseVdi(head);
      case 'ploop': return parsePloop(head);
      case 'luks': return parseLuks(head, this.total);
      case 'iso': return { virtualSize: this.total, problems: [] };
      case 'vhd': return parseVhdFooter(startsWith(head, VHD_MAGIC) ? head.subarray(0, 512) : this.fixedVhdFooter() ?? Buffer.alloc(0));
      case 'vhdx': return { virtualSize: vhdxVirtualSize(this.regions.get('vhdx.size')?.data ?? null), problems: [] };
      case 'vmdk': {
        const kind = headKind(head);
        if (kind === 'vmdk3') return { virtualSize: null, problems: ['VMDK version 3 (COWD) images are not supported'] };
        if (kind === 'vmdk') return parseSparseVmdk(head, this.regions.get('vmdk.descriptor')?.data ?? null);
        return parseDescriptorFile(head);
      }
      case 'raw': return { virtualSize: this.total, problems: [] };
    }
  }

  /** Adds the regions the bytes seen so far point at; new regions also get the current chunk. */
  private plan(chunk: Buffer, start: number): void {
    for (;;) {
      const added = this.nextRegion();
      if (!added) return;
      added.feed(chunk, start);
    }
  }

  /** Each follow-up is decided once (when its input is complete), so later chunks cost nothing. */
  private nextRegion(): Region | null {
    const head = this.head.data;
    if (this.kind === undefined) {
      if (head.length < 8) return null;
      this.kind = headKind(head);
    }
    if (this.kind === 'vmdk' && head.length >= 512) {
      return this.once('vmdk.descriptor', () => vmdkDescriptorLocation(head));
    }
    if (this.kind === 'vhdx') {
      const table = this.once('vhdx.regions', () => ({ offset: REGION_TABLE_OFFSET, length: TABLE_BYTES }));
      if (table) return table;
      const regions = this.regions.get('vhdx.regions');
      if (regions?.complete) {
        const meta = this.once('vhdx.metadata', () => {
          const offset = metadataRegionOffset(regions.data);
          return offset === null ? null : { offset, length: TABLE_BYTES };
        });
        if (meta) return meta;
      }
      const metadata = this.regions.get('vhdx.metadata');
      if (metadata?.complete) {
        return this.once('vhdx.size', () => {
          const item = virtualSizeItemOffset(metadata.data);
          return item === null ? null : { offset: metadata.offset + item, length: 8 };
        });
      }
    }
    return null;
  }

  /** Runs `locate` the first time `name` is asked for; returns the new region, if any. */
  private once(name: string, locate: () => { offset: number; length: number } | null): Region | null {
    if (this.decided.has(name)) return null;
    this.decided.add(name);
    const at = locate();
    if (!at) return null;
    const r = new Region(at.offset, at.length);
    this.regions.set(name, r);
    return r;
  }
}
